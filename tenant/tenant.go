// Package tenant loads what every run against an organization starts
// from: the tenant (named in any letter case), its PBXes, CC roles and
// seats, the external organizations, and the acting administrator, with
// the checks that the actor may act at all (F-ORG, F-ACTOR). The importer,
// the undo and the exporter share it, and each front end words its refusal
// (RefusedError) in its own terms: it is public so that a front end of
// another module can, and so that importer.Store and exporter.Store embed
// its Store.
package tenant

import (
	"context"
	"errors"
	"fmt"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// Store is what Load reads of the database; internal/store's handles
// (store.DB, store.Conn, store.Tx) implement it.
type Store interface {
	// OrgGet returns a tenant named in any letter case (an error
	// wrapping schema.ErrNotFound when there is none).
	OrgGet(ctx context.Context, id string) (schema.Org, error)
	// ExternalGetAll returns the external organizations by NameKey.
	ExternalGetAll(ctx context.Context) (map[string]schema.ExternalOrg, error)
	// RoleGetAll returns the names of a tenant's CC roles by NameKey.
	RoleGetAll(ctx context.Context, tenant string) (map[string]string, error)
	// UserGet returns one user of a tenant (schema.ErrNotFound when none).
	UserGet(ctx context.Context, tenant, email string) (schema.User, error)
	// SeatsUsed counts the active users of a tenant holding each license.
	SeatsUsed(ctx context.Context, tenant string) (premium, standard int, err error)
}

// Load loads the tenant (named in any letter case; env.Org.ID is the
// id as stored), its roles and seats, the external organizations and the
// actor, and checks the actor may act (F-ORG, F-ACTOR).
func Load(ctx context.Context, q Store, org, actor string) (*rules.Env, error) {
	o, err := q.OrgGet(ctx, org)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, refused(&RefusedError{Reason: NoOrg, Org: org})
	}
	if err != nil {
		return nil, err
	}
	org = o.ID
	env := &rules.Env{Org: o}
	if env.Externals, err = q.ExternalGetAll(ctx); err != nil {
		return nil, err
	}
	if env.CCRoles, err = q.RoleGetAll(ctx, org); err != nil {
		return nil, err
	}
	email, problem := rules.ParseEmail(actor)
	if problem != "" {
		return nil, refused(&RefusedError{Reason: ActorNotEmail, Org: org, Actor: actor, Problem: problem})
	}
	u, err := q.UserGet(ctx, org, email)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, refused(&RefusedError{Reason: ActorNotUser, Org: org, Actor: email})
	}
	if err != nil {
		return nil, err
	}
	if u.Status != schema.StatusActive {
		return nil, refused(&RefusedError{Reason: ActorInactive, Org: org, Actor: email})
	}
	var home schema.ExternalKind
	if u.HomeOrg != "" {
		home = env.Externals[schema.NameKey(u.HomeOrg)].Kind
	}
	kind, ok := rules.KindOf(u.AdminRole, home)
	if !ok {
		return nil, refused(&RefusedError{Reason: ActorNotAdmin, Org: org, Actor: email})
	}
	env.Actor, env.ActorKind = u, kind
	if env.PremiumUsed, env.StandardUsed, err = q.SeatsUsed(ctx, org); err != nil {
		return nil, err
	}
	return env, nil
}

// Reason is why Load refused a run.
type Reason int

// The reasons of a RefusedError.
const (
	NoOrg         Reason = iota // F-ORG: no such organization
	ActorNotEmail               // F-ACTOR: the actor is no email address
	ActorNotUser                // F-ACTOR: the actor is not a user of the organization
	ActorInactive               // F-ACTOR: the actor is inactive
	ActorNotAdmin               // F-ACTOR: the actor holds no admin role
)

// RefusedError is why Load refused a run (F-ORG, F-ACTOR), with the data a
// front end words it from; Load returns it as the cause (Err) of a
// *schema.FileError whose message is this error's. Its message names no
// flag or command: the front end adds its own remedy.
type RefusedError struct {
	Reason  Reason
	Org     string
	Actor   string // the actor's email (as given, for ActorNotEmail)
	Problem string // what is wrong with the actor's email, for ActorNotEmail
}

// Rule is F-ORG or F-ACTOR.
func (e *RefusedError) Rule() schema.RuleID {
	if e.Reason == NoOrg {
		return schema.FOrg
	}
	return schema.FActor
}

func (e *RefusedError) Error() string {
	switch e.Reason {
	case NoOrg:
		return fmt.Sprintf("no organization %q", e.Org)
	case ActorNotEmail:
		return "the acting administrator's email: " + e.Problem
	case ActorNotUser:
		return fmt.Sprintf("%s is not a user of %s", e.Actor, e.Org)
	case ActorInactive:
		return fmt.Sprintf("%s is inactive in %s; only an active administrator can act", e.Actor, e.Org)
	}
	return fmt.Sprintf("%s holds no admin role in %s; only an active administrator can act", e.Actor, e.Org)
}

// refused is F-ACTOR or F-ORG: the run may not start.
func refused(e *RefusedError) error {
	return &schema.FileError{Rule: e.Rule(), Message: e.Error(), Err: e}
}
