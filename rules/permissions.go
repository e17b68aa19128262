package rules

import (
	"fmt"

	"github.com/ccbulk/ccbulk/schema"
)

// ActorKind is a column of the permission table of docs/REFERENCE.md §3, Who may do what: the actor's admin
// role and where the actor comes from.
type ActorKind int

// The actor kinds, in the order of the table's columns.
const (
	FullCustomer      ActorKind = iota // Full Administrator, member of the tenant
	FullPartner                        // Full Administrator from a partner organization
	FullOther                          // Full Administrator from any other organization
	CCServiceCustomer                  // CC Service Administrator, member of the tenant
	CCServiceOther                     // CC Service Administrator from another organization
	ReadOnlyCustomer                   // Read-only Administrator, member of the tenant
	ReadOnlyExternal                   // Read-only Administrator from a partner or other organization

	NumActorKinds
)

var actorKindNames = [NumActorKinds]string{
	FullCustomer:      "a Full Administrator of the customer organization",
	FullPartner:       "a Full Administrator from a partner organization",
	FullOther:         "a Full Administrator from another organization",
	CCServiceCustomer: "a Contact Center Service Administrator of the customer organization",
	CCServiceOther:    "a Contact Center Service Administrator from another organization",
	ReadOnlyCustomer:  "a Read-only Administrator of the customer organization",
	ReadOnlyExternal:  "a Read-only Administrator from another organization",
}

func (k ActorKind) String() string { return actorKindNames[k] }

// KindOf returns the actor kind of an administrator whose home organization
// is of kind home ("" for a member of the tenant). ok is false for a user
// without an admin role. The CC Service Administrator role does not exist
// for partner users (R-EXT-PARTNER); should one exist, it gets the narrower
// rights of CCServiceOther.
func KindOf(role schema.AdminRole, home schema.ExternalKind) (ActorKind, bool) {
	switch role {
	case schema.RoleFull:
		switch home {
		case "":
			return FullCustomer, true
		case schema.KindPartner:
			return FullPartner, true
		}
		return FullOther, true
	case schema.RoleCCService:
		if home == "" {
			return CCServiceCustomer, true
		}
		return CCServiceOther, true
	case schema.RoleReadOnly:
		if home == "" {
			return ReadOnlyCustomer, true
		}
		return ReadOnlyExternal, true
	}
	return 0, false
}

// Capability is a row of the permission table.
type Capability int

// The capabilities of docs/REFERENCE.md §3, Who may do what.
const (
	// CapManageUsers: create users; change names, username, PBX, status,
	// home organization, CC role; copy privileges.
	CapManageUsers Capability = iota
	CapSendActivation
	CapLicenses
	CapCCServiceMember   // grant or revoke CC Service Administrator to a member
	CapCCServiceExternal // grant or revoke CC Service Administrator to an external user
	CapFullOrReadOnly    // grant or revoke Full or Read-only Administrator
	CapImport

	NumCapabilities
)

var capabilityNames = [NumCapabilities]string{
	CapManageUsers:       "create users or change their names, username, PBX, status, home organization, CC role or copied privileges",
	CapSendActivation:    "send activation emails",
	CapLicenses:          "assign Contact Center licenses",
	CapCCServiceMember:   "grant or revoke Contact Center Service Administrator to members of the tenant",
	CapCCServiceExternal: "grant or revoke Contact Center Service Administrator to external users",
	CapFullOrReadOnly:    "grant or revoke Full or Read-only Administrator",
	CapImport:            "import",
}

func (c Capability) String() string { return capabilityNames[c] }

const (
	yes = schema.RuleID("")
	no  = schema.RPerm
)

// permissions is the table of docs/REFERENCE.md §3, Who may do what. A cell is the rule a denied change
// breaks; an empty cell allows it.
var permissions = [NumCapabilities][NumActorKinds]schema.RuleID{
	//                     Full:cust Full:partner Full:other CCS:cust CCS:other        RO:cust RO:ext
	CapManageUsers:       {yes, yes, yes, no, no, no, no},
	CapSendActivation:    {yes, yes, yes, yes, yes, no, no},
	CapLicenses:          {yes, yes, yes, yes, yes, no, no},
	CapCCServiceMember:   {yes, yes, yes, yes, yes, no, no},
	CapCCServiceExternal: {yes, no, no, yes, schema.RExtScope, no, no},
	CapFullOrReadOnly:    {yes, yes, yes, no, no, no, no},
	CapImport:            {yes, yes, yes, yes, yes, no, no},
}

// Allowed returns "" when the actor kind may use the capability, else the
// rule a use breaks (R-PERM, or R-EXT-SCOPE where the table names it).
func Allowed(k ActorKind, c Capability) schema.RuleID { return permissions[c][k] }

// ExportScope is what an actor's export shows.
type ExportScope int

// Export scopes.
const (
	ExportNone   ExportScope = iota
	ExportAll                // every user, every column
	ExportMasked             // Full and Read-only columns blank; external non-CC-Service users left out
)

var exportScopes = [NumActorKinds]ExportScope{
	FullCustomer: ExportAll, FullPartner: ExportAll, FullOther: ExportAll,
	CCServiceCustomer: ExportMasked, CCServiceOther: ExportMasked,
	ReadOnlyCustomer: ExportNone, ReadOnlyExternal: ExportAll,
}

// Export returns what the actor kind's export shows.
func Export(k ActorKind) ExportScope { return exportScopes[k] }

// permMessage explains a denied change and how to get it done.
func permMessage(k ActorKind, c Capability, what string) string {
	return fmt.Sprintf("%s may not %s (%s); leave the cell blank or as it is, or ask a Full Administrator to make this change", k, c, what)
}
