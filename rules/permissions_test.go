package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// referenceTable returns the permission table of docs/REFERENCE.md §3, Who
// may do what, as the file writes it. The code's table (rules.Allowed,
// rules.Export) must say the same: a change to either without the other
// fails TestPermissionTableMatchesReference.
func referenceTable(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "REFERENCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n| capability |")
	if !ok {
		t.Fatal("docs/REFERENCE.md has no permission table (a table whose first header is capability)")
	}
	table = "| capability |" + table
	if end := strings.Index(table, "\n\n"); end >= 0 {
		table = table[:end]
	}
	return table
}

// specCapabilities maps the table's rows, in order, to the code's capabilities.
var specCapabilities = []rules.Capability{
	rules.CapManageUsers, rules.CapSendActivation, rules.CapLicenses, rules.CapCCServiceMember,
	rules.CapCCServiceExternal, rules.CapFullOrReadOnly, rules.CapImport,
}

// specKinds maps the table's columns, in order, to the code's actor kinds.
var specKinds = []rules.ActorKind{
	rules.FullCustomer, rules.FullPartner, rules.FullOther, rules.CCServiceCustomer,
	rules.CCServiceOther, rules.ReadOnlyCustomer, rules.ReadOnlyExternal,
}

// parsedSpec is the reference's table read cell by cell.
type parsedSpec struct {
	allowed map[rules.Capability]map[rules.ActorKind]schema.RuleID
	export  map[rules.ActorKind]rules.ExportScope
}

func parseSpecTable(t *testing.T) parsedSpec {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(referenceTable(t)), "\n") {
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	header, body := rows[0], rows[2:]
	if len(header) != 1+len(specKinds) || len(body) != len(specCapabilities)+1 {
		t.Fatalf("the table of docs/REFERENCE.md §3 has %d columns and %d rows", len(header), len(body))
	}
	p := parsedSpec{allowed: map[rules.Capability]map[rules.ActorKind]schema.RuleID{}, export: map[rules.ActorKind]rules.ExportScope{}}
	for i, capability := range specCapabilities {
		p.allowed[capability] = map[rules.ActorKind]schema.RuleID{}
		for j, k := range specKinds {
			switch cell := body[i][1+j]; cell {
			case "yes":
				p.allowed[capability][k] = ""
			case "no":
				p.allowed[capability][k] = schema.RPerm
			case "no (`R-EXT-SCOPE`)":
				p.allowed[capability][k] = schema.RExtScope
			default:
				t.Fatalf("table cell %q", cell)
			}
		}
	}
	exportRow := body[len(specCapabilities)]
	if exportRow[0] != "export" {
		t.Fatalf("last row %q, want export", exportRow[0])
	}
	for j, k := range specKinds {
		p.export[k] = map[string]rules.ExportScope{"all": rules.ExportAll, "masked": rules.ExportMasked, "no": rules.ExportNone}[exportRow[1+j]]
	}
	return p
}

// The permission table in code says exactly what the table of docs/REFERENCE.md §3, Who may do what, says,
// cell by cell.
func TestPermissionTableMatchesReference(t *testing.T) {
	spec := parseSpecTable(t)
	if int(rules.NumCapabilities) != len(specCapabilities) || int(rules.NumActorKinds) != len(specKinds) {
		t.Fatalf("the code has %d capabilities and %d actor kinds; the table of docs/REFERENCE.md §3 has %d and %d",
			rules.NumCapabilities, rules.NumActorKinds, len(specCapabilities), len(specKinds))
	}
	for _, capability := range specCapabilities {
		for _, k := range specKinds {
			if got, want := rules.Allowed(k, capability), spec.allowed[capability][k]; got != want {
				t.Errorf("%v may %v: code says %q, docs/REFERENCE.md says %q", k, capability, got, want)
			}
		}
	}
	for _, k := range specKinds {
		if got, want := rules.Export(k), spec.export[k]; got != want {
			t.Errorf("export by %v: code says %v, docs/REFERENCE.md says %v", k, got, want)
		}
	}
}

// KindOf places an administrator in a column of the table by role and home.
func TestKindOf(t *testing.T) {
	cases := []struct {
		role schema.AdminRole
		home schema.ExternalKind
		want rules.ActorKind
		ok   bool
	}{
		{schema.RoleFull, "", rules.FullCustomer, true},
		{schema.RoleFull, schema.KindPartner, rules.FullPartner, true},
		{schema.RoleFull, schema.KindOther, rules.FullOther, true},
		{schema.RoleCCService, "", rules.CCServiceCustomer, true},
		{schema.RoleCCService, schema.KindOther, rules.CCServiceOther, true},
		// The role does not exist for partner users (R-EXT-PARTNER); one
		// that exists anyway gets the narrower rights.
		{schema.RoleCCService, schema.KindPartner, rules.CCServiceOther, true},
		{schema.RoleReadOnly, "", rules.ReadOnlyCustomer, true},
		{schema.RoleReadOnly, schema.KindPartner, rules.ReadOnlyExternal, true},
		{schema.RoleReadOnly, schema.KindOther, rules.ReadOnlyExternal, true},
		{schema.RoleNone, "", 0, false},
		{schema.RoleNone, schema.KindOther, 0, false},
	}
	for _, c := range cases {
		got, ok := rules.KindOf(c.role, c.home)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("KindOf(%q, %q) = %v, %v; want %v, %v", c.role, c.home, got, ok, c.want, c.ok)
		}
	}
}

