package exporter

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
	"github.com/ccbulk/ccbulk/tenant"
)

// Options describe one export.
type Options struct {
	Org, Actor string
	Format     sheet.Format
	BOM        bool // CSV: start with a byte-order mark (for files Excel opens)
	// Delimiter separates CSV fields: ',' (the zero value), ';' or '\t'.
	Delimiter rune
	Filter    Filter
	// MaxXLSXRows is the most users an XLSX export holds (0:
	// MaxXLSXRows, what a worksheet holds below its header row).
	MaxXLSXRows int
}

// Filter narrows an export; the filters that are set must all hold.
type Filter struct {
	PBXes  []string      // on one of these PBXes (any letter case)
	Status schema.Status // Active or Inactive; "" for both
	Admins bool          // only users holding an admin role the actor may see
	CCRole string        // holding this CC role (any letter case)
}

// FilterError is a filter naming a PBX or CC role the tenant does not have.
type FilterError struct{ Message string }

func (e *FilterError) Error() string { return e.Message }

// storeFilter resolves f's names against the tenant (in any letter case)
// into the filter the database applies. A masked export's --admins keeps
// the CC Service Administrators only: the other roles are what it hides.
func storeFilter(env *rules.Env, f Filter, masked bool) (schema.UserFilter, error) {
	var sf schema.UserFilter
	for _, p := range f.PBXes {
		name, ok := schema.MatchName(env.Org.PBXes, p)
		if !ok {
			return sf, &FilterError{fmt.Sprintf("--pbx: %q is not a PBX of %s; use one of %s", p, env.Org.ID, strings.Join(env.Org.PBXes, ", "))}
		}
		sf.PBXes = append(sf.PBXes, name)
	}
	sf.Status = string(f.Status)
	if f.Admins {
		sf.AdminRoles = []string{string(schema.RoleFull), string(schema.RoleCCService), string(schema.RoleReadOnly)}
		if masked {
			sf.AdminRoles = []string{string(schema.RoleCCService)}
		}
	}
	if f.CCRole != "" {
		name, ok := env.CCRoles[schema.NameKey(f.CCRole)]
		if !ok {
			roles := slices.Sorted(maps.Values(env.CCRoles))
			return sf, &FilterError{fmt.Sprintf("--role: %q is not a CC role of %s; use one of %s", f.CCRole, env.Org.ID, strings.Join(roles, ", "))}
		}
		sf.CCRole = name
	}
	return sf, nil
}

// MaxXLSXRows is how many data rows an XLSX worksheet holds: 1,048,576 rows
// less the header.
const MaxXLSXRows = 1_048_575

// TooManyRowsError refuses an XLSX export of more users than a worksheet
// holds; nothing was written.
type TooManyRowsError struct {
	Org   string
	Limit int
}

func (e *TooManyRowsError) Error() string {
	return fmt.Sprintf("%s has more users than an XLSX worksheet holds (%d rows); nothing was written: export to CSV instead (--format csv, or -o FILE.csv)", e.Org, e.Limit)
}

// Result says what an export wrote.
type Result struct {
	Users  int
	Masked bool
}

// Export writes every user the actor may see, sorted by email, to w,
// reading them from db (store.New of the pool).
func Export(ctx context.Context, db Store, w io.Writer, opts Options) (Result, error) {
	var res Result
	if err := db.SchemaCheck(ctx); err != nil {
		return res, err
	}
	env, err := tenant.Load(ctx, db, opts.Org, opts.Actor)
	if err != nil {
		return res, err
	}
	scope := rules.Export(env.ActorKind)
	if scope == rules.ExportNone {
		return res, &schema.FileError{Rule: schema.FActor, Message: fmt.Sprintf("%s is %s, who cannot reach the contact center; export needs another admin role", env.Actor.Email, env.ActorKind)}
	}
	res.Masked = scope == rules.ExportMasked
	filter, err := storeFilter(env, opts.Filter, res.Masked)
	if err != nil {
		return res, err
	}
	limit := opts.MaxXLSXRows
	if limit <= 0 {
		limit = MaxXLSXRows
	}
	if opts.Format == sheet.XLSX {
		// Counted before anything is written: every user of the tenant,
		// so a masked export near the limit may be refused although the
		// users it shows would fit.
		n, err := db.UserCountUpTo(ctx, opts.Org, limit+1)
		if err != nil {
			return res, err
		}
		if n > limit {
			return res, &TooManyRowsError{Org: opts.Org, Limit: limit}
		}
	}
	wopts := sheet.WriterOptions{BOM: opts.BOM, Delimiter: opts.Delimiter, SheetName: "Users"}
	if opts.Format == sheet.XLSX {
		wopts.Instructions = Instructions
		wopts.Lists = DropDowns(env)
	}
	out, err := sheet.NewWriter(opts.Format, w, wopts)
	if err != nil {
		return res, err
	}
	if err := out.WriteHeader(schema.Headers()); err != nil {
		return res, err
	}
	err = db.UserEachWhere(ctx, env.Org.ID, filter, func(u *schema.User) error {
		if res.Masked && u.IsExternal() && u.AdminRole != schema.RoleCCService {
			return nil
		}
		res.Users++
		if opts.Format == sheet.XLSX && res.Users > limit {
			// Users added since the count: the file is not finished.
			return &TooManyRowsError{Org: opts.Org, Limit: limit}
		}
		return out.WriteRow(Cells(u, res.Masked, env.Org.ID), nil)
	})
	if err != nil {
		return res, err
	}
	return res, out.Close()
}

