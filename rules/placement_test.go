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