// permAction is one change a row can ask for, the capability of docs/REFERENCE.md §3, Who may do what, it
// needs, and the column a denial names.
type permAction struct {
	name       string
	capability rules.Capability
	row        cells
	column     string
}

// permActions covers every capability of the table (the first row of the
// table with each change it lists).
var permActions = []permAction{
	{"create a user", rules.CapManageUsers, cells{cEmail: ewa, cPBX: "paris", cSend: "FALSE"}, "Email"},
	{"change first name", rules.CapManageUsers, cells{cEmail: hugo, cFirst: "Hugues"}, "First Name"},
	{"change last name", rules.CapManageUsers, cells{cEmail: hugo, cLast: "Moreau-Petit"}, "Last Name"},
	{"change display name", rules.CapManageUsers, cells{cEmail: hugo, cDisplay: "H. Moreau"}, "Display Name"},
	{"change username", rules.CapManageUsers, cells{cEmail: hugo, cUsername: "hugo.m"}, "Username"},
	{"change PBX", rules.CapManageUsers, cells{cEmail: hugo, cPBX: "warsaw"}, "PBX"},
	{"change status", rules.CapManageUsers, cells{cEmail: hugo, cStatus: "Inactive"}, "Status"},
	{"change home organization", rules.CapManageUsers, cells{cEmail: hugo, cHome: "contoso"}, "Home Organization"},
	{"change CC role", rules.CapManageUsers, cells{cEmail: pawel, cCCRole: "Supervisors"}, "CC Role"},
	{"copy privileges", rules.CapManageUsers, cells{cEmail: hugo, cCopy: sophie}, "Copy Privileges From"},
	{"send activation email", rules.CapSendActivation, cells{cEmail: hugo, cSend: "TRUE"}, "Send Activation Email"},
	{"switch Premium to Standard", rules.CapLicenses, cells{cEmail: lucas, cPremium: "FALSE", cStandard: "TRUE"}, "Contact Center Premium"},
	{"take Standard", rules.CapLicenses, cells{cEmail: chloe, cStandard: "FALSE"}, "Contact Center Standard"},
	{"grant CC Service to a member", rules.CapCCServiceMember, cells{cEmail: hugo, cCCS: "TRUE"}, "Contact Center Service Administrator"},
	{"revoke CC Service from a member", rules.CapCCServiceMember, cells{cEmail: sophie, cCCS: "FALSE"}, "Contact Center Service Administrator"},
	{"grant CC Service to an external user", rules.CapCCServiceExternal, cells{cEmail: nuno, cCCS: "TRUE"}, "Contact Center Service Administrator"},
	{"revoke CC Service from an external user", rules.CapCCServiceExternal, cells{cEmail: diego, cCCS: "FALSE"}, "Contact Center Service Administrator"},
	{"grant Full", rules.CapFullOrReadOnly, cells{cEmail: hugo, cFull: "TRUE"}, "Full Administrator"},
	{"revoke Full", rules.CapFullOrReadOnly, cells{cEmail: jean, cFull: "FALSE"}, "Full Administrator"},
	{"grant Read-only", rules.CapFullOrReadOnly, cells{cEmail: hugo, cRO: "TRUE"}, "Read-only Administrator"},
	{"revoke Read-only", rules.CapFullOrReadOnly, cells{cEmail: pawel, cRO: "FALSE"}, "Read-only Administrator"},
}

