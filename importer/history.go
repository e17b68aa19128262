package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// What a change did to a user, as a batch's history shows it.
const (
	ChangeCreated = "created"
	ChangeChanged = "changed"
	ChangeDeleted = "deleted"
)

// ColumnChange is one column of one user that a batch changed, with its
// values as the sheet writes them (TRUE/FALSE, Active/Inactive); Old is ""
// for a user the batch created, New is "" for one it deleted.
type ColumnChange struct {
	Email  string
	Change string        // ChangeCreated, ChangeChanged or ChangeDeleted
	Column schema.Column // the sheet's column
	Field  string        // the stored field the audit trail names (admin_role spans three columns)
	Old    string
	New    string
}

// fieldColumns maps the audit trail's fields to the sheet's columns; the
// admin role is shown in three columns.
var fieldColumns = map[string]schema.Column{
	"first_name": schema.ColFirstName, "last_name": schema.ColLastName, "display_name": schema.ColDisplayName,
	"username": schema.ColUsername, "pbx": schema.ColPBX, "status": schema.ColStatus, "home_org": schema.ColHomeOrg,
	"premium": schema.ColPremium, "standard": schema.ColStandard, "cc_role": schema.ColCCRole,
}

// roleColumns are the admin roles' columns, in the template's order.
var roleColumns = []struct {
	role schema.AdminRole
	col  schema.Column
}{
	{schema.RoleFull, schema.ColFullAdmin},
	{schema.RoleCCService, schema.ColCCServiceAdmin},
	{schema.RoleReadOnly, schema.ColReadOnlyAdmin},
}

// Columns lists the columns an audit row changed, in the template's order,
// with values as the sheet writes them.
func Columns(c schema.UserChange) []ColumnChange {
	kind := ChangeChanged
	switch {
	case c.Created:
		kind = ChangeCreated
	case c.Deleted:
		kind = ChangeDeleted
	}
	vals := c.New
	if c.Deleted {
		vals = c.Old
	}
	var out []ColumnChange
	for _, f := range schema.AuditFields() {
		if _, ok := vals[f]; !ok {
			continue
		}
		old, nw := c.Old[f], c.New[f]
		if f == "admin_role" {
			for _, rc := range roleColumns {
				r := string(rc.role)
				if old != r && nw != r {
					continue
				}
				cc := ColumnChange{Email: c.Email, Change: kind, Column: rc.col, Field: f, Old: boolText(old == r), New: boolText(nw == r)}
				if c.Created {
					cc.Old = ""
				}
				if c.Deleted {
					cc.New = ""
				}
				out = append(out, cc)
			}
			continue
		}
		col, ok := fieldColumns[f]
		if !ok {
			continue
		}
		cc := ColumnChange{Email: c.Email, Change: kind, Column: col, Field: f, Old: sheetValue(f, old), New: sheetValue(f, nw)}
		if c.Created {
			cc.Old = ""
		}
		if c.Deleted {
			cc.New = ""
		}
		out = append(out, cc)
	}
	return out
}

// Columns lists the columns a planned change sets, in the template's
// order, with values as the sheet writes them: for a user it creates, the
// columns it fills (Old is ""); otherwise each changed column's old and
// new values, the admin role as its TRUE/FALSE columns.
func (p PlanItem) Columns() []ColumnChange {
	c := schema.UserChange{Email: p.Email, Created: p.Action == "create", Old: map[string]string{}, New: map[string]string{}}
	for _, ch := range p.Changes {
		c.Old[string(ch.Field)], c.New[string(ch.Field)] = ch.Old, ch.New
	}
	return Columns(c)
}

