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

// Values returns the stored fields of a user as text, in a fixed order
// (fieldValue's).
func Values(u *schema.User) []Change {
	out := make([]Change, numFields)
	for i := range out {
		out[i].Field, out[i].New = fieldValue(u, i)
	}
	return out
}

// Diff lists the fields that differ between before and after. For a new
// user (before nil) it lists every field that is not empty or false.
func Diff(before, after *schema.User) []Change {
	if before == nil {
		newVals := Values(after)
		out := newVals[:0]
		for _, c := range newVals {
			if c.New != "" && c.New != "false" {
				out = append(out, c)
			}
		}
		return out
	}
	var out []Change
	for i := range numFields {
		field, old := fieldValue(before, i)
		_, now := fieldValue(after, i)
		if now != old {
			out = append(out, Change{Field: field, Old: old, New: now})
		}
	}
	return out
}

// numFields is how many fields fieldValue knows.
const numFields = 11

// fieldValue returns the i-th stored field of a user (0 ≤ i < numFields)
// and its text: the one list of the fields Values and Diff read, so that
// Diff compares the two users of every row a sync reads, most of them
// unchanged, without building either list.
func fieldValue(u *schema.User, i int) (Field, string) {
	switch i {
	case 0:
		return FFirstName, u.FirstName
	case 1:
		return FLastName, u.LastName
	case 2:
		return FDisplayName, u.DisplayName
	case 3:
		return FUsername, u.Username
	case 4:
		return FPBX, u.PBX
	case 5:
		return FStatus, string(u.Status)
	case 6:
		return FHomeOrg, u.HomeOrg
	case 7:
		return FPremium, strconv.FormatBool(u.Premium)
	case 8:
		return FStandard, strconv.FormatBool(u.Standard)
	case 9:
		return FAdminRole, string(u.AdminRole)
	default:
		return FCCRole, u.CCRole
	}
}