// R-PERM: the actor may not make this change (docs/REFERENCE.md §3, Who may do what). Seed 004, table 1
// ("Tabela 1. Uprawnienia specyficzne dla centrum kontaktów"): every
// capability for every actor kind, the expectation read from the table of
// docs/REFERENCE.md §3, not from the code's.
func TestRPerm(t *testing.T) {
	spec := parseSpecTable(t)
	for _, a := range permActions {
		for _, k := range specKinds {
			t.Run(a.name+"/"+k.String(), func(t *testing.T) {
				out := newWorld(k).check(a.row)[0]
				switch want := spec.allowed[a.capability][k]; want {
				case "":
					if len(out.Findings) != 0 || out.Kind == rules.Rejected {
						t.Errorf("allowed, but %v: %v", out.Kind, ids(out.Findings))
					}
				default:
					wantID := string(want) + " " + a.column
					if out.Kind != rules.Rejected || !slices.Contains(ids(out.Findings), wantID) {
						t.Errorf("denied: want %s, got %v (%v)", wantID, ids(out.Findings), out.Kind)
					}
					for _, f := range out.Findings {
						if f.Rule != schema.RPerm && f.Rule != schema.RExtScope {
							t.Errorf("unexpected finding %s", f.Format("sheet.csv"))
						}
					}
				}
			})
		}
	}

	// The message names the actor's role and what to do instead.
	out := newWorld(rules.CCServiceCustomer).check(cells{cEmail: hugo, cLast: "Moreau-Petit"})[0]
	if msg := out.Findings[0].Message; !strings.Contains(msg, "Contact Center Service Administrator of the customer organization may not") ||
		!strings.Contains(msg, "ask a Full Administrator") {
		t.Errorf("R-PERM message %q", msg)
	}
}

// R-EXT-SCOPE: an external CC Service Administrator grants (or revokes) CC
// Service Administrator to another external user. Seed 004: "Do innego
// użytkownika zewnętrznego nie można przypisać roli administrator usługi
// Contact Center. rolę można przypisać do użytkownika tylko z organizacji
// klienta."
func TestRExtScope(t *testing.T) {
	runCases(t, []rowCase{
		{name: "grant to an external user", actor: rules.CCServiceOther, rows: []cells{{cEmail: nuno, cCCS: "TRUE"}},
			want: [][]string{one("R-EXT-SCOPE Contact Center Service Administrator")}},
		{name: "revoke from an external user", actor: rules.CCServiceOther, rows: []cells{{cEmail: diego, cCCS: "FALSE"}},
			want: [][]string{one("R-EXT-SCOPE Contact Center Service Administrator")}},
		{name: "grant to a user of a contact-center organization", actor: rules.CCServiceOther, rows: []cells{{cEmail: fiona, cCCS: "TRUE"}},
			want: [][]string{{"R-EXT-CC-ENABLED Contact Center Service Administrator", "R-EXT-SCOPE Contact Center Service Administrator"}}},
		{name: "grant to a new external user", actor: rules.CCServiceOther,
			rows: []cells{{cEmail: "rui.alves@contoso.example", cPBX: "paris", cHome: "contoso", cCCS: "TRUE", cSend: "FALSE"}},
			want: [][]string{{"R-PERM Email", "R-EXT-SCOPE Contact Center Service Administrator"}}},
		{name: "grant to a member", actor: rules.CCServiceOther, rows: []cells{{cEmail: hugo, cCCS: "TRUE"}}},
		{name: "revoke from a member", actor: rules.CCServiceOther, rows: []cells{{cEmail: sophie, cCCS: "FALSE"}}},
		{name: "by a member CC Service Administrator", actor: rules.CCServiceCustomer, rows: []cells{{cEmail: nuno, cCCS: "TRUE"}}},
		{name: "the role held, written again", actor: rules.CCServiceOther, rows: []cells{{cEmail: diego, cCCS: "TRUE"}}},
	})
}

// A cell whose value equals what the database holds is not a change and
// needs no permission: every user's row as an export writes it (and as a
// masked export writes it) is unchanged for every actor kind.
func TestEqualCellNeedsNoPermission(t *testing.T) {
	flag := func(b bool) string { return strings.ToUpper(map[bool]string{true: "true", false: "false"}[b]) }
	for _, masked := range []bool{false, true} {
		for _, k := range specKinds {
			wd := newWorld(k)
			var rows []cells
			for _, u := range baseUsers() {
				r := cells{cEmail: u.Email, cFirst: u.FirstName, cLast: u.LastName, cDisplay: u.DisplayName,
					cUsername: u.Username, cPBX: u.PBX, cStatus: u.Status.Label(), cHome: u.HomeOrg,
					cPremium: flag(u.Premium), cStandard: flag(u.Standard), cCCS: flag(u.AdminRole == schema.RoleCCService),
					cCCRole: u.CCRole}
				if !masked {
					r[cFull] = flag(u.AdminRole == schema.RoleFull)
					r[cRO] = flag(u.AdminRole == schema.RoleReadOnly)
				}
				// Letter case and spaces that compare equal are no change either.
				r[cPBX] = strings.ToUpper(r[cPBX])
				r[cStatus] = " " + strings.ToLower(r[cStatus]) + " "
				rows = append(rows, r)
			}
			for i, out := range wd.check(rows...) {
				if out.Kind != rules.Unchanged || len(out.Findings) != 0 {
					t.Errorf("masked=%v, %v: row %d (%s): %v %v", masked, k, i+2, rows[i][cEmail], out.Kind, ids(out.Findings))
				}
			}
		}
	}
}
