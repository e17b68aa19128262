package rules

import (
	"strconv"

	"github.com/ccbulk/ccbulk/schema"
)

// Field names a stored field of a user, as the audit trail records it.
type Field string

// The fields an import may change.
const (
	FFirstName   Field = "first_name"
	FLastName    Field = "last_name"
	FDisplayName Field = "display_name"
	FUsername    Field = "username"
	FPBX         Field = "pbx"
	FStatus      Field = "status"
	FHomeOrg     Field = "home_org"
	FPremium     Field = "premium"
	FStandard    Field = "standard"
	FAdminRole   Field = "admin_role"
	FCCRole      Field = "cc_role"
)

// Change is one field of one user, before and after.
type Change struct {
	Field    Field
	Old, New string
}

// Values returns the stored fields of a user as text, in a fixed order.
func Values(u *schema.User) []Change {
	return []Change{
		{FFirstName, "", u.FirstName},
		{FLastName, "", u.LastName},
		{FDisplayName, "", u.DisplayName},
		{FUsername, "", u.Username},
		{FPBX, "", u.PBX},
		{FStatus, "", string(u.Status)},
		{FHomeOrg, "", u.HomeOrg},
		{FPremium, "", strconv.FormatBool(u.Premium)},
		{FStandard, "", strconv.FormatBool(u.Standard)},
		{FAdminRole, "", string(u.AdminRole)},
		{FCCRole, "", u.CCRole},
	}
}

// Diff lists the fields that differ between before and after. For a new
// user (before nil) it lists every field that is not empty or false.
func Diff(before, after *schema.User) []Change {
	newVals := Values(after)
	if before == nil {
		out := newVals[:0]
		for _, c := range newVals {
			if c.New != "" && c.New != "false" {
				out = append(out, c)
			}
		}
		return out
	}
	oldVals := Values(before)
	var out []Change
	for i, c := range newVals {
		if c.New != oldVals[i].New {
			out = append(out, Change{Field: c.Field, Old: oldVals[i].New, New: c.New})
		}
	}
	return out
}
