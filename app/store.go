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
