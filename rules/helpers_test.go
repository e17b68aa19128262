package rules_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// The tests of this package need no database: each builds the Env and the
// Snapshot by hand, as the importer would load them, and drives
// rules.Validator.Check over rows parsed by rules.ParseRow, in file order.

// cells is one sheet row: the raw cell of each column; absent columns are blank.
type cells map[schema.Column]string

// Short names for the columns, so that tables of rows stay readable.
const (
	cEmail    = schema.ColEmail
	cFirst    = schema.ColFirstName
	cLast     = schema.ColLastName
	cDisplay  = schema.ColDisplayName
	cUsername = schema.ColUsername
	cPBX      = schema.ColPBX
	cStatus   = schema.ColStatus
	cHome     = schema.ColHomeOrg
	cPremium  = schema.ColPremium
	cStandard = schema.ColStandard
	cFull     = schema.ColFullAdmin
	cCCS      = schema.ColCCServiceAdmin
	cRO       = schema.ColReadOnlyAdmin
	cCCRole   = schema.ColCCRole
	cCopy     = schema.ColCopyFrom
	cSend     = schema.ColSendActivation
)

// The tenant of these tests: acme, two PBXes, 2 Premium seats (both taken),
// 3 Standard seats (one taken), the roles System Default and Supervisors,
// and three registered external organizations.
const (
	marie  = "marie.dubois@acme.example"    // primary administrator
	jean   = "jean.martin@acme.example"     // Full Administrator, member
	sophie = "sophie.laurent@acme.example"  // CC Service Administrator, member, Premium
	lucas  = "lucas.bernard@acme.example"   // agent, Premium
	chloe  = "chloe.petit@acme.example"     // agent, Standard
	hugo   = "hugo.moreau@acme.example"     // agent, no license
	pawel  = "pawel.kowalski@acme.example"  // Read-only Administrator, member
	agata  = "agata.nowak@acme.example"     // agent on the warsaw PBX
	tom    = "tom.baker@northwind.example"  // Full Administrator from the partner
	kasia  = "kasia.lis@northwind.example"  // partner user without admin role
	ana    = "ana.silva@contoso.example"    // CC Service Administrator from contoso (other)
	diego  = "diego.ruiz@contoso.example"   // CC Service Administrator from contoso (other)
	nuno   = "nuno.costa@contoso.example"   // contoso user without admin role
	fiona  = "fiona.grant@fabrikam.example" // fabrikam (other, runs its own contact center) user, no role
)

func baseUsers() []schema.User {
	u := func(email, username, pbx string, mod func(*schema.User)) schema.User {
		x := schema.User{Email: email, Username: username, PBX: pbx, Status: schema.StatusActive}
		if mod != nil {
			mod(&x)
		}
		return x
	}
	admin := func(role schema.AdminRole, cc string) func(*schema.User) {
		return func(x *schema.User) { x.AdminRole, x.CCRole = role, cc }
	}
	return []schema.User{
		u(marie, marie, "paris", func(x *schema.User) {
			x.AdminRole, x.CCRole, x.Primary, x.FirstName, x.LastName = schema.RoleFull, schema.DefaultCCRole, true, "Marie", "Dubois"
		}),
		u(jean, "jmartin", "paris", admin(schema.RoleFull, schema.DefaultCCRole)),
		u(sophie, "slaurent", "paris", func(x *schema.User) {
			x.AdminRole, x.CCRole, x.Premium = schema.RoleCCService, "Supervisors", true
		}),
		u(lucas, "lbernard", "paris", func(x *schema.User) {
			x.Premium, x.FirstName, x.LastName, x.DisplayName = true, "Lucas", "Bernard", "Lucas Bernard"
		}),
		u(chloe, "cpetit", "paris", func(x *schema.User) { x.Standard = true }),
		u(hugo, "hmoreau", "paris", nil),
		u(pawel, "pkowalski", "warsaw", admin(schema.RoleReadOnly, schema.DefaultCCRole)),
		u(agata, "anowak", "warsaw", nil),
		u(tom, "tbaker", "paris", func(x *schema.User) {
			x.AdminRole, x.CCRole, x.HomeOrg = schema.RoleFull, schema.DefaultCCRole, "northwind"
		}),
		u(kasia, "klis", "paris", func(x *schema.User) { x.HomeOrg = "northwind" }),
		u(ana, "asilva", "warsaw", func(x *schema.User) {
			x.AdminRole, x.CCRole, x.HomeOrg = schema.RoleCCService, schema.DefaultCCRole, "contoso"
		}),
		u(diego, "druiz", "paris", func(x *schema.User) {
			x.AdminRole, x.CCRole, x.HomeOrg = schema.RoleCCService, "Supervisors", "contoso"
		}),
		u(nuno, "ncosta", "warsaw", func(x *schema.User) { x.HomeOrg = "contoso" }),
		u(fiona, "fgrant", "paris", func(x *schema.User) { x.HomeOrg = "fabrikam" }),
	}
}

