package rules_test

import (
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

const (
	ewa  = "ewa.zielinska@acme.example" // not in the database: a new hire
	piot = "piotr.wojcik@acme.example"  // another new hire
)

// R-LIC-TIER: the user would hold both Premium and Standard; a user holds
// one agent tier. The database value counts: to switch tier, set the old one
// to FALSE in the same row.
func TestRLicTier(t *testing.T) {
	runCases(t, []rowCase{
		{name: "new user with both", rows: []cells{{cEmail: ewa, cPBX: "warsaw", cPremium: "TRUE", cStandard: "TRUE"}},
			want: [][]string{one("R-LIC-TIER Contact Center Standard")}},
		{name: "Standard added to a Premium agent", rows: []cells{{cEmail: lucas, cStandard: "TRUE"}},
			want: [][]string{one("R-LIC-TIER Contact Center Standard")}},
		{name: "Premium added to a Standard agent", rows: []cells{{cEmail: chloe, cPremium: "TRUE"}},
			want: [][]string{one("R-LIC-TIER Contact Center Premium")}},
		{name: "switch tier in one row", rows: []cells{{cEmail: lucas, cPremium: "FALSE", cStandard: "TRUE"}}},
		{name: "one tier, other explicitly FALSE", rows: []cells{{cEmail: hugo, cPremium: "FALSE", cStandard: "TRUE"}}},
		{name: "both FALSE", rows: []cells{{cEmail: lucas, cPremium: "FALSE", cStandard: "FALSE"}}},
	})
	outs := newWorld(rules.FullCustomer).check(cells{cEmail: lucas, cStandard: "TRUE"})
	if msg := outs[0].Findings[0].Message; !strings.Contains(msg, "set the other to FALSE") {
		t.Errorf("R-LIC-TIER message %q does not say how to fix the row", msg)
	}
}

// R-LIC-CAPACITY: the row would take the tenant over its Premium or Standard
// seats, counted over all users in file order: a seat freed earlier in the
// file can be taken later. Seed 004: "Kliknij kartę Subskrypcje, aby
// wyświetlić informacje o sposobie użycia licencji" (the subscriptions tab
// shows the license usage). The tenant has 2 Premium seats, both taken, and
// 3 Standard seats, one taken.
func TestRLicCapacity(t *testing.T) {
	runCases(t, []rowCase{
		{name: "Premium over the seats", rows: []cells{{cEmail: hugo, cPremium: "TRUE"}},
			want: [][]string{one("R-LIC-CAPACITY Contact Center Premium")}},
		{name: "new user over the seats", rows: []cells{{cEmail: ewa, cPBX: "warsaw", cPremium: "TRUE"}},
			want: [][]string{one("R-LIC-CAPACITY Contact Center Premium")}},
		{name: "seat freed earlier in the file is taken later",
			rows: []cells{{cEmail: lucas, cPremium: "FALSE"}, {cEmail: hugo, cPremium: "TRUE"}, {cEmail: agata, cPremium: "TRUE"}},
			want: [][]string{nil, nil, one("R-LIC-CAPACITY Contact Center Premium")}},
		{name: "seat freed later in the file comes too late",
			rows: []cells{{cEmail: hugo, cPremium: "TRUE"}, {cEmail: lucas, cPremium: "FALSE"}},
			want: [][]string{one("R-LIC-CAPACITY Contact Center Premium"), nil}},
		{name: "a tier switch frees its old seat",
			rows: []cells{{cEmail: lucas, cPremium: "FALSE", cStandard: "TRUE"}, {cEmail: hugo, cPremium: "TRUE"}}},
		{name: "switch into a full tier",
			rows: []cells{{cEmail: chloe, cStandard: "FALSE", cPremium: "TRUE"}},
			want: [][]string{one("R-LIC-CAPACITY Contact Center Premium")}},
		{name: "Standard fills up in file order",
			rows: []cells{{cEmail: hugo, cStandard: "TRUE"}, {cEmail: agata, cStandard: "TRUE"}, {cEmail: ewa, cPBX: "paris", cStandard: "TRUE"}},
			want: [][]string{nil, nil, one("R-LIC-CAPACITY Contact Center Standard")}},
		{name: "a held seat is no new seat", rows: []cells{{cEmail: lucas, cPremium: "TRUE"}, {cEmail: sophie, cPremium: "TRUE", cFirst: "Sophie"}}},
		{name: "a rejected row frees no seat",
			rows: []cells{{cEmail: lucas, cPremium: "FALSE", cStatus: "gone"}, {cEmail: hugo, cPremium: "TRUE"}},
			want: [][]string{one("R-STATUS Status"), one("R-LIC-CAPACITY Contact Center Premium")}},
		{name: "inactive users hold their seats", rows: []cells{{cEmail: lucas, cStatus: "Inactive"}, {cEmail: hugo, cPremium: "TRUE"}},
			want: [][]string{nil, one("R-LIC-CAPACITY Contact Center Premium")}},
	})

	// Seats taken by accepted rows count for the rest of the file.
	wd := newWorld(rules.FullCustomer)
	v := rules.NewValidator(wd.env)
	for i, r := range []cells{{cEmail: lucas, cPremium: "FALSE"}, {cEmail: hugo, cStandard: "TRUE"}, {cEmail: ewa, cPBX: "paris", cStandard: "TRUE", cPremium: "TRUE"}} {
		in, fs := parse(i+2, r)
		v.Check(in, fs, wd.snap)
	}
	if p, s := v.SeatsUsed(); p != 1 || s != 2 {
		t.Errorf("seats used after the file: %d Premium, %d Standard; want 1 and 2", p, s)
	}

	// No seat limit: no finding however many seats are taken.
	wd = newWorld(rules.FullCustomer)
	wd.env.Org.PremiumSeats = -1
	for _, out := range wd.check(cells{cEmail: hugo, cPremium: "TRUE"}, cells{cEmail: agata, cPremium: "TRUE"}) {
		if len(out.Findings) != 0 {
			t.Errorf("no seat limit: %v", ids(out.Findings))
		}
	}

	// The message names the seats and says how to free one.
	out := newWorld(rules.FullCustomer).check(cells{cEmail: hugo, cPremium: "TRUE"})[0]
	if msg := out.Findings[0].Message; !strings.Contains(msg, "2 Contact Center Premium seats") || !strings.Contains(msg, "free a seat") {
		t.Errorf("R-LIC-CAPACITY message %q", msg)
	}
}

// R-ROLE-SINGLE: the user would hold more than one of Full, CC Service and
// Read-only Administrator, counting what the database holds and what the row
// sets; to switch, the row sets the old role to FALSE. Seed 004: "Do
// użytkownika można przypisać tylko jedną z następujących ról: Administrator
// usługi Contact Center, pełny administrator lub tylko do odczytu".
func TestRRoleSingle(t *testing.T) {
	runCases(t, []rowCase{
		{name: "CC Service added to a Read-only Administrator", rows: []cells{{cEmail: pawel, cCCS: "TRUE"}},
			want: [][]string{one("R-ROLE-SINGLE Contact Center Service Administrator")}},
		{name: "switch in one row", rows: []cells{{cEmail: pawel, cCCS: "TRUE", cRO: "FALSE"}}},
		{name: "Read-only added to a Full Administrator", rows: []cells{{cEmail: jean, cRO: "TRUE"}},
			want: [][]string{one("R-ROLE-SINGLE Read-only Administrator")}},
		{name: "two roles on a new user", rows: []cells{{cEmail: ewa, cPBX: "paris", cFull: "TRUE", cCCS: "TRUE"}},
			want: [][]string{one("R-ROLE-SINGLE Contact Center Service Administrator")}},
		{name: "three roles", rows: []cells{{cEmail: hugo, cFull: "TRUE", cCCS: "TRUE", cRO: "TRUE"}},
			want: [][]string{one("R-ROLE-SINGLE Read-only Administrator")}},
		{name: "the role held, written again", rows: []cells{{cEmail: jean, cFull: "TRUE", cCCS: "FALSE", cRO: "FALSE"}}},
		{name: "copied privileges replace the role held", rows: []cells{{cEmail: pawel, cCopy: sophie}}},
		// docs/REFERENCE.md §2, The sheet: explicit values in a row win over values copied with
		// Copy Privileges From.
		{name: "explicit role wins over the copied one", rows: []cells{{cEmail: hugo, cCopy: sophie, cFull: "TRUE"}}},
		{name: "two explicit roles with a copy", rows: []cells{{cEmail: hugo, cCopy: sophie, cFull: "TRUE", cRO: "TRUE"}},
			want: [][]string{one("R-ROLE-SINGLE Read-only Administrator")}},
	})

	wd := newWorld(rules.FullCustomer)
	outs := wd.check(cells{cEmail: pawel, cCCS: "TRUE"}, cells{cEmail: hugo, cCopy: sophie, cFull: "TRUE"}, cells{cEmail: agata, cCopy: sophie, cCCS: "FALSE"})
	if msg := outs[0].Findings[0].Message; !strings.Contains(msg, "already holds Read-only Administrator") || !strings.Contains(msg, "set the old role to FALSE") {
		t.Errorf("R-ROLE-SINGLE message %q should name the role held and how to switch", msg)
	}
	if a := outs[1].After; a.AdminRole != schema.RoleFull || a.CCRole != "Supervisors" {
		t.Errorf("copy from a CC Service Administrator with Full Administrator TRUE gives %q/%q, want full/Supervisors", a.AdminRole, a.CCRole)
	}
	if a := outs[2].After; a.AdminRole != schema.RoleNone || outs[2].Kind != rules.Updated {
		t.Errorf("copy with the copied role set to FALSE gives %q (%v), want no admin role", a.AdminRole, outs[2].Kind)
	}
}

// R-PRIMARY: the row changes the primary administrator's admin role, CC
// role, status (or home organization). Seed 000: "L’administrateur
// secondaire ne peut pas supprimer ou révoquer les privilèges de
// l’Administrateur principal".
func TestRPrimary(t *testing.T) {
	runCases(t, []rowCase{
		{name: "demoted", rows: []cells{{cEmail: marie, cFull: "FALSE"}}, want: [][]string{one("R-PRIMARY Full Administrator")}},
		{name: "switched to CC Service", rows: []cells{{cEmail: marie, cFull: "FALSE", cCCS: "TRUE"}}, want: [][]string{one("R-PRIMARY Full Administrator")}},
		{name: "second role", rows: []cells{{cEmail: marie, cRO: "TRUE"}},
			want: [][]string{{"R-ROLE-SINGLE Read-only Administrator", "R-PRIMARY Full Administrator"}}},
		{name: "deactivated", rows: []cells{{cEmail: marie, cStatus: "Inactive"}}, want: [][]string{one("R-PRIMARY Status")}},
		{name: "CC role changed", rows: []cells{{cEmail: marie, cCCRole: "Supervisors"}}, want: [][]string{one("R-PRIMARY CC Role")}},
		{name: "made external", rows: []cells{{cEmail: marie, cHome: "contoso"}}, want: [][]string{one("R-PRIMARY Home Organization")}},
		{name: "privileges copied from an agent", rows: []cells{{cEmail: marie, cCopy: hugo}},
			want: [][]string{{"R-PRIMARY Full Administrator", "R-PRIMARY CC Role"}}},
		{name: "same values written again", rows: []cells{{cEmail: marie, cFull: "TRUE", cCCS: "FALSE", cRO: "FALSE", cStatus: "active", cCCRole: "system default"}}},
		{name: "names, username and license may change", rows: []cells{{cEmail: marie, cFirst: "Marie-Claire", cUsername: "mdubois", cStandard: "TRUE"}},
			want: [][]string{one("W-FULL-ADMIN-LICENSE Contact Center Standard")}},
		{name: "by a partner's Full Administrator", actor: rules.FullPartner, rows: []cells{{cEmail: marie, cFull: "FALSE", cRO: "TRUE"}},
			want: [][]string{one("R-PRIMARY Full Administrator")}},
	})
	out := newWorld(rules.FullCustomer).check(cells{cEmail: marie, cStatus: "Inactive"})[0]
	if msg := out.Findings[0].Message; !strings.Contains(msg, "primary administrator of acme") {
		t.Errorf("R-PRIMARY message %q", msg)
	}
}

// R-EXT-ORG: Home Organization names no registered external organization.
func TestRExtOrg(t *testing.T) {
	runCases(t, []rowCase{
		{name: "unknown", rows: []cells{{cEmail: hugo, cHome: "globex"}}, want: [][]string{one("R-EXT-ORG Home Organization")}},
		{name: "unknown on a new user", rows: []cells{{cEmail: "li.wei@globex.example", cPBX: "paris", cHome: "Globex Corp"}},
			want: [][]string{one("R-EXT-ORG Home Organization")}},
		{name: "the tenant itself is no external organization", rows: []cells{{cEmail: hugo, cHome: "acme"}},
			want: [][]string{one("R-EXT-ORG Home Organization")}},
		{name: "registered, any case", rows: []cells{{cEmail: "li.wei@contoso.example", cPBX: "paris", cHome: "Contoso"}}},
		{name: "same as held", rows: []cells{{cEmail: nuno, cHome: "contoso"}}},
	})
	out := newWorld(rules.FullCustomer).check(cells{cEmail: "li.wei@contoso.example", cPBX: "paris", cHome: "CONTOSO"})[0]
	if out.After.HomeOrg != "contoso" {
		t.Errorf("home organization stored as %q, want the registered id contoso", out.After.HomeOrg)
	}
}

// R-EXT-PARTNER: CC Service Administrator granted to a user whose home
// organization is a partner. Seed 004: "Roli administrator usługi kontaktów
// nie można przypisać użytkownikowi zewnętrznemu z poziomu organizacji
// partnerskiej".
func TestRExtPartner(t *testing.T) {
	runCases(t, []rowCase{
		{name: "partner user", rows: []cells{{cEmail: kasia, cCCS: "TRUE"}}, want: [][]string{one("R-EXT-PARTNER Contact Center Service Administrator")}},
		{name: "partner Full Administrator switched", rows: []cells{{cEmail: tom, cFull: "FALSE", cCCS: "TRUE"}},
			want: [][]string{one("R-EXT-PARTNER Contact Center Service Administrator")}},
		{name: "new partner user", rows: []cells{{cEmail: "ian.wood@northwind.example", cPBX: "paris", cHome: "northwind", cCCS: "TRUE"}},
			want: [][]string{one("R-EXT-PARTNER Contact Center Service Administrator")}},
		{name: "member CC Service Administrator moved to the partner", rows: []cells{{cEmail: sophie, cHome: "northwind"}},
			want: [][]string{one("R-EXT-PARTNER Contact Center Service Administrator")}},
		{name: "Read-only for a partner user", rows: []cells{{cEmail: kasia, cRO: "TRUE"}}},
		{name: "Full for a partner user", rows: []cells{{cEmail: kasia, cFull: "TRUE"}}},
	})
}

// R-EXT-CC-ENABLED: CC Service Administrator granted to a user of an
// external organization that runs its own contact center. Seed 004: "Webex
// centrum kontaktów nie współpracuje z dodawaniem administratora obsługi
// centrum kontaktów z organizacji zewnętrznej, jeśli w organizacji
// zewnętrznej jest również włączona usługa Contact center".
func TestRExtCCEnabled(t *testing.T) {
	runCases(t, []rowCase{
		{name: "granted", rows: []cells{{cEmail: fiona, cCCS: "TRUE"}}, want: [][]string{one("R-EXT-CC-ENABLED Contact Center Service Administrator")}},
		{name: "CC Service Administrator moved there", rows: []cells{{cEmail: ana, cHome: "fabrikam"}},
			want: [][]string{one("R-EXT-CC-ENABLED Contact Center Service Administrator")}},
		{name: "copied", rows: []cells{{cEmail: fiona, cCopy: sophie}}, want: [][]string{one("R-EXT-CC-ENABLED Contact Center Service Administrator")}},
		{name: "other roles are fine", rows: []cells{{cEmail: fiona, cRO: "TRUE"}}},
		{name: "an organization without its own contact center", rows: []cells{{cEmail: nuno, cCCS: "TRUE"}}},
	})
}

// R-PBX: PBX unknown, or missing for a new user when the tenant has several.
// Seed 000: "Sélectionnez un autocom privé dans la liste Autocom privé si
// vous avez plusieurs autocoms privés".
func TestRPBX(t *testing.T) {
	runCases(t, []rowCase{
		{name: "missing for a new user", rows: []cells{{cEmail: ewa}}, want: [][]string{one("R-PBX PBX")}},
		{name: "unknown for a new user", rows: []cells{{cEmail: ewa, cPBX: "lyon"}}, want: [][]string{one("R-PBX PBX")}},
		{name: "unknown for an existing user", rows: []cells{{cEmail: hugo, cPBX: "lyon"}}, want: [][]string{one("R-PBX PBX")}},
		{name: "any case", rows: []cells{{cEmail: hugo, cPBX: "WARSAW"}}},
		{name: "blank for an existing user", rows: []cells{{cEmail: hugo, cFirst: "Hugo"}}},
	})
	wd := newWorld(rules.FullCustomer)
	if a := wd.check(cells{cEmail: hugo, cPBX: "WARSAW"})[0].After; a.PBX != "warsaw" {
		t.Errorf("PBX stored as %q, want warsaw", a.PBX)
	}
	wd.env.Org.PBXes = []string{"paris"}
	out := wd.check(cells{cEmail: ewa})[0]
	if len(out.Findings) != 0 || out.After.PBX != "paris" {
		t.Errorf("one PBX: a new user goes on it, got %q with %v", out.After.PBX, ids(out.Findings))
	}
}

// R-USERNAME: the username is taken in that PBX by another user, in the
// database or in an earlier row; a username freed by an earlier row can be
// taken. Seed 000: "Le nom d’utilisateur est renseigné dès que vous saisissez
// une adresse électronique, mais il peut être modifié. Il doit être propre à
// l’autocom privé."
func TestRUsername(t *testing.T) {
	runCases(t, []rowCase{
		{name: "held in the database", rows: []cells{{cEmail: hugo, cUsername: "jmartin"}}, want: [][]string{one("R-USERNAME Username")}},
		{name: "compared without case", rows: []cells{{cEmail: hugo, cUsername: "JMartin"}}, want: [][]string{one("R-USERNAME Username")}},
		{name: "held in another PBX", rows: []cells{{cEmail: hugo, cUsername: "anowak"}}},
		{name: "moved to a PBX where it is held", rows: []cells{{cEmail: hugo, cUsername: "pkowalski", cPBX: "warsaw"}}, want: [][]string{one("R-USERNAME Username")}},
		{name: "moved to a PBX where it is free", rows: []cells{{cEmail: hugo, cPBX: "warsaw"}}},
		{name: "new user", rows: []cells{{cEmail: ewa, cPBX: "paris", cUsername: "lbernard"}}, want: [][]string{one("R-USERNAME Username")}},
		{name: "new user whose email is a username", rows: []cells{{cEmail: hugo, cUsername: ewa}, {cEmail: ewa, cPBX: "paris"}},
			want: [][]string{nil, one("R-USERNAME PBX")}},
		{name: "own username in other letters", rows: []cells{{cEmail: hugo, cUsername: "HMoreau"}}},
		{name: "freed by an earlier row",
			rows: []cells{{cEmail: jean, cUsername: "jean.martin"}, {cEmail: hugo, cUsername: "jmartin"}}},
		{name: "freed by a later row is too late",
			rows: []cells{{cEmail: hugo, cUsername: "jmartin"}, {cEmail: jean, cUsername: "jean.martin"}},
			want: [][]string{one("R-USERNAME Username"), nil}},
		{name: "freed by a move to another PBX",
			rows: []cells{{cEmail: agata, cPBX: "paris"}, {cEmail: ewa, cPBX: "warsaw", cUsername: "anowak"}, {cEmail: piot, cPBX: "paris", cUsername: "anowak"}},
			want: [][]string{nil, nil, one("R-USERNAME Username")}},
		{name: "taken by an earlier row",
			rows: []cells{{cEmail: ewa, cPBX: "paris", cUsername: "ezielinska"}, {cEmail: hugo, cUsername: "EZielinska"}},
			want: [][]string{nil, one("R-USERNAME Username")}},
		{name: "taken by an earlier row in another PBX",
			rows: []cells{{cEmail: ewa, cPBX: "warsaw", cUsername: "ezielinska"}, {cEmail: hugo, cUsername: "ezielinska"}}},
		{name: "freed, taken, then taken again",
			rows: []cells{{cEmail: jean, cUsername: "jean.martin"}, {cEmail: hugo, cUsername: "jmartin"}, {cEmail: ewa, cPBX: "paris", cUsername: "jmartin"}},
			want: [][]string{nil, nil, one("R-USERNAME Username")}},
		{name: "a rejected row takes nothing",
			rows: []cells{{cEmail: ewa, cPBX: "paris", cUsername: "ezielinska", cStandard: "oui"}, {cEmail: hugo, cUsername: "ezielinska"}},
			want: [][]string{one("R-BOOL Contact Center Standard"), nil}},
		{name: "a rejected row frees nothing",
			rows: []cells{{cEmail: jean, cUsername: "jean.martin", cStatus: "?"}, {cEmail: hugo, cUsername: "jmartin"}},
			want: [][]string{one("R-STATUS Status"), one("R-USERNAME Username")}},
		{name: "handed round in one file",
			rows: []cells{{cEmail: jean, cUsername: "tmp-jm"}, {cEmail: hugo, cUsername: "jmartin"}, {cEmail: jean, cUsername: "hmoreau"}},
			want: [][]string{nil, nil, one("R-DUP-EMAIL Email")}},
	})
	out := newWorld(rules.FullCustomer).check(cells{cEmail: hugo, cUsername: "jmartin"})[0]
	if msg := out.Findings[0].Message; !strings.Contains(msg, jean) || !strings.Contains(msg, "PBX paris") {
		t.Errorf("R-USERNAME message %q should name the holder and the PBX", msg)
	}
	outs := newWorld(rules.FullCustomer).check(cells{cEmail: ewa, cPBX: "paris", cUsername: "ezielinska"}, cells{cEmail: hugo, cUsername: "ezielinska"})
	if msg := outs[1].Findings[0].Message; !strings.Contains(msg, "row 2") {
		t.Errorf("R-USERNAME message %q should name the earlier row", msg)
	}
}

// R-CC-ROLE: CC Role names no role of the tenant. Seed 000:
// "L’administrateur est affecté à un rôle par défaut appelé Défaut du
// système. Si vous avez créé un autre rôle, sélectionnez-le dans la liste
// déroulante."
func TestRCCRole(t *testing.T) {
	runCases(t, []rowCase{
		{name: "unknown", rows: []cells{{cEmail: sophie, cCCRole: "Team Leads"}}, want: [][]string{one("R-CC-ROLE CC Role")}},
		{name: "unknown on a new administrator", rows: []cells{{cEmail: ewa, cPBX: "paris", cCCS: "TRUE", cCCRole: "Défaut du système"}},
			want: [][]string{one("R-CC-ROLE CC Role")}},
		{name: "known, any case", rows: []cells{{cEmail: jean, cCCRole: "supervisors"}}},
	})
	wd := newWorld(rules.FullCustomer)
	outs := wd.check(
		cells{cEmail: jean, cCCRole: "SUPERVISORS"},
		cells{cEmail: ewa, cPBX: "paris", cCCS: "TRUE"}, // a new administrator gets System Default
		cells{cEmail: hugo, cRO: "TRUE"},                // so does a user who becomes one
		cells{cEmail: agata, cRO: "TRUE", cCCRole: "Supervisors"},
	)
	for i, want := range []string{"Supervisors", schema.DefaultCCRole, schema.DefaultCCRole, "Supervisors"} {
		if got := outs[i].After.CCRole; got != want {
			t.Errorf("row %d: CC role %q, want %q", i+2, got, want)
		}
	}
	if msg := wd.check(cells{cEmail: sophie, cCCRole: "Team Leads"})[0].Findings[0].Message; !strings.Contains(msg, "Supervisors, System Default") {
		t.Errorf("R-CC-ROLE message %q should list the roles", msg)
	}
}

// R-COPY-FROM: Copy Privileges From names no user of the tenant, in the
// database or an earlier accepted row. Seed 000: "Vous pouvez utiliser le
// profil d’un utilisateur existant comme modèle et copier les privilèges
// pour le nouvel utilisateur."
func TestRCopyFrom(t *testing.T) {
	runCases(t, []rowCase{
		{name: "nobody", rows: []cells{{cEmail: hugo, cCopy: "nobody@acme.example"}}, want: [][]string{one("R-COPY-FROM Copy Privileges From")}},
		{name: "not an address", rows: []cells{{cEmail: hugo, cCopy: "Sophie Laurent"}}, want: [][]string{one("R-COPY-FROM Copy Privileges From")}},
		{name: "a database user", rows: []cells{{cEmail: hugo, cCopy: sophie}}},
		{name: "any case", rows: []cells{{cEmail: hugo, cCopy: strings.ToUpper(sophie)}}},
		{name: "a user created earlier in the file",
			rows: []cells{{cEmail: ewa, cPBX: "paris", cFull: "TRUE", cCCRole: "Supervisors"}, {cEmail: piot, cPBX: "paris", cCopy: ewa}}},
		{name: "a user created later in the file",
			rows: []cells{{cEmail: piot, cPBX: "paris", cCopy: ewa}, {cEmail: ewa, cPBX: "paris", cFull: "TRUE"}},
			want: [][]string{one("R-COPY-FROM Copy Privileges From"), nil}},
		// Copying the privileges the user already holds changes nothing and
		// needs no permission.
		{name: "same privileges, by a CC Service Administrator", actor: rules.CCServiceCustomer, rows: []cells{{cEmail: sophie, cCopy: diego}}},
		{name: "other privileges, by a CC Service Administrator", actor: rules.CCServiceCustomer, rows: []cells{{cEmail: hugo, cCopy: diego}},
			want: [][]string{one("R-PERM Copy Privileges From")}},
		{name: "a user whose creation was rejected",
			rows: []cells{{cEmail: ewa, cPBX: "lyon", cFull: "TRUE"}, {cEmail: piot, cPBX: "paris", cCopy: ewa}},
			want: [][]string{one("R-PBX PBX"), one("R-COPY-FROM Copy Privileges From")}},
	})

	wd := newWorld(rules.FullCustomer)
	outs := wd.check(
		cells{cEmail: ewa, cPBX: "paris", cCCS: "TRUE", cCCRole: "Supervisors"},
		cells{cEmail: piot, cPBX: "paris", cCopy: ewa},
		cells{cEmail: jean, cFull: "FALSE", cRO: "TRUE"},
		cells{cEmail: hugo, cCopy: jean},
		cells{cEmail: agata, cCopy: sophie, cCCRole: "System Default"},
		cells{cEmail: "lena.kraus@acme.example", cPBX: "warsaw"},
		cells{cEmail: pawel, cCopy: "lena.kraus@acme.example"},
	)
	want := []struct {
		role schema.AdminRole
		cc   string
	}{
		{schema.RoleCCService, "Supervisors"},
		{schema.RoleCCService, "Supervisors"}, // copied from the user created in row 2
		{schema.RoleReadOnly, schema.DefaultCCRole},
		{schema.RoleReadOnly, schema.DefaultCCRole},  // copied as row 4 left jean
		{schema.RoleCCService, schema.DefaultCCRole}, // the explicit CC Role wins over the copied one
		{schema.RoleNone, ""},
		{schema.RoleNone, ""}, // copied from a new user without privileges
	}
	for i, w := range want {
		if len(outs[i].Findings) != 0 {
			t.Errorf("row %d: %v", i+2, ids(outs[i].Findings))
		}
		if a := outs[i].After; a.AdminRole != w.role || a.CCRole != w.cc {
			t.Errorf("row %d: privileges %q/%q, want %q/%q", i+2, a.AdminRole, a.CCRole, w.role, w.cc)
		}
	}
}

// W-FULL-ADMIN-LICENSE: a Full Administrator who holds a contact-center
// license can sign in only to the agent desktop. Raised when the row creates
// the user or changes its role or licenses. Seed 004: "W przypadku
// przydzielenia użytkownikowi pełnej roli z Webex licencją programu Contact
// Center nie będzie można uzyskać dostępu do funkcji administracyjnych w
// portalu zarządzania. Tacy użytkownicy mogą się logować tylko w Agent
// Desktop."
func TestWFullAdminLicense(t *testing.T) {
	runCases(t, []rowCase{
		{name: "license given to a Full Administrator", rows: []cells{{cEmail: jean, cStandard: "TRUE"}},
			want: [][]string{one("W-FULL-ADMIN-LICENSE Contact Center Standard")}},
		{name: "Full Administrator given to an agent", rows: []cells{{cEmail: lucas, cFull: "TRUE"}},
			want: [][]string{one("W-FULL-ADMIN-LICENSE Full Administrator")}},
		{name: "new Full Administrator with a license", rows: []cells{{cEmail: ewa, cPBX: "paris", cFull: "TRUE", cStandard: "TRUE"}},
			want: [][]string{one("W-FULL-ADMIN-LICENSE Contact Center Standard")}},
		{name: "copied Full Administrator onto an agent", rows: []cells{{cEmail: chloe, cCopy: jean}},
			want: [][]string{one("W-FULL-ADMIN-LICENSE Full Administrator")}},
		{name: "with a Premium seat freed earlier", rows: []cells{{cEmail: lucas, cPremium: "FALSE"}, {cEmail: jean, cPremium: "TRUE"}},
			want: [][]string{nil, one("W-FULL-ADMIN-LICENSE Contact Center Premium")}},
		{name: "CC Service Administrator with a license", rows: []cells{{cEmail: hugo, cCCS: "TRUE", cStandard: "TRUE"}}},
		{name: "Full Administrator without license", rows: []cells{{cEmail: hugo, cFull: "TRUE", cStandard: "FALSE"}}},
	})

	// A Full Administrator who already holds a license: rows that change
	// neither the role nor the licenses do not warn again.
	wd := newWorld(rules.FullCustomer)
	wd.snap.Users[jean].Standard = true
	wd.env.StandardUsed++
	outs := wd.check(cells{cEmail: jean, cFirst: "Jean", cStandard: "TRUE", cFull: "TRUE"})
	if len(outs[0].Findings) != 0 || outs[0].Kind != rules.Updated {
		t.Errorf("unchanged role and license: %v (%v)", ids(outs[0].Findings), outs[0].Kind)
	}
	wd = newWorld(rules.FullCustomer)
	wd.snap.Users[jean].Standard = true
	wd.env.StandardUsed++
	if outs := wd.check(cells{cEmail: jean, cStandard: "FALSE"}); len(outs[0].Findings) != 0 {
		t.Errorf("license revoked: %v", ids(outs[0].Findings))
	}
}

// Rules that look at state use the state after the earlier accepted rows:
// a rejected row leaves no trace of itself (its seats, usernames and
// privileges are not seen by later rows).
func TestRejectedRowLeavesNoTrace(t *testing.T) {
	wd := newWorld(rules.FullCustomer)
	v := rules.NewValidator(wd.env)
	rows := []cells{
		// rejected (R-STATUS): a new user with a Standard seat and username "ewa"
		{cEmail: ewa, cPBX: "paris", cUsername: "ewa", cStandard: "TRUE", cStatus: "hired"},
		// rejected (R-BOOL): would free a Premium seat and the username lbernard
		{cEmail: lucas, cPremium: "FALSE", cUsername: "lucas", cSend: "please"},
		{cEmail: hugo, cUsername: "ewa"},                                          // the username is free
		{cEmail: piot, cPBX: "paris", cCopy: ewa},                                 // ewa does not exist
		{cEmail: agata, cPremium: "TRUE"},                                         // no Premium seat was freed
		{cEmail: "lena.kraus@acme.example", cPBX: "paris", cUsername: "lbernard"}, // still held by lucas
	}
	want := [][]string{
		one("R-STATUS Status"),
		one("R-BOOL Send Activation Email"),
		nil,
		one("R-COPY-FROM Copy Privileges From"),
		one("R-LIC-CAPACITY Contact Center Premium"),
		one("R-USERNAME Username"),
	}
	for i, r := range rows {
		in, fs := parse(i+2, r)
		out := v.Check(in, fs, wd.snap)
		if got := ids(out.Findings); strings.Join(got, ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d: %q, want %q", i+2, got, want[i])
		}
		if i < 2 && (out.Kind != rules.Rejected || out.SendActivation) {
			t.Errorf("row %d: %v, activation %v; want rejected without activation", i+2, out.Kind, out.SendActivation)
		}
	}
	if p, s := v.SeatsUsed(); p != 2 || s != 1 {
		t.Errorf("seats after rejected rows: %d/%d, want 2/1 as before", p, s)
	}
}

// Several findings on one row are all reported, each on its column, in one
// pass: the administrator fixes the row once.
func TestSeveralFindingsOnOneRow(t *testing.T) {
	runCases(t, []rowCase{
		{name: "cell and state rules", rows: []cells{{
			cEmail: hugo, cPBX: "lyon", cHome: "globex", cCCRole: "Team Leads", cPremium: "TRUE", cStandard: "VRAI",
			cCopy: "nobody@acme.example", cStatus: "on leave", cRO: "yes", cDisplay: "Hugo\x00",
		}}, want: [][]string{{
			"R-TEXT Display Name", "R-STATUS Status", "W-BOOL-LOCALE Contact Center Standard", "R-BOOL Read-only Administrator",
			"R-PBX PBX", "R-EXT-ORG Home Organization", "R-COPY-FROM Copy Privileges From", "R-CC-ROLE CC Role",
			"R-LIC-TIER Contact Center Standard",
		}}},
		{name: "with permissions", actor: rules.CCServiceOther, rows: []cells{{
			cEmail: marie, cLast: "Dubois-Martin", cStatus: "Inactive", cFull: "FALSE", cCCS: "TRUE", cStandard: "TRUE",
		}}, want: [][]string{{
			"R-PRIMARY Full Administrator", "R-PRIMARY Status",
			"R-PERM Last Name", "R-PERM Status", "R-PERM Full Administrator",
		}}},
		{name: "username, licenses and external rules", rows: []cells{{
			cEmail: fiona, cUsername: "jmartin", cCCS: "TRUE", cPremium: "TRUE",
		}}, want: [][]string{{
			"R-LIC-CAPACITY Contact Center Premium", "R-USERNAME Username", "R-EXT-CC-ENABLED Contact Center Service Administrator",
		}}},
	})
}
