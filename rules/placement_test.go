package rules_test

import (
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// TestPlacement: the PBX and username a row leaves its user with, which
// the importer asks before the row is checked (to fetch the holders of
// the usernames a chunk would take) and the validator uses to check it.
func TestPlacement(t *testing.T) {
	wd := newWorld(rules.FullCustomer)
	agataBefore := *wd.snap.Users[agata] // on the warsaw PBX
	one := &rules.Env{Org: schema.Org{ID: "solo", PBXes: []string{"main"}}}
	cases := []struct {
		name         string
		env          *rules.Env
		row          cells
		before       *schema.User
		pbx, user    string
		ok, keepsOld bool
	}{
		{"new user on the only PBX, username the email", one, cells{cEmail: "a@x.example"}, nil, "main", "a@x.example", true, false},
		{"new user, several PBXes, none named", wd.env, cells{cEmail: "a@x.example"}, nil, "", "a@x.example", false, false},
		{"PBX named in another letter case", wd.env, cells{cEmail: "a@x.example", cPBX: "WARSAW"}, nil, "warsaw", "a@x.example", true, false},
		{"unknown PBX", wd.env, cells{cEmail: "a@x.example", cPBX: "lyon"}, nil, "", "a@x.example", false, false},
		{"existing user keeps PBX and username", wd.env, cells{cEmail: agata}, &agataBefore, "warsaw", agataBefore.Username, true, true},
		{"existing user, username in another case", wd.env, cells{cEmail: agata, cUsername: strings.ToUpper(agataBefore.Username)}, &agataBefore, "warsaw", strings.ToUpper(agataBefore.Username), true, true},
		{"existing user moved to another PBX", wd.env, cells{cEmail: agata, cPBX: "Paris"}, &agataBefore, "paris", agataBefore.Username, true, false},
		{"existing user renamed", wd.env, cells{cEmail: agata, cUsername: "agata2"}, &agataBefore, "warsaw", "agata2", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, _ := parse(2, c.row)
			pbx, user, ok := rules.Placement(c.env, in, c.before)
			if pbx != c.pbx || user != c.user || ok != c.ok {
				t.Errorf("Placement = %q, %q, %v; want %q, %q, %v", pbx, user, ok, c.pbx, c.user, c.ok)
			}
			if got := rules.KeepsUsername(c.before, pbx, user); got != c.keepsOld {
				t.Errorf("KeepsUsername = %v, want %v", got, c.keepsOld)
			}
		})
	}
}

// TestPlacementAllocs: resolving the PBX of a row that spells it as it was
// created (with capitals, as an organization may name its PBXes) allocates
// nothing. The importer and the validator each resolve every row's PBX: a
// lower-cased copy of the cell and of each PBX name would be four
// allocations a row of a million-row sync.
func TestPlacementAllocs(t *testing.T) {
	env := &rules.Env{Org: schema.Org{ID: "acme", PBXes: []string{"Paris", "Warsaw"}}}
	in, _ := parse(2, cells{cEmail: "a@x.example", cPBX: "Warsaw", cUsername: "awojcik"})
	before := &schema.User{Email: "a@x.example", PBX: "Warsaw", Username: "AWojcik"}
	var pbx string
	allocs := testing.AllocsPerRun(100, func() {
		var ok bool
		if pbx, _, ok = rules.Placement(env, in, before); !ok {
			t.Fatal("Warsaw not matched")
		}
	})
	if pbx != "Warsaw" {
		t.Errorf("Placement's PBX = %q, want Warsaw", pbx)
	}
	if allocs != 0 {
		t.Errorf("Placement allocates %.0f times a row, want 0", allocs)
	}
}
