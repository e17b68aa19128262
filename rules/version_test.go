package rules_test

import (
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

const cVersion = schema.ColVersion

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in  string
		org string
		n   int64
		ok  bool
	}{
		{"acme@42", "acme", 42, true},
		{"acme@0", "acme", 0, true},
		{"ACME@7", "ACME", 7, true},
		{"a@b@9", "a@b", 9, true}, // split at the last @
		{"acme@9223372036854775807", "acme", 9223372036854775807, true},
		{"acme@9223372036854775808", "", 0, false}, // over 63 bits
		{"acme@", "", 0, false},
		{"@42", "", 0, false},
		{"42", "", 0, false},
		{"acme", "", 0, false},
		{"acme@042", "", 0, false},
		{"acme@+42", "", 0, false},
		{"acme@-42", "", 0, false},
		{"acme@4 2", "", 0, false},
		{"acme@42x", "", 0, false},
		{"acme@٤٢", "", 0, false}, // digits of another script
		{"", "", 0, false},
	} {
		org, n, ok := rules.ParseVersion(tc.in)
		if org != tc.org || n != tc.n || ok != tc.ok {
			t.Errorf("ParseVersion(%q) = %q, %d, %v; want %q, %d, %v", tc.in, org, n, ok, tc.org, tc.n, tc.ok)
		}
	}
	if got := rules.FormatVersion("acme", 1234); got != "acme@1234" {
		t.Errorf("FormatVersion = %q", got)
	}
}

// versionWorld is the tenant of these tests with versions: hugo's row is
// at version 7; lucas, at 9, was last changed by batch 12, an import that
// changed his Status and made him a Read-only Administrator; chloe, at 11,
// by no batch (a change outside ccbulk).
func versionWorld() *world {
	wd := newWorld(rules.FullCustomer)
	wd.snap.Users[hugo].Version = 7
	wd.snap.Users[lucas].Version = 9
	wd.snap.Users[chloe].Version = 11
	wd.snap.Origins = map[string]rules.VersionOrigin{
		lucas: {Batch: 12, Kind: "import", Fields: []string{"admin_role", "status"}, NewRole: schema.RoleReadOnly},
		chloe: {},
	}
	return wd
}

// R-STALE: a Version that is not the user's state rejects the row if the
// row would change the user (alone: other findings of the row give way to
// it); a row that asks for what the user holds now passes; a blank Version
// checks nothing.
func TestRStale(t *testing.T) {
	for _, tc := range []struct {
		name string
		row  cells
		want string // the R-STALE message, in part; "" for none
	}{
		{"blank: no check", cells{cEmail: hugo, cFirst: "Hugo"}, ""},
		{"spaces only: blank", cells{cEmail: hugo, cFirst: "Hugo", cVersion: "  "}, ""},
		{"the user's state", cells{cEmail: hugo, cFirst: "Hugo", cVersion: "acme@7"}, ""},
		{"the organization in another letter case", cells{cEmail: hugo, cVersion: " ACME@7 "}, ""},
		{"older, but the row changes nothing: no check", cells{cEmail: chloe, cVersion: "acme@3"}, ""},
		{"older, the row changes nothing but queues an email", cells{cEmail: chloe, cSend: "TRUE", cVersion: "acme@3"}, chloe + " was changed outside ccbulk"},
		{"older, and the row has an error besides", cells{cEmail: chloe, cCCRole: "Nobody", cVersion: "acme@3"}, chloe + " was changed outside ccbulk"},
		{"older: changed outside ccbulk", cells{cEmail: chloe, cFirst: "Chlo", cVersion: "acme@3"}, chloe + " was changed outside ccbulk after the sheet was exported; export again, or clear the Version cell to overwrite that change"},
		{"older: changed by a batch", cells{cEmail: lucas, cLast: "B", cVersion: "acme@3"},
			lucas + " was changed by batch 12 (import) after the sheet was exported: Status, Read-only Administrator; export again, or clear the Version cell to overwrite"},
		{"newer than the database: also not its state", cells{cEmail: hugo, cFirst: "H", cVersion: "acme@8"}, hugo + " was changed after the sheet was exported"},
		{"not one ccbulk wrote", cells{cEmail: hugo, cVersion: "v7"}, `"v7" is not a Version ccbulk wrote`},
		{"another organization", cells{cEmail: hugo, cVersion: "globex@7"}, `Version "globex@7" is from organization globex, not acme`},
		{"a user that no longer exists", cells{cEmail: "gone@acme.example", cVersion: "acme@7"}, "gone@acme.example no longer exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := versionWorld().check(tc.row)[0]
			var stale []schema.Finding
			for _, f := range out.Findings {
				if f.Rule == schema.RStale {
					stale = append(stale, f)
				}
			}
			switch {
			case tc.want == "" && len(stale) > 0:
				t.Fatalf("R-STALE %q, want none", stale[0].Message)
			case tc.want == "":
				if out.Kind == rules.Rejected {
					t.Fatalf("rejected:\n%s", messages(out.Findings))
				}
			case len(stale) != 1 || len(out.Findings) != 1:
				t.Fatalf("findings:\n%s\nwant one R-STALE", messages(out.Findings))
			case !strings.Contains(stale[0].Message, tc.want) || stale[0].Column != "Version":
				t.Fatalf("R-STALE on %q: %q\nwant %q", stale[0].Column, stale[0].Message, tc.want)
			case out.Kind != rules.Rejected:
				t.Fatalf("a stale row is rejected, got %v", out.Kind)
			}
		})
	}
}

// The columns of a stale row's message are the sheet's own spellings.
func TestRStaleNamesTheSheetsColumns(t *testing.T) {
	wd := versionWorld()
	h := headers()
	h[cStatus], h[cRO] = "Statut", "Administrateur en lecture seule"
	in, fs := rules.ParseRow(2, func(c schema.Column) string {
		return map[schema.Column]string{cEmail: lucas, cFirst: "L", cVersion: "acme@1"}[c]
	}, h)
	out := rules.NewValidator(wd.env).Check(in, fs, wd.snap)
	if len(out.Findings) != 1 || !strings.Contains(out.Findings[0].Message, ": Statut, Administrateur en lecture seule;") {
		t.Errorf("findings:\n%s", messages(out.Findings))
	}
}

// OtherOrg finds a Version of another organization (F-ORG); IsStale finds
// the rows whose origin is looked up.
func TestVersionOtherOrgAndIsStale(t *testing.T) {
	for _, tc := range []struct {
		version string
		other   string
		stale   bool
	}{
		{"", "", false},
		{"acme@7", "", false},
		{"Acme@7", "", false},
		{"acme@6", "", true},
		{"globex@7", "globex", false}, // F-ORG stops the file first
		{"garbage", "", false},
	} {
		in, _ := parse(2, cells{cEmail: hugo, cVersion: tc.version})
		other, found := in.OtherOrg("acme")
		if other != tc.other || found != (tc.other != "") {
			t.Errorf("%q: OtherOrg = %q, %v; want %q", tc.version, other, found, tc.other)
		}
		if got := in.IsStale(&schema.User{Email: hugo, Version: 7}); got != tc.stale {
			t.Errorf("%q: IsStale = %v, want %v", tc.version, got, tc.stale)
		}
	}
}
