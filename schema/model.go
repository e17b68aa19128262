package schema

import "strconv"

// AdminRole is the one administrator role a user may hold, or none.
type AdminRole string

// The admin roles of docs/REFERENCE.md §1, The model. RoleNone is a user without an admin role.
const (
	RoleNone       AdminRole = ""
	RoleFull       AdminRole = "full"
	RoleCCService  AdminRole = "cc_service"
	RoleReadOnly   AdminRole = "readonly"
	DefaultCCRole            = "System Default"
	DefaultPBXName           = "main"
)

// Status is a user's account status.
type Status string

// The two user statuses.
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// Label returns the status as a sheet writes it: Active or Inactive.
func (s Status) Label() string {
	switch s {
	case StatusActive:
		return "Active"
	case StatusInactive:
		return "Inactive"
	}
	return string(s)
}

// ExternalKind says what an external organization is to the tenants it serves.
type ExternalKind string

// The kinds of external organization.
const (
	KindPartner ExternalKind = "partner"
	KindOther   ExternalKind = "other"
)

// User is one user of a tenant. Email is the key: trimmed and lower-case.
// HomeOrg is empty for members of the tenant and the id of an external
// organization for external administrators.
type User struct {
	Email       string    `db:"email"`
	FirstName   string    `db:"first_name"`
	LastName    string    `db:"last_name"`
	DisplayName string    `db:"display_name"`
	Username    string    `db:"username"`
	PBX         string    `db:"pbx"`
	Status      Status    `db:"status"`
	HomeOrg     string    `db:"home_org"`
	Premium     bool      `db:"premium"`
	Standard    bool      `db:"standard"`
	AdminRole   AdminRole `db:"admin_role"`
	CCRole      string    `db:"cc_role"`
	Primary     bool      `db:"is_primary"`
	// Version identifies the state of the user's row: the id of the
	// transaction that last wrote it (migration 0010). It is read, never
	// written by a sheet: the database sets it.
	Version int64 `db:"version"`
}

// IsExternal reports whether the user belongs to an external organization.
func (u *User) IsExternal() bool { return u.HomeOrg != "" }

// Org is a tenant: a customer organization.
type Org struct {
	ID            string
	Name          string
	PBXes         []string // in the order they were created; the first is the default
	PremiumSeats  int      // -1: no limit
	StandardSeats int      // -1: no limit
	PrimaryAdmin  string   // email of the primary administrator
}

// HasPBX reports whether the tenant has a PBX of that name.
func (o *Org) HasPBX(name string) bool {
	for _, p := range o.PBXes {
		if p == name {
			return true
		}
	}
	return false
}

// ExternalOrg is a registered organization whose users may administer tenants.
type ExternalOrg struct {
	ID        string       `db:"id"`
	Name      string       `db:"name"`
	Kind      ExternalKind `db:"kind"`
	CCEnabled bool         `db:"cc_enabled"`
}

// CCPermissions are the permissions a CC role may hold, in this order.
var CCPermissions = []string{"view", "write", "create", "modify"}

// CCRole is a named set of permissions of a tenant (docs/REFERENCE.md §1, The model).
type CCRole struct {
	Name        string
	Permissions []string // a subset of CCPermissions, in that order
}

// UserState is a user's state as a saved plan records it: the user's
// version (users.version, migration 0010), the id of the transaction that
// last wrote the row, in decimal. It moves whenever any stored field of
// the user changes, by ccbulk or by plain SQL (the trigger users_version
// covers every field of UserFields and the primary flag), and it is
// read with every user the rules look up, so a dry run records the states
// of the users it plans to change without a query of its own.
func UserState(u *User) string { return strconv.FormatInt(u.Version, 10) }