func boolText(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// sheetValue writes a stored value of field f as the sheet does.
func sheetValue(f, v string) string {
	switch f {
	case "premium", "standard":
		switch v {
		case "true":
			return "TRUE"
		case "false":
			return "FALSE"
		}
	case "status":
		switch schema.Status(v) {
		case schema.StatusActive:
			return "Active"
		case schema.StatusInactive:
			return "Inactive"
		}
	}
	return v
}

// Reversed is the change an undo of c makes: old and new swapped, a created
// user deleted, a deleted one re-created.
func Reversed(c schema.UserChange) schema.UserChange {
	c.Old, c.New = c.New, c.Old
	c.Created, c.Deleted = c.Deleted, c.Created
	return c
}

// MaxListedForbidden bounds the changes a refused undo names.
const MaxListedForbidden = 5

// undoPermitted checks that the actor may make every change an undo of
// batch makes (docs/REFERENCE.md §3, Who may do what): deleting the users it created and re-creating
// those it deleted need the capability to create users; each field set
// back needs the capability its column needs in an import. It returns an
// F-ACTOR error naming the first changes the actor may not make.
func undoPermitted(ctx context.Context, q Queries, env *rules.Env, tenant string, batch int64) error {
	k := env.ActorKind
	if k == rules.FullCustomer {
		return nil // may make every change a batch can hold
	}
	if rules.Allowed(k, rules.CapImport) != "" {
		return actorErr(schema.FActor, "%s is %s, who may not change users of %s, so may not undo batch %d; ask a Full Administrator of %s", env.Actor.Email, k, tenant, batch, tenant)
	}
	var denied []string
	total := 0
	err := q.ChangeEachWithHome(ctx, tenant, batch, func(c schema.UserChange) error {
		u := Reversed(c)
		caps := deniedChanges(k, u, "re-creating the user (creating users)", "deleting the user (creating users)")
		for _, d := range caps {
			total++
			if len(denied) < MaxListedForbidden {
				denied = append(denied, u.Email+": "+d)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if total == 0 {
		return nil
	}
	more := ""
	if total > len(denied) {
		more = fmt.Sprintf("\n  … and %d more", total-len(denied))
	}
	return actorErr(schema.FActor, "%s is %s, and undoing batch %d would make %d %s it may not make:\n  %s%s\nask a Full Administrator of %s to undo it",
		env.Actor.Email, k, batch, total, plural(total, "change", "changes"), strings.Join(denied, "\n  "), more, tenant)
}

// deniedChanges lists what the actor kind k may not do of the change u to
// one user (docs/REFERENCE.md §3, Who may do what), as an import checks it: created and deleted name the
// creation and deletion of the user (which need the capability to create
// users); each changed column needs the capability its column needs.
func deniedChanges(k rules.ActorKind, u schema.UserChange, created, deleted string) []string {
	external := u.HomeNow != "" || u.Old["home_org"] != "" || u.New["home_org"] != ""
	var caps []string // what the actor may not do to this user
	need := func(cp rules.Capability, what string) {
		if rules.Allowed(k, cp) != "" {
			caps = append(caps, what)
		}
	}
	if u.Created {
		need(rules.CapManageUsers, created)
	} else if u.Deleted {
		need(rules.CapManageUsers, deleted)
	}
	_, roleChanges := u.New["admin_role"]
	for _, cc := range Columns(u) {
		if cc.Column == schema.ColCCRole && roleChanges {
			// The CC role set with an admin role (System Default for a
			// new administrator) goes with it: the role's column
			// decides, as in an import.
			continue
		}
		var cp rules.Capability
		switch cc.Column {
		case schema.ColPremium, schema.ColStandard:
			cp = rules.CapLicenses
		case schema.ColFullAdmin, schema.ColReadOnlyAdmin:
			cp = rules.CapFullOrReadOnly
		case schema.ColCCServiceAdmin:
			cp = rules.CapCCServiceMember
			if external {
				cp = rules.CapCCServiceExternal
			}
		default:
			cp = rules.CapManageUsers
		}
		if u.Created || u.Deleted {
			if cp == rules.CapManageUsers || cp == rules.CapLicenses {
				continue // named once, as creating or deleting the user
			}
		}
		need(cp, cc.Column.Header())
	}
	return caps
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
