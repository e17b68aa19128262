package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// tableActor is a column of the permission table of docs/REFERENCE.md §3, Who may do what, and an administrator
// of the seeded tenant in it. Read-only: partner, other is one column, walked
// with an actor of each.
type tableActor struct {
	kind  rules.ActorKind
	email string
}

var tableActors = []tableActor{
	{rules.FullCustomer, "jean.martin@acme.example"},
	{rules.FullPartner, "tom.baker@northwind.example"},
	{rules.FullOther, "olga.berg@contoso.example"},
	{rules.CCServiceCustomer, "sophie.laurent@acme.example"},
	{rules.CCServiceOther, "ana.silva@contoso.example"},
	{rules.ReadOnlyCustomer, "pawel.kowalski@acme.example"},
	{rules.ReadOnlyExternal, "kasia.lis@northwind.example"},
	{rules.ReadOnlyExternal, "nuno.costa@contoso.example"},
}

// specTable is the table of docs/REFERENCE.md §3, Who may do what, row by
// row (capability) and column by column (actor kind, in the order of
// rules.ActorKind): "" allowed, else the rule a use breaks. The rules
// package checks the code against the table in docs/REFERENCE.md itself;
// here it says what each real import must do.
var specTable = map[rules.Capability][rules.NumActorKinds]schema.RuleID{
	//                          Full:cust Full:partner Full:other CCS:cust CCS:other RO:cust RO:partner,other
	rules.CapManageUsers:       {"", "", "", schema.RPerm, schema.RPerm, schema.RPerm, schema.RPerm},
	rules.CapSendActivation:    {"", "", "", "", "", schema.RPerm, schema.RPerm},
	rules.CapLicenses:          {"", "", "", "", "", schema.RPerm, schema.RPerm},
	rules.CapCCServiceMember:   {"", "", "", "", "", schema.RPerm, schema.RPerm},
	rules.CapCCServiceExternal: {"", schema.RPerm, schema.RPerm, "", schema.RExtScope, schema.RPerm, schema.RPerm},
	rules.CapFullOrReadOnly:    {"", "", "", schema.RPerm, schema.RPerm, schema.RPerm, schema.RPerm},
	rules.CapImport:            {"", "", "", "", "", schema.RPerm, schema.RPerm},
}

var specExport = [rules.NumActorKinds]rules.ExportScope{
	rules.ExportAll, rules.ExportAll, rules.ExportAll, rules.ExportMasked, rules.ExportMasked, rules.ExportNone, rules.ExportAll,
}

// tableAction is one change of the table: the sheet that asks for it, the
// column a denial names, and how the user looks once it is applied. Each
// action changes its own user, so the actions of one actor do not meet.
type tableAction struct {
	name       string
	capability rules.Capability
	email      string
	sheet      string // header and one row
	column     string
	applied    func(u *schema.User) bool
}

const hdr = "Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,Contact Center Premium,Contact Center Standard,Full Administrator,Contact Center Service Administrator,Read-only Administrator,CC Role,Copy Privileges From,Send Activation Email\n"