// actorOf names the actor the tests use for each actor kind: an administrator
// of that kind is in baseUsers for the kinds that can import.
var actorOf = map[rules.ActorKind]string{
	rules.FullCustomer:      jean,
	rules.FullPartner:       tom,
	rules.FullOther:         "olga.berg@contoso.example",
	rules.CCServiceCustomer: sophie,
	rules.CCServiceOther:    ana,
}

// world is the state a test starts from.
type world struct {
	env  *rules.Env
	snap *rules.Snapshot
}

// newWorld returns the tenant above with the actor of kind k.
func newWorld(k rules.ActorKind) *world {
	env := &rules.Env{
		Org: schema.Org{ID: "acme", Name: "Acme Assurances", PBXes: []string{"paris", "warsaw"},
			PremiumSeats: 2, StandardSeats: 3, PrimaryAdmin: marie},
		Externals: map[string]schema.ExternalOrg{
			"northwind": {ID: "northwind", Name: "Northwind Partners", Kind: schema.KindPartner},
			"contoso":   {ID: "contoso", Name: "Contoso Consulting", Kind: schema.KindOther},
			"fabrikam":  {ID: "fabrikam", Name: "Fabrikam Contact Services", Kind: schema.KindOther, CCEnabled: true},
		},
		CCRoles:   map[string]string{"system default": schema.DefaultCCRole, "supervisors": "Supervisors"},
		ActorKind: k,
	}
	snap := &rules.Snapshot{Users: map[string]*schema.User{}, Usernames: map[rules.UsernameKey]string{}}
	for _, u := range baseUsers() {
		snap.Users[u.Email] = &u
		snap.Usernames[rules.KeyOf(u.PBX, u.Username)] = u.Email
		if u.Premium {
			env.PremiumUsed++
		}
		if u.Standard {
			env.StandardUsed++
		}
		if u.Email == actorOf[k] {
			env.Actor = u
		}
	}
	if env.Actor.Email == "" {
		env.Actor = schema.User{Email: actorOf[k], Status: schema.StatusActive}
	}
	return w(env, snap)
}

func w(env *rules.Env, snap *rules.Snapshot) *world { return &world{env: env, snap: snap} }

// headers names every column as the template spells it.
func headers() [schema.NumColumns]string {
	var h [schema.NumColumns]string
	for c := range schema.NumColumns {
		h[c] = c.Header()
	}
	return h
}

// parse parses one row as sheet row n.
func parse(n int, row cells) (rules.Input, []schema.Finding) {
	return rules.ParseRow(n, func(c schema.Column) string { return row[c] }, headers())
}

// check runs the rows through one validator in file order (the first is
// sheet row 2) and returns their outcomes.
func (wd *world) check(rows ...cells) []rules.Outcome {
	v := rules.NewValidator(wd.env)
	out := make([]rules.Outcome, len(rows))
	for i, r := range rows {
		in, fs := parse(i+2, r)
		out[i] = v.Check(in, fs, wd.snap)
	}
	return out
}

// ids renders a row's findings as "RULE Column" (or "RULE" for the whole
// row), in the order they were found.
func ids(fs []schema.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		s := string(f.Rule)
		if f.Column != "" {
			s += " " + f.Column
		}
		out = append(out, s)
	}
	return out
}

// rowCase is one table row of a rule test: a sheet (rows in file order)
// and, for each row, the findings expected ("RULE Column").
type rowCase struct {
	name  string
	actor rules.ActorKind // FullCustomer unless set
	rows  []cells
	want  [][]string // per row; nil: no finding
}

// runCases checks each case and that rows with an error are rejected and
// the others accepted.
func runCases(t *testing.T, cases []rowCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outs := newWorld(tc.actor).check(tc.rows...)
			for i, out := range outs {
				var want []string
				if i < len(tc.want) {
					want = tc.want[i]
				}
				got := ids(out.Findings)
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("row %d: findings %q, want %q\n%s", i+2, got, want, messages(out.Findings))
				}
				wantRejected := slices.ContainsFunc(want, func(s string) bool { return !strings.HasPrefix(s, "W-") })
				if got := out.Kind == rules.Rejected; got != wantRejected {
					t.Errorf("row %d: rejected = %v, want %v", i+2, got, wantRejected)
				}
				for _, f := range out.Findings {
					if f.Row != i+2 {
						t.Errorf("row %d: finding %s names row %d", i+2, f.Rule, f.Row)
					}
					if f.Message == "" {
						t.Errorf("row %d: finding %s has no message", i+2, f.Rule)
					}
				}
			}
		})
	}
}

func messages(fs []schema.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\t%s\n", f.Format("sheet.csv"))
	}
	return b.String()
}

// one is a finding list of one finding.
func one(s string) []string { return []string{s} }
