// Package tenant loads what every run against an organization starts
// from: the tenant (named in any letter case), its PBXes, CC roles and
// seats, the external organizations, and the acting administrator, with
// the checks that the actor may act at all (F-ORG, F-ACTOR). The importer,
// the undo and the exporter share it.
package tenant

import (
	"context"
	"errors"
	"fmt"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// Store is what Load reads of the database; internal/store's handles
// (store.DB, store.Conn, store.Tx) implement it.
type Store interface {
	// OrgGet returns a tenant named in any letter case (an error
	// wrapping store.ErrNotFound when there is none).
	OrgGet(ctx context.Context, id string) (schema.Org, error)
	// ExternalGetAll returns the external organizations by NameKey.
	ExternalGetAll(ctx context.Context) (map[string]schema.ExternalOrg, error)
	// RoleGetAll returns the names of a tenant's CC roles by NameKey.
	RoleGetAll(ctx context.Context, tenant string) (map[string]string, error)
	// UserGet returns one user of a tenant (store.ErrNotFound when none).
	UserGet(ctx context.Context, tenant, email string) (schema.User, error)
	// SeatsUsed counts the active users of a tenant holding each license.
	SeatsUsed(ctx context.Context, tenant string) (premium, standard int, err error)
}

// Load loads the tenant (named in any letter case; env.Org.ID is the
// id as stored), its roles and seats, the external organizations and the
// actor, and checks the actor may act (F-ORG, F-ACTOR).
func Load(ctx context.Context, q Store, org, actor string) (*rules.Env, error) {
	o, err := q.OrgGet(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refused(schema.FOrg, "no organization %q; create it with 'ccbulk org create', or check --org", org)
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
		return nil, refused(schema.FActor, "--actor: %s", problem)
	}
	u, err := q.UserGet(ctx, org, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refused(schema.FActor, "%s is not a user of %s; --actor names an active administrator of the organization", email, org)
	}
	if err != nil {
		return nil, err
	}
	if u.Status != schema.StatusActive {
		return nil, refused(schema.FActor, "%s is inactive in %s; only an active administrator can run ccbulk", email, org)
	}
	var home schema.ExternalKind
	if u.HomeOrg != "" {
		home = env.Externals[schema.NameKey(u.HomeOrg)].Kind
	}
	kind, ok := rules.KindOf(u.AdminRole, home)
	if !ok {
		return nil, refused(schema.FActor, "%s holds no admin role in %s; only an active administrator can run ccbulk", email, org)
	}
	env.Actor, env.ActorKind = u, kind
	if env.PremiumUsed, env.StandardUsed, err = q.SeatsUsed(ctx, org); err != nil {
		return nil, err
	}
	return env, nil
}

// refused is F-ACTOR or F-ORG: the run may not start.
func refused(rule schema.RuleID, format string, args ...any) error {
	return &schema.FileError{Rule: rule, Message: fmt.Sprintf(format, args...)}
}