var tableActions = []tableAction{
	{"create a user", rules.CapManageUsers, "new.hire@acme.example",
		hdr + "new.hire@acme.example,New,Hire,New Hire,,paris,,,,,,,,,,FALSE\n", "Email",
		func(u *schema.User) bool { return u != nil && u.FirstName == "New" }},
	{"change first name", rules.CapManageUsers, "lea.girard@acme.example",
		hdr + "lea.girard@acme.example,Léa-Rose,,,,,,,,,,,,,,\n", "First Name",
		func(u *schema.User) bool { return u.FirstName == "Léa-Rose" }},
	{"change last name", rules.CapManageUsers, "noe.blanc@acme.example",
		hdr + "noe.blanc@acme.example,,Blanc-Roy,,,,,,,,,,,,,\n", "Last Name",
		func(u *schema.User) bool { return u.LastName == "Blanc-Roy" }},
	{"change display name", rules.CapManageUsers, "ines.faure@acme.example",
		hdr + "ines.faure@acme.example,,,Inès F.,,,,,,,,,,,,\n", "Display Name",
		func(u *schema.User) bool { return u.DisplayName == "Inès F." }},
	{"change username", rules.CapManageUsers, "theo.roussel@acme.example",
		hdr + "theo.roussel@acme.example,,,,theo.r,,,,,,,,,,,\n", "Username",
		func(u *schema.User) bool { return u.Username == "theo.r" }},
	{"change PBX", rules.CapManageUsers, "adam.lemaire@acme.example",
		hdr + "adam.lemaire@acme.example,,,,,warsaw,,,,,,,,,,\n", "PBX",
		func(u *schema.User) bool { return u.PBX == "warsaw" }},
	{"change status", rules.CapManageUsers, "lina.perrin@acme.example",
		hdr + "lina.perrin@acme.example,,,,,,Inactive,,,,,,,,,\n", "Status",
		func(u *schema.User) bool { return u.Status == schema.StatusInactive }},
	{"change home organization", rules.CapManageUsers, "yanis.morel@acme.example",
		hdr + "yanis.morel@acme.example,,,,,,,contoso,,,,,,,,\n", "Home Organization",
		func(u *schema.User) bool { return u.HomeOrg == "contoso" }},
	{"change CC role", rules.CapManageUsers, "emma.fournier@acme.example",
		hdr + "emma.fournier@acme.example,,,,,,,,,,,,,Supervisors,,\n", "CC Role",
		func(u *schema.User) bool { return u.CCRole == "Supervisors" }},
	{"copy privileges", rules.CapManageUsers, "gabriel.robin@acme.example",
		hdr + "gabriel.robin@acme.example,,,,,,,,,,,,,,template.supervisor@acme.example,\n", "Copy Privileges From",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleCCService && u.CCRole == "Supervisors" }},
	{"send activation email", rules.CapSendActivation, "manon.henry@acme.example",
		hdr + "manon.henry@acme.example,,,,,,,,,,,,,,,TRUE\n", "Send Activation Email",
		nil}, // checked in the outbox
	{"give Premium", rules.CapLicenses, "louis.garnier@acme.example",
		hdr + "louis.garnier@acme.example,,,,,,,,TRUE,,,,,,,\n", "Contact Center Premium",
		func(u *schema.User) bool { return u.Premium }},
	{"take Standard", rules.CapLicenses, "clara.bonnet@acme.example",
		hdr + "clara.bonnet@acme.example,,,,,,,,,FALSE,,,,,,\n", "Contact Center Standard",
		func(u *schema.User) bool { return !u.Standard }},
	{"grant CC Service to a member", rules.CapCCServiceMember, "hugo.moreau@acme.example",
		hdr + "hugo.moreau@acme.example,,,,,,,,,,,TRUE,,,,\n", "Contact Center Service Administrator",
		func(u *schema.User) bool {
			return u.AdminRole == schema.RoleCCService && u.CCRole == schema.DefaultCCRole
		}},
	{"revoke CC Service from a member", rules.CapCCServiceMember, "alice.mercier@acme.example",
		hdr + "alice.mercier@acme.example,,,,,,,,,,,FALSE,,,,\n", "Contact Center Service Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleNone }},
	{"grant CC Service to an external user", rules.CapCCServiceExternal, "rui.alves@contoso.example",
		hdr + "rui.alves@contoso.example,,,,,,,,,,,TRUE,,,,\n", "Contact Center Service Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleCCService }},
	{"revoke CC Service from an external user", rules.CapCCServiceExternal, "diego.ruiz@contoso.example",
		hdr + "diego.ruiz@contoso.example,,,,,,,,,,,FALSE,,,,\n", "Contact Center Service Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleNone }},
	{"grant Full", rules.CapFullOrReadOnly, "paul.david@acme.example",
		hdr + "paul.david@acme.example,,,,,,,,,,TRUE,,,,,\n", "Full Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleFull }},
	{"revoke Full", rules.CapFullOrReadOnly, "julien.lambert@acme.example",
		hdr + "julien.lambert@acme.example,,,,,,,,,,FALSE,,,,,\n", "Full Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleNone }},
	{"grant Read-only", rules.CapFullOrReadOnly, "zoe.martinez@acme.example",
		hdr + "zoe.martinez@acme.example,,,,,,,,,,,,TRUE,,,\n", "Read-only Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleReadOnly }},
	{"revoke Read-only", rules.CapFullOrReadOnly, "victor.roche@acme.example",
		hdr + "victor.roche@acme.example,,,,,,,,,,,,FALSE,,,\n", "Read-only Administrator",
		func(u *schema.User) bool { return u.AdminRole == schema.RoleNone }},
}

// Every cell of the table of docs/REFERENCE.md §3, Who may do what, through real imports into PostgreSQL: for
// every actor kind, every change of every capability is applied when the
// table says yes, and rejected with R-PERM (or R-EXT-SCOPE) on its column,
// leaving the user as it was, when it says no. Actors that may not import
// at all are refused with F-ACTOR before anything is read.
func TestPermissionTableThroughImports(t *testing.T) {
	for capability, row := range specTable {
		for k, want := range row {
			if got := rules.Allowed(rules.ActorKind(k), capability); got != want {
				t.Fatalf("%v may %v: rules.Allowed says %q, this test's copy of docs/REFERENCE.md says %q", rules.ActorKind(k), capability, got, want)
			}
		}
	}
	db := newDB(t)
	for i, actor := range tableActors {
		t.Run(fmt.Sprintf("%v (%s)", actor.kind, actor.email), func(t *testing.T) {
			tn := addTenant(t, db, fmt.Sprintf("acme-%d", i+1)) // a tenant per actor: the actions of one do not meet another's
			for _, a := range tableActions {
				before := tn.user(t, a.email)
				res, err := tn.importSheet(t, actor.email, a.sheet, nil)
				after := tn.user(t, a.email)
				if specTable[rules.CapImport][actor.kind] != "" {
					var fe *schema.FileError
					if !errors.As(err, &fe) || fe.Rule != schema.FActor {
						t.Errorf("%s: want F-ACTOR (may not import), got %v", a.name, err)
					}
					if !sameUser(before, after) || res.Applied {
						t.Errorf("%s: a refused import changed the user", a.name)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", a.name, err)
				}
				want := specTable[a.capability][actor.kind]
				if want == "" {
					if res.Rejected != 0 || res.Created+res.Updated+res.Unchanged != 1 {
						t.Errorf("%s: allowed, but %d rejected: %v", a.name, res.Rejected, res.Findings)
					}
					if a.applied != nil && (after == nil || !a.applied(after)) {
						t.Errorf("%s: allowed, but the database holds %+v", a.name, after)
					}
					if a.capability == rules.CapSendActivation && tn.outbox(t, a.email) != 1 {
						t.Errorf("%s: allowed, but no activation email was queued", a.name)
					}
					continue
				}
				got := findingIDs(res.Findings)
				if res.Rejected != 1 || !slices.Contains(got, string(want)+" "+a.column) {
					t.Errorf("%s: want %s on %s, got %d rejected with %v", a.name, want, a.column, res.Rejected, got)
				}
				if !sameUser(before, after) {
					t.Errorf("%s: denied, but the user changed: %+v -> %+v", a.name, before, after)
				}
				if a.capability == rules.CapSendActivation && tn.outbox(t, a.email) != 0 {
					t.Errorf("%s: denied, but an activation email was queued", a.name)
				}
			}
		})
	}
}

// Export per actor kind: all, masked, or refused (F-ACTOR) as docs/REFERENCE.md §3, Who may do what, says;
// a masked export leaves the Full and Read-only columns blank and external
// users without the CC Service role out, and imports back with no change.
// Any export an actor may make imports back with no change for every actor
// that may import: a cell equal to the database needs no permission.
func TestExportPerActorKind(t *testing.T) {
	tn := newAcme(t)
	ctx := context.Background()
	full := tn.exportCSV(t, primary)
	for _, actor := range tableActors {
		t.Run(fmt.Sprintf("%v (%s)", actor.kind, actor.email), func(t *testing.T) {
			var buf bytes.Buffer
			res, err := exporter.Export(ctx, store.New(tn.db), &buf, exporter.Options{Org: tn.org, Actor: actor.email, Format: sheet.CSV})
			scope := specExport[actor.kind]
			if scope == rules.ExportNone {
				var fe *schema.FileError
				if !errors.As(err, &fe) || fe.Rule != schema.FActor || buf.Len() != 0 {
					t.Fatalf("want F-ACTOR and nothing written, got %v (%d bytes)", err, buf.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rows := readCSV(t, buf.String())
			if res.Masked != (scope == rules.ExportMasked) || res.Users != len(rows) {
				t.Errorf("masked %v for %d users, want masked %v", res.Masked, res.Users, scope == rules.ExportMasked)
			}
			all := readCSV(t, full)
			switch scope {
			case rules.ExportAll:
				if buf.String() != full {
					t.Errorf("the export differs from the primary administrator's")
				}
			case rules.ExportMasked:
				var want []string
				for _, r := range all {
					if r[schema.ColHomeOrg] == "" || r[schema.ColCCServiceAdmin] == "TRUE" {
						want = append(want, r[schema.ColEmail])
					}
				}
				var got []string
				for _, r := range rows {
					got = append(got, r[schema.ColEmail])
					if r[schema.ColFullAdmin] != "" || r[schema.ColReadOnlyAdmin] != "" {
						t.Errorf("%s: Full %q, Read-only %q; a masked export leaves them blank", r[schema.ColEmail], r[schema.ColFullAdmin], r[schema.ColReadOnlyAdmin])
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("masked export lists %v\nwant %v", got, want)
				}
				if slices.Contains(got, "tom.baker@northwind.example") || !slices.Contains(got, "diego.ruiz@contoso.example") {
					t.Errorf("masked export: external Full Administrators are left out, external CC Service Administrators are in")
				}
				// The masked export imports back with no change.
				tn.checkNoChange(t, actor.email, buf.String(), len(rows))
			}
			if specTable[rules.CapImport][actor.kind] == "" {
				tn.checkNoChange(t, actor.email, full, len(all))
			}
		})
	}
}

// --sync deactivates users, which needs a Full Administrator (F-ACTOR).
func TestSyncNeedsFullAdministrator(t *testing.T) {
	tn := newAcme(t)
	for _, actor := range tableActors {
		_, err := tn.importSheet(t, actor.email, hdr+actor.email+",,,,,,,,,,,,,,,\n", func(o *importer.Options) {
			o.Sync, o.DryRun = true, true
			o.MaxDeactivate = &importer.MaxDeactivate{N: 1000}
		})
		var fe *schema.FileError
		refused := errors.As(err, &fe) && fe.Rule == schema.FActor
		wantRefused := actor.kind != rules.FullCustomer && actor.kind != rules.FullPartner && actor.kind != rules.FullOther
		if refused != wantRefused {
			t.Errorf("%v: --sync refused %v (%v), want %v", actor.kind, refused, err, wantRefused)
		}
	}
}

// Actors that are no active administrator of the tenant are refused at start.
func TestActorMustBeActiveAdministrator(t *testing.T) {
	tn := newAcme(t)
	for _, email := range []string{
		"hugo.moreau@acme.example",         // no admin role
		"template.supervisor@acme.example", // inactive
		"nobody@acme.example",              // not a user
		"not an address",
	} {
		_, err := tn.importSheet(t, email, hdr+"hugo.moreau@acme.example,Hugo,,,,,,,,,,,,,,\n", nil)
		var fe *schema.FileError
		if !errors.As(err, &fe) || fe.Rule != schema.FActor {
			t.Errorf("import as %s: want F-ACTOR, got %v", email, err)
		}
		_, err = exporter.Export(context.Background(), store.New(tn.db), &bytes.Buffer{}, exporter.Options{Org: tn.org, Actor: email, Format: sheet.CSV})
		if !errors.As(err, &fe) || fe.Rule != schema.FActor {
			t.Errorf("export as %s: want F-ACTOR, got %v", email, err)
		}
	}
}

func (tn tenant) checkNoChange(t *testing.T, actor, sheetCSV string, rows int) {
	t.Helper()
	res, err := tn.importSheet(t, actor, sheetCSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != rows || res.Unchanged != rows || res.Rejected != 0 || res.Warnings != 0 || res.Activations != 0 {
		t.Errorf("import back as %s: %d rows, %d unchanged, %d created, %d updated, %d rejected: %v",
			actor, res.Rows, res.Unchanged, res.Created, res.Updated, res.Rejected, res.Findings)
	}
	var n int
	if err := tn.db.Get(&n, `SELECT count(*) FROM changes WHERE batch_id = $1`, res.BatchID); err != nil || n != 0 {
		t.Errorf("import back as %s recorded %d changes (%v)", actor, n, err)
	}
}

func (tn tenant) exportCSV(t *testing.T, actor string) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := exporter.Export(context.Background(), store.New(tn.db), &buf, exporter.Options{Org: tn.org, Actor: actor, Format: sheet.CSV}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// readCSV returns the data rows of an export, one cell per template column.
func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], schema.Headers()) {
		t.Fatalf("export header %v", recs[0])
	}
	return recs[1:]
}

func (tn tenant) outbox(t *testing.T, email string) int {
	t.Helper()
	var n int
	if err := tn.db.Get(&n, `SELECT count(*) FROM activation_outbox WHERE tenant_id = $1 AND email = $2`, tn.org, email); err != nil {
		t.Fatal(err)
	}
	return n
}

func sameUser(a, b *schema.User) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func findingIDs(fs []schema.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Rule) + " " + f.Column
	}
	return out
}
