package rules_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// valuesDiff is Diff by its definition: the fields of Values that differ.
func valuesDiff(before, after *schema.User) []rules.Change {
	var out []rules.Change
	oldVals, newVals := rules.Values(before), rules.Values(after)
	for i, c := range newVals {
		if c.New != oldVals[i].New {
			out = append(out, rules.Change{Field: c.Field, Old: oldVals[i].New, New: c.New})
		}
	}
	return out
}

// TestDiff: Diff of two users lists the fields of Values that differ, in
// Values' order; of a new user, the fields that are not empty or false.
func TestDiff(t *testing.T) {
	base := schema.User{Email: "a@x.example", FirstName: "Anna", LastName: "Nowak", DisplayName: "Anna Nowak",
		Username: "anowak", PBX: "warsaw", Status: schema.StatusActive, Standard: true, CCRole: "Supervisors"}
	other := schema.User{Email: "a@x.example", FirstName: "Ania", LastName: "Kowalska", DisplayName: "Ania K.",
		Username: "akowalska", PBX: "paris", Status: schema.StatusInactive, HomeOrg: "northwind", Premium: true,
		AdminRole: schema.RoleFull, CCRole: schema.DefaultCCRole}
	change := func(f func(u *schema.User)) schema.User { u := base; f(&u); return u }
	cases := []struct {
		name  string
		after schema.User
	}{
		{"unchanged", base},
		{"every field", other},
		{"first name", change(func(u *schema.User) { u.FirstName = "Ania" })},
		{"username case", change(func(u *schema.User) { u.Username = "ANowak" })},
		{"licenses", change(func(u *schema.User) { u.Premium, u.Standard = true, false })},
		{"admin role", change(func(u *schema.User) { u.AdminRole = schema.RoleReadOnly })},
		{"cc role cleared", change(func(u *schema.User) { u.CCRole = "" })},
		{"version only", change(func(u *schema.User) { u.Version = 42 })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, want := rules.Diff(&base, &c.after), valuesDiff(&base, &c.after)
			if !slices.Equal(got, want) {
				t.Errorf("Diff = %v, want %v", got, want)
			}
		})
	}
	var fields []string
	for _, c := range rules.Values(&base) {
		fields = append(fields, string(c.Field))
	}
	if want := schema.AuditFields(); !slices.Equal(fields, want) {
		t.Errorf("Values lists the fields %v, want the catalogue's %v (schema.UserFields but the key)", fields, want)
	}
	if got := rules.Diff(&base, &other); len(got) != len(rules.Values(&other)) {
		t.Errorf("Diff of users differing in every field lists %d fields, Values %d", len(got), len(rules.Values(&other)))
	}
	var want []rules.Change
	for _, c := range rules.Values(&base) {
		if c.New != "" && c.New != "false" {
			want = append(want, c)
		}
	}
	if got := rules.Diff(nil, &base); !slices.Equal(got, want) {
		t.Errorf("Diff of a new user = %v, want %v", got, want)
	}
}

// TestCheckUnchangedAllocs: checking a row that leaves its user as the
// database holds it (the bulk of a nightly sync) allocates once, the copy
// of the user the Outcome returns as Before: the row's check stays on the
// stack and Diff builds no lists to compare. Before, each such row also
// allocated the check (896 bytes) and two lists of the user's fields (576
// bytes each).
func TestCheckUnchangedAllocs(t *testing.T) {
	const warm, rows = 5000, 300
	env := &rules.Env{Org: schema.Org{ID: "acme", PBXes: []string{"Paris", "Warsaw"}, PremiumSeats: -1, StandardSeats: -1},
		Actor: schema.User{Email: "marie@acme.example", AdminRole: schema.RoleFull, Status: schema.StatusActive}, ActorKind: rules.FullCustomer}
	snap := &rules.Snapshot{Users: map[string]*schema.User{}, Usernames: map[rules.UsernameKey]string{}}
	ins := make([]rules.Input, warm+rows)
	for i := range ins {
		u := &schema.User{Email: fmt.Sprintf("user.%d@acme.example", i), FirstName: "Anna", LastName: "Nowak", DisplayName: "Anna Nowak",
			Username: fmt.Sprintf("u%d", i), PBX: "Warsaw", Status: schema.StatusActive, Standard: true, Version: int64(1000 + i)}
		snap.Users[u.Email] = u
		snap.Usernames[rules.KeyOf(u.PBX, u.Username)] = u.Email
		ins[i], _ = parse(i+2, cells{cEmail: u.Email, cFirst: "Anna", cLast: "Nowak", cDisplay: "Anna Nowak", cUsername: u.Username,
			cPBX: "Warsaw", cStatus: "Active", cPremium: "FALSE", cStandard: "TRUE", cFull: "FALSE", cCCS: "FALSE", cRO: "FALSE"})
	}
	v := rules.NewValidator(env)
	// The validator's tables grow with the rows it has seen: past the
	// first rows, they grow rarely enough to round away below.
	for _, in := range ins[:warm] {
		v.Check(in, nil, snap)
	}
	next := warm
	allocs := testing.AllocsPerRun(rows-1, func() {
		if out := v.Check(ins[next], nil, snap); out.Kind != rules.Unchanged {
			t.Fatalf("row %d: %v %v", ins[next].Row, out.Kind, out.Findings)
		}
		next++
	})
	if allocs > 1 {
		t.Errorf("checking an unchanged row allocates %.0f times, want 1 (Outcome.Before)", allocs)
	}
}