// DropDowns are the XLSX export's drop-downs beside the TRUE/FALSE ones:
// the organization's PBXes (in the order they were created), Active and
// Inactive, its CC roles and the registered external organizations (sorted).
func DropDowns(env *rules.Env) []sheet.ColumnList {
	externals := make([]string, 0, len(env.Externals))
	for _, e := range env.Externals {
		externals = append(externals, e.ID)
	}
	slices.Sort(externals)
	return []sheet.ColumnList{
		{Header: schema.Headers()[schema.ColPBX], Values: slices.Clone(env.Org.PBXes)},
		{Header: schema.Headers()[schema.ColStatus], Values: []string{schema.StatusActive.Label(), schema.StatusInactive.Label()}},
		{Header: schema.Headers()[schema.ColHomeOrg], Values: externals},
		{Header: schema.Headers()[schema.ColCCRole], Values: slices.Sorted(maps.Values(env.CCRoles))},
	}
}

// Cells returns a user of org's row in the export's column order: the
// template's columns, then the Version of the user's state (R-STALE).
// Masked leaves the Full and Read-only Administrator columns blank (no
// change on import).
func Cells(u *schema.User, masked bool, org string) []string {
	c := make([]string, schema.NumColumns)
	c[schema.ColEmail] = u.Email
	c[schema.ColFirstName] = u.FirstName
	c[schema.ColLastName] = u.LastName
	c[schema.ColDisplayName] = u.DisplayName
	c[schema.ColUsername] = u.Username
	c[schema.ColPBX] = u.PBX
	c[schema.ColStatus] = u.Status.Label()
	c[schema.ColHomeOrg] = u.HomeOrg
	c[schema.ColPremium] = flag(u.Premium)
	c[schema.ColStandard] = flag(u.Standard)
	c[schema.ColCCServiceAdmin] = flag(u.AdminRole == schema.RoleCCService)
	if !masked {
		c[schema.ColFullAdmin] = flag(u.AdminRole == schema.RoleFull)
		c[schema.ColReadOnlyAdmin] = flag(u.AdminRole == schema.RoleReadOnly)
	}
	c[schema.ColCCRole] = u.CCRole
	c[schema.ColVersion] = rules.FormatVersion(org, u.Version)
	return c
}

func flag(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// Instructions is the plain-language help the XLSX template carries on its
// second sheet.
var Instructions = []string{
	"How to fill in this sheet",
	"",
	"One row per user. Email is the only required column; it identifies the user.",
	"A blank cell means: no change for an existing user, the default for a new one.",
	"New users: Username defaults to the email, Status to Active, licenses and admin roles to FALSE, and an activation email is sent.",
	"PBX: required for a new user when the organization has several PBXes.",
	"Status: Active or Inactive.",
	"Home Organization: blank for members of the organization; the id of a registered external organization for external administrators.",
	"TRUE/FALSE columns: choose TRUE or FALSE from the drop-down. A user holds one of Contact Center Premium and Standard.",
	"Admin roles: a user holds at most one of Full, Contact Center Service and Read-only Administrator. To switch, set the old role to FALSE in the same row.",
	"CC Role: a CC role of the organization; an administrator without one gets System Default.",
	"Copy Privileges From: the email of a user whose admin role and CC role to copy. Values in the row win.",
	"Send Activation Email: TRUE to (re)send the invitation email.",
	"Version (in an export only): the state of the user the row was exported from. Leave it as it is: a row whose user was changed since is rejected (R-STALE) rather than overwrite that change. Clear the cell to overwrite anyway.",
	"",
	"Import: ccbulk import FILE --org ORG --actor YOUR-EMAIL (add --dry-run to see the plan first).",
	"Rows with problems are listed in a report file that you can fix and import again as it is.",
}

// Template writes the empty sheet with the template's headers (no
// Version: only an export writes it).
func Template(w io.Writer, format sheet.Format, bom bool) error {
	opts := sheet.WriterOptions{BOM: bom, SheetName: "Users"}
	if format == sheet.XLSX {
		opts.Instructions = Instructions
	}
	out, err := sheet.NewWriter(format, w, opts)
	if err != nil {
		return err
	}
	if err := out.WriteHeader(schema.TemplateHeaders()); err != nil {
		return err
	}
	return out.Close()
}
