package rules_test

import (
	"fmt"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// benchRows returns the parsed rows of n new users the way an HR sheet
// lists them: names, a username, a PBX, a license for most.
func benchRows(b *testing.B, n int) []rules.Input {
	headers := schema.Headers()
	var hs [schema.NumColumns]string
	copy(hs[:], headers)
	firsts := []string{"Łukasz", "Hélène", "Jürgen", "Begoña", "Siobhán", "Zofia"}
	lasts := []string{"Wójcik", "Lefèvre", "Müller", "Peña", "O'Brien", "Dąbrowska"}
	ins := make([]rules.Input, n)
	for i := range n {
		first, last := firsts[i%len(firsts)], lasts[i%len(lasts)]
		cells := [schema.NumColumns]string{
			schema.ColEmail: fmt.Sprintf("user.%d@acme.example", i), schema.ColFirstName: first, schema.ColLastName: last,
			schema.ColDisplayName: first + " " + last, schema.ColUsername: fmt.Sprintf("u%d", i),
			schema.ColPBX: []string{"paris", "warsaw"}[i%2], schema.ColStatus: "Active",
			schema.ColPremium: []string{"TRUE", "FALSE"}[i%3%2], schema.ColStandard: "FALSE",
			schema.ColFullAdmin: "FALSE", schema.ColCCServiceAdmin: "FALSE", schema.ColReadOnlyAdmin: "FALSE",
		}
		in, fs := rules.ParseRow(i+2, func(c schema.Column) string { return cells[c] }, hs)
		if len(fs) > 0 {
			b.Fatalf("row %d: %v", i+2, fs)
		}
		ins[i] = in
	}
	return ins
}

func benchEnv() *rules.Env {
	return &rules.Env{
		Org: schema.Org{ID: "acme", PBXes: []string{"paris", "warsaw"}, PremiumSeats: -1, StandardSeats: -1,
			PrimaryAdmin: "marie@acme.example"},
		Externals: map[string]schema.ExternalOrg{"northwind": {ID: "northwind", Kind: schema.KindPartner}},
		CCRoles:   map[string]string{"system default": schema.DefaultCCRole, "supervisors": "Supervisors"},
		Actor:     schema.User{Email: "marie@acme.example", AdminRole: schema.RoleFull, Status: schema.StatusActive},
		ActorKind: rules.FullCustomer,
	}
}

// BenchmarkParseRow parses the cells of one row.
func BenchmarkParseRow(b *testing.B) {
	headers := schema.Headers()
	var hs [schema.NumColumns]string
	copy(hs[:], headers)
	cells := [schema.NumColumns]string{
		schema.ColEmail: "lukasz.wojcik.1x@acme.example", schema.ColFirstName: "Łukasz", schema.ColLastName: "Wójcik",
		schema.ColDisplayName: "Łukasz Wójcik", schema.ColUsername: "lwojcik1x", schema.ColPBX: "warsaw",
		schema.ColStatus: "Active", schema.ColPremium: "TRUE", schema.ColStandard: "FALSE",
		schema.ColFullAdmin: "FALSE", schema.ColCCServiceAdmin: "FALSE", schema.ColReadOnlyAdmin: "FALSE",
	}
	cell := func(c schema.Column) string { return cells[c] }
	b.ReportAllocs()
	for b.Loop() {
		if _, fs := rules.ParseRow(2, cell, hs); len(fs) > 0 {
			b.Fatal(fs)
		}
	}
}

// BenchmarkValidatorNewUsers checks rows of new users in file order, the
// per-row work of a first import, with the validator's state growing.
func BenchmarkValidatorNewUsers(b *testing.B) {
	const rows = 50_000
	ins := benchRows(b, rows)
	snap := &rules.Snapshot{Users: map[string]*schema.User{}, Usernames: map[rules.UsernameKey]string{}}
	b.ReportAllocs()
	for b.Loop() {
		v := rules.NewValidator(benchEnv())
		for i := range ins {
			if out := v.Check(ins[i], nil, snap); out.Kind != rules.Created {
				b.Fatalf("row %d: %v %v", ins[i].Row, out.Kind, out.Findings)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// BenchmarkValidatorUnchanged checks rows of users the database holds as
// the rows say: the bulk of a nightly sync.
func BenchmarkValidatorUnchanged(b *testing.B) {
	const rows = 50_000
	ins := benchRows(b, rows)
	snap := &rules.Snapshot{Users: make(map[string]*schema.User, rows), Usernames: map[rules.UsernameKey]string{}}
	v := rules.NewValidator(benchEnv())
	for i := range ins {
		out := v.Check(ins[i], nil, snap)
		u := out.After
		snap.Users[u.Email] = &u
		snap.Usernames[rules.KeyOf(u.PBX, u.Username)] = u.Email
	}
	b.ReportAllocs()
	for b.Loop() {
		v := rules.NewValidator(benchEnv())
		for i := range ins {
			if out := v.Check(ins[i], nil, snap); out.Kind != rules.Unchanged {
				b.Fatalf("row %d: %v %v", ins[i].Row, out.Kind, out.Findings)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
