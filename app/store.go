package app

import (
	"context"

	"github.com/ccbulk/ccbulk/schema"
)

// Store is what the application layer needs from the database. Methods are
// named noun first; each runs in a transaction of its own, and a method
// that changes an organization takes the organization's lock (the one an
// import holds), so that a change never races a run.
//
// Identifiers (organization ids, PBX and role names) are matched without
// regard to letter case. A method that finds no organization returns an
// error wrapping ErrNotFound; refusals are the error types of this package.
type Store interface {
	// SchemaCheck returns an error when the schema is not the one this
	// build of ccbulk expects.
	SchemaCheck(ctx context.Context) error

	// OrgCreate creates a tenant with its PBXes, the System Default CC
	// role and its primary administrator.
	OrgCreate(ctx context.Context, org schema.Org) error
	// OrgGet returns a tenant with its PBXes and primary administrator.
	OrgGet(ctx context.Context, id string) (schema.Org, error)
	// OrgList returns every tenant, by id.
	OrgList(ctx context.Context) ([]schema.Org, error)
	// OrgUpdate changes a tenant's name, seats and PBXes, refusing seats
	// below those in use (*SeatsInUseError).
	OrgUpdate(ctx context.Context, p OrgUpdateParams) (schema.Org, error)
	// OrgPrimarySet hands the primary administrator role to another user
	// (*PrimaryError when that user cannot hold it).
	OrgPrimarySet(ctx context.Context, tenant, email string) error
	// OrgUsage returns the seats in use and the administrators of a tenant.
	OrgUsage(ctx context.Context, tenant string) (Usage, error)

	// ExternalCreate registers an external organization.
	ExternalCreate(ctx context.Context, ext schema.ExternalOrg) error

	// RoleCreate creates a CC role in a tenant.
	RoleCreate(ctx context.Context, tenant string, role schema.CCRole) error
	// RoleList returns the CC roles of a tenant, by name, with how many
	// users hold each.
	RoleList(ctx context.Context, tenant string) ([]RoleInfo, error)
	// RoleUpdate replaces the permissions of a CC role.
	RoleUpdate(ctx context.Context, tenant string, role schema.CCRole) (schema.CCRole, error)
	// RoleDelete deletes a CC role nobody holds (*RoleInUseError
	// otherwise); System Default is never deleted.
	RoleDelete(ctx context.Context, tenant, name string) (string, error)

	// BatchListRecent returns a tenant's latest batches, newest first, at
	// most limit (0: all).
	BatchListRecent(ctx context.Context, tenant string, limit int) ([]schema.Batch, error)
	// BatchGet returns a batch (ErrNotFound when none).
	BatchGet(ctx context.Context, id int64) (schema.Batch, error)
	// ChangeEach calls fn with each user a batch of the tenant changed, in
	// email order, as its audit trail records it.
	ChangeEach(ctx context.Context, tenant string, batch int64, fn func(schema.UserChange) error) error
	// ActivationEach calls fn with each activation request the batch
	// queued that is on record, in email order.
	ActivationEach(ctx context.Context, tenant string, batch int64, fn func(schema.Activation) error) error
	// WithdrawalEach calls fn with the email of each unsent activation
	// request an undo of the batch would withdraw, in email order.
	WithdrawalEach(ctx context.Context, tenant string, batch int64, fn func(email string) error) error

	// TokenStore keeps the API tokens.
	TokenStore
}

// OrgUpdateParams are the changes of an organization update; nil or empty
// fields are left as they are.
type OrgUpdateParams struct {
	ID            string
	Name          *string
	PremiumSeats  *int // -1: no limit
	StandardSeats *int // -1: no limit
	AddPBXes      []string
}

// Usage is what a tenant uses: seats per tier and its administrators.
type Usage struct {
	PremiumUsed    int
	StandardUsed   int
	Administrators []schema.User // every user holding an admin role, by email
}

// RoleInfo is a CC role and how many users hold it.
type RoleInfo struct {
	schema.CCRole
	Holders int
}
