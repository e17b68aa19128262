package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// A Version cell (docs/REFERENCE.md §2) names the organization a row was exported from
// and the state of the user it shows: ORG@N, the organization's id as
// stored, then the number of the database transaction that last wrote the
// user (schema.User.Version). It is split at its last "@", so an
// organization id may hold "@" too.

// FormatVersion returns the Version cell of a user of org whose row holds
// version n.
func FormatVersion(org string, n int64) string {
	return org + "@" + strconv.FormatInt(n, 10)
}

// ParseVersion splits a Version cell into its organization and number. ok
// is false when the cell is not of the form ccbulk writes: an organization
// id, "@", and a number of decimal digits (no sign, spaces or leading
// zeros) that fits 63 bits.
func ParseVersion(s string) (org string, n int64, ok bool) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "", 0, false
	}
	org, digits := s[:at], s[at+1:]
	if digits == "" || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return "", 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return org, n, true
}

// OtherOrg returns the organization a row's Version names when it is not
// org (compared without letter case, as organization ids are): such a
// sheet was exported from another organization (F-ORG).
func (in *Input) OtherOrg(org string) (string, bool) {
	if !in.Version.Set {
		return "", false
	}
	named, _, ok := ParseVersion(in.Version.V)
	if !ok || schema.NameKey(named) == schema.NameKey(org) {
		return "", false
	}
	return named, true
}

// IsStale reports whether the row names a Version of the user that is not
// the one the database holds (u): its detail (what changed the user since)
// is then looked up for the row's R-STALE message (Snapshot.Origins).
func (in *Input) IsStale(u *schema.User) bool {
	if !in.Version.Set || u == nil {
		return false
	}
	_, n, ok := ParseVersion(in.Version.V)
	return ok && n != u.Version
}

// VersionOrigin is what wrote a user's current version: the batch (0 when
// the user was changed outside ccbulk's batches), its kind, and the
// fields it changed on the user (schema.UserFields names) with the admin
// role before and after, to name the columns it changed.
type VersionOrigin struct {
	Batch            int64
	Kind             string
	Fields           []string
	OldRole, NewRole schema.AdminRole
}

// versionCheck is what a row's Version says about the row.
type versionCheck int

const (
	versionCurrent  versionCheck = iota // blank, or the user's current Version
	versionRejected                     // R-STALE already: unreadable, another organization's, a deleted user's
	versionStale                        // an older state of the user: R-STALE if the row would change anything
)

// checkVersion is R-STALE: a row whose Version is not the user's current
// one was exported before a later change to the user, and applying it
// could overwrite that change. An unreadable Version, another
// organization's, or a deleted user's is reported here; a mere older state
// is reported by the caller once it knows whether the row would change the
// user at all.
func (c *rowCheck) checkVersion() versionCheck {
	in := c.in
	if !in.Version.Set {
		return versionCurrent // a blank Version checks nothing: the row overwrites
	}
	v := in.Version.V
	org, n, ok := ParseVersion(v)
	env := c.v.env
	switch {
	case !ok:
		c.add(schema.ColVersion, schema.RStale, "%q is not a Version ccbulk wrote (an export writes ORGANIZATION@NUMBER); clear the cell to apply the row to the user as it is now, or export again", v)
	case schema.NameKey(org) != schema.NameKey(env.Org.ID):
		c.add(schema.ColVersion, schema.RStale, "Version %q is from organization %s, not %s; clear the cell, or import the sheet into %s", v, org, env.Org.ID, org)
	case c.before == nil:
		c.add(schema.ColVersion, schema.RStale, "%s no longer exists: the user was deleted after the sheet was exported; clear the Version cell to create the user again, or export again", in.Email)
	case n != c.before.Version:
		return versionStale
	default:
		return versionCurrent
	}
	return versionRejected
}

// rejectStale reports R-STALE on a row written against an older state of
// its user, in place of whatever else the row's checks found: the row is
// not applied.
func (c *rowCheck) rejectStale(parsed int) {
	c.findings = c.findings[:parsed]
	c.after = *c.before
	c.sendActivation = false
	c.add(schema.ColVersion, schema.RStale, "%s", c.staleMessage())
	c.stop = true
}

// staleMessage says what changed the user since the export.
func (c *rowCheck) staleMessage() string {
	const fix = "export again, or clear the Version cell to overwrite"
	o, known := c.snap.Origins[c.in.Email]
	if !known {
		return fmt.Sprintf("%s was changed after the sheet was exported; %s", c.in.Email, fix)
	}
	if o.Batch == 0 {
		return fmt.Sprintf("%s was changed outside ccbulk after the sheet was exported; %s that change", c.in.Email, fix)
	}
	kind := o.Kind
	if kind == "" {
		kind = "batch"
	}
	cols := c.columnsOf(o)
	if len(cols) == 0 {
		return fmt.Sprintf("%s was changed by batch %d (%s) after the sheet was exported; %s it", c.in.Email, o.Batch, kind, fix)
	}
	return fmt.Sprintf("%s was changed by batch %d (%s) after the sheet was exported: %s; %s", c.in.Email, o.Batch, kind, strings.Join(cols, ", "), fix)
}

// columnsOf names the sheet's columns of the fields o changed, in the
// template's order, as the sheet spells them.
func (c *rowCheck) columnsOf(o VersionOrigin) []string {
	var cols []schema.Column
	for _, f := range schema.UserFields {
		if !slices.Contains(o.Fields, f.Name) {
			continue
		}
		if f.Column != schema.NoColumn {
			cols = append(cols, f.Column)
			continue
		}
		// The admin role: the columns of the role it had and the one it got.
		for _, r := range []schema.AdminRole{o.OldRole, o.NewRole} {
			if col, ok := roleColumn[r]; ok && !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	}
	names := make([]string, 0, len(cols))
	for _, col := range sorted(cols) {
		name := c.in.Headers[col]
		if name == "" {
			name = col.Header()
		}
		names = append(names, name)
	}
	return names
}

var roleColumn = map[schema.AdminRole]schema.Column{
	schema.RoleFull:      schema.ColFullAdmin,
	schema.RoleCCService: schema.ColCCServiceAdmin,
	schema.RoleReadOnly:  schema.ColReadOnlyAdmin,
}

func sorted(cols []schema.Column) []schema.Column {
	slices.Sort(cols)
	return cols
}
