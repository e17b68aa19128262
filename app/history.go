package app

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// The history of an organization: its batches and what each changed, as
// the audit trail records them. Each method takes the organization's
// stored id (OrgGet resolves one named in any letter case).

// OrgGet returns an organization named in any letter case (a
// *NotFoundError when there is none).
func (a *Admin) OrgGet(ctx context.Context, id string) (schema.Org, error) {
	org, err := a.Store.OrgGet(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return schema.Org{}, &NotFoundError{What: "organization", Name: id}
	}
	return org, err
}

// Batches returns the organization's latest batches, newest first, at most
// limit (0: all).
func (a *Admin) Batches(ctx context.Context, org string, limit int) ([]schema.Batch, error) {
	return a.Store.BatchListRecent(ctx, org, limit)
}

// Batch returns a batch of the organization (named in any letter case): a
// *NotFoundError when there is none, or it is another organization's.
func (a *Admin) Batch(ctx context.Context, org string, id int64) (schema.Batch, error) {
	b, err := a.Store.BatchGet(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !strings.EqualFold(b.Tenant, org) {
		return schema.Batch{}, &NotFoundError{What: "batch", Name: strconv.FormatInt(id, 10), Org: org}
	}
	return b, err
}

// BatchChanges calls fn with each user the organization's batch changed,
// in email order, reading them one at a time.
func (a *Admin) BatchChanges(ctx context.Context, org string, id int64, fn func(schema.UserChange) error) error {
	return a.Store.ChangeEach(ctx, org, id, fn)
}

// BatchActivations calls fn with each activation request the batch queued
// that is on record, in email order.
func (a *Admin) BatchActivations(ctx context.Context, org string, id int64, fn func(schema.Activation) error) error {
	return a.Store.ActivationEach(ctx, org, id, fn)
}

// BatchWithdrawals calls fn with the email of each unsent activation
// request an undo of the batch would withdraw, in email order.
func (a *Admin) BatchWithdrawals(ctx context.Context, org string, id int64, fn func(email string) error) error {
	return a.Store.WithdrawalEach(ctx, org, id, fn)
}
