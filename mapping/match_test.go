package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

const testProfile = `name: test
columns:
  - source: Mail
    target: Email
  - source: "License [*]"
    target: Contact Center Premium
    values:
      "Y": "TRUE"
      "N": "FALSE"
  - source: Role
    targets: [Full Administrator, Contact Center Service Administrator, Read-only Administrator]
    values:
      Full Admin:       ["TRUE",  "FALSE", "FALSE"]
      CC Service Admin: ["FALSE", "TRUE",  "FALSE"]
      Read Only:        ["FALSE", "FALSE", "TRUE"]
      Agent:            ["FALSE", "FALSE", "FALSE"]
  - source: Enabled
    target: Status
    values:
      "1": Active
      "0": Inactive
  - source: Team
    target: CC Role
    values:
      Agent: ""
      Supervisor: Supervisors
  - source: Login
    targets: [Username, Display Name]
constants:
  PBX: paris
ignore:
  - First Name
  - "Notes*"
`

func mustParse(t *testing.T, src string) *Profile {
	t.Helper()
	prof, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return prof
}

func TestMatch(t *testing.T) {
	prof := mustParse(t, testProfile)
	headers := []string{"Mail", "First Name", "Last Name", "License [Sub1]", "Role", "Notes (old)", "Shoe Size", "Login", "", "Row", "Status", "Findings"}
	l, err := prof.Match("in.csv", headers)
	if err != nil {
		t.Fatal(err)
	}
	wantIndex := map[schema.Column]int{
		schema.ColEmail: 0, schema.ColLastName: 2, schema.ColPremium: 3,
		schema.ColFullAdmin: 4, schema.ColCCServiceAdmin: 4, schema.ColReadOnlyAdmin: 4,
		schema.ColUsername: 7, schema.ColDisplayName: 7,
	}
	for c := range schema.NumColumns {
		want, ok := wantIndex[c]
		if !ok {
			want = -1
		}
		if l.Index[c] != want {
			t.Errorf("Index[%s] = %d, want %d", c, l.Index[c], want)
		}
	}
	// The ignore entry without * wins over the template's First Name; the
	// report's own columns are recognized; only Shoe Size is unknown.
	if !slices.Equal(l.Unknown, []string{"Shoe Size"}) {
		t.Errorf("Unknown = %q", l.Unknown)
	}
	if !slices.Equal(l.OriginalHeaders(), headers[:9]) {
		t.Errorf("OriginalHeaders = %q", l.OriginalHeaders())
	}
	var uses []string
	for _, u := range l.Uses {
		uses = append(uses, fmt.Sprintf("%s>%v/%v/%q/%v/%v", u.Header, u.Targets, u.Values, u.Constant, u.Ignored, u.Unknown))
	}
	wantUses := []string{
		`Mail>[Email]/false/""/false/false`,
		`First Name>[]/false/""/true/false`,
		`Last Name>[Last Name]/false/""/false/false`,
		`License [Sub1]>[Contact Center Premium]/true/""/false/false`,
		`Role>[Full Administrator Contact Center Service Administrator Read-only Administrator]/true/""/false/false`,
		`Notes (old)>[]/false/""/true/false`,
		`Shoe Size>[]/false/""/false/true`,
		`Login>[Username Display Name]/false/""/false/false`,
		`>[PBX]/false/"paris"/false/false`,
	}
	if !slices.Equal(uses, wantUses) {
		t.Errorf("Uses =\n%s\nwant\n%s", strings.Join(uses, "\n"), strings.Join(wantUses, "\n"))
	}
	headersOf := l.ColumnHeaders()
	if headersOf[schema.ColReadOnlyAdmin] != "Role" || headersOf[schema.ColPBX] != "PBX" || headersOf[schema.ColPremium] != "License [Sub1]" {
		t.Errorf("ColumnHeaders = %q", headersOf)
	}
}

// Under a mapping, a source column named Version is another system's: an
// unknown column, never read as the Version of ccbulk's export.
func TestMatchVersionIsTheSourcesOwn(t *testing.T) {
	l, err := mustParse(t, testProfile).Match("in.csv", []string{"Mail", "Version", "Wersja"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Index[schema.ColVersion] != -1 || !slices.Equal(l.Unknown, []string{"Version", "Wersja"}) {
		t.Errorf("Version at %d, unknown %q; want none and both unknown", l.Index[schema.ColVersion], l.Unknown)
	}
}

func TestMatchHeaderErrors(t *testing.T) {
	prof := mustParse(t, testProfile)
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"no email", []string{"Login", "Role"}, `in.csv:1: F-HEADER: no column gives Email under the mapping test; the sheet needs a column the mapping maps to Email ("Mail"), or one named Email (the header read was "Login", "Role")`},
		{"two sources for email", []string{"Mail", "Email"}, `in.csv:1: Email: F-HEADER: columns A and B ("Mail" and "Email") both give the Email column ("Mail" through the mapping's line 3; "Email" by its name); keep one of them, or ignore one in the mapping`},
		{"one entry matches two columns", []string{"Mail", "Enabled", " enabled "}, `in.csv:1:  enabled : F-HEADER: columns B and C ("Enabled" and " enabled ") both match the mapping's entry on line 17; keep one of them, or give each its own entry`},
		{"fan-out meets a template column", []string{"Mail", "Read-only Administrator", "Role"}, `in.csv:1: Role: F-HEADER: columns B and C ("Read-only Administrator" and "Role") both give the Read-only Administrator column`},
		{"constant meets a column", []string{"Mail", "PBX"}, `in.csv:1: PBX: F-HEADER: column B ("PBX") gives the PBX column, which the mapping sets to the constant "paris" (line 30); ignore the column in the mapping, or remove the constant`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := prof.Match("in.csv", tt.headers)
			var fe *schema.FileError
			if !errors.As(err, &fe) || fe.Rule != schema.FHeader {
				t.Fatalf("Match error = %v, want F-HEADER", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error =\n%s\nwant it to start with\n%s", err, tt.want)
			}
		})
	}
}

func TestCells(t *testing.T) {
	prof := mustParse(t, testProfile)
	headers := []string{"Mail", "License [Sub1]", "Role", "Enabled", "Team", "Login"}
	l, err := prof.Match("in.csv", headers)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		fields   []string
		want     map[schema.Column]string // the cells not blank
		findings []string
	}{
		{
			name:   "every value listed",
			fields: []string{"a@x.example", "y", "CC Service Admin", "1", "supervisor", "al"},
			want: map[schema.Column]string{schema.ColEmail: "a@x.example", schema.ColPremium: "TRUE",
				schema.ColFullAdmin: "FALSE", schema.ColCCServiceAdmin: "TRUE", schema.ColReadOnlyAdmin: "FALSE",
				schema.ColStatus: "Active", schema.ColCCRole: "Supervisors", schema.ColUsername: "al", schema.ColDisplayName: "al",
				schema.ColPBX: "paris"},
		},
		{
			name:   "values compare without case and spaces",
			fields: []string{"a@x.example", " N ", "  read   only ", "0", "AGENT", ""},
			want: map[schema.Column]string{schema.ColEmail: "a@x.example", schema.ColPremium: "FALSE",
				schema.ColFullAdmin: "FALSE", schema.ColCCServiceAdmin: "FALSE", schema.ColReadOnlyAdmin: "TRUE",
				schema.ColStatus: "Inactive", schema.ColPBX: "paris"},
		},
		{
			name:   "blank cells change nothing",
			fields: []string{"a@x.example", "", " ", "", ""},
			want:   map[schema.Column]string{schema.ColEmail: "a@x.example", schema.ColReadOnlyAdmin: "", schema.ColPBX: "paris"},
		},
		{
			name:   "unlisted values",
			fields: []string{"a@x.example", "maybe", "Supervisor", "2", "Analysts", "al"},
			want: map[schema.Column]string{schema.ColEmail: "a@x.example", schema.ColCCRole: "Analysts",
				schema.ColUsername: "al", schema.ColDisplayName: "al", schema.ColPBX: "paris"},
			findings: []string{
				`License [Sub1]: R-BOOL: "maybe" is not a value that mapping test lists for this column (its line 5 lists "Y", "N")`,
				`Role: R-BOOL: "Supervisor" is not a value that mapping test lists for this column (its line 10 lists "Full Admin", "CC Service Admin", "Read Only", "Agent")`,
				`Enabled: R-STATUS: "2" is not a value that mapping test lists for this column (its line 17 lists "1", "0")`,
			},
		},
		{
			name:   "a short row",
			fields: []string{"a@x.example"},
			want:   map[schema.Column]string{schema.ColEmail: "a@x.example", schema.ColPBX: "paris"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cells [schema.NumColumns]string
			for c := range cells {
				cells[c] = "stale" // the previous row's cells must not leak
			}
			fs := l.Cells(7, tt.fields, &cells)
			for c := range schema.NumColumns {
				if cells[c] != tt.want[c] {
					t.Errorf("%s = %q, want %q", c, cells[c], tt.want[c])
				}
			}
			if len(fs) != len(tt.findings) {
				t.Fatalf("findings = %v, want %d", fs, len(tt.findings))
			}
			for i, f := range fs {
				got := fmt.Sprintf("%s: %s: %s", f.Column, f.Rule, f.Message)
				if f.Row != 7 || !strings.HasPrefix(got, tt.findings[i]) {
					t.Errorf("finding %d = row %d %q, want row 7 %q", i, f.Row, got, tt.findings[i])
				}
			}
		})
	}
}

// Each built-in profile maps the header of its fixture export completely.
func TestBuiltinsOnFixtureHeaders(t *testing.T) {
	tests := []struct {
		profile string
		file    sheet.Options
		path    string
		want    map[schema.Column]string // template column → source header
		unknown []string
	}{
		{
			profile: "webex", path: "../fixtures/legacy/webex-users.csv",
			want: map[schema.Column]string{
				schema.ColEmail: "User ID/Email (Required)", schema.ColFirstName: "First Name", schema.ColLastName: "Last Name",
				schema.ColDisplayName: "Display Name", schema.ColStatus: "User Status",
				schema.ColPremium:  "Webex Contact Center Premium Agent [Sub123]",
				schema.ColStandard: "Webex Contact Center Standard Agent [Sub123]",
			},
			unknown: []string{"Cost Center"},
		},
		{
			profile: "8x8", path: "../fixtures/legacy/8x8-users.csv", file: sheet.Options{Encoding: "windows-1252"},
			want: map[schema.Column]string{
				schema.ColEmail: "Email", schema.ColFirstName: "First Name", schema.ColLastName: "Last Name",
				schema.ColUsername: "User Name", schema.ColPBX: "PBX", schema.ColStatus: "Profile Status",
				schema.ColCCServiceAdmin: "VCC Administrator", schema.ColStandard: "VCC Agent",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			prof, err := Load(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			r, err := sheet.Open(tt.path, nil, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			l, err := prof.Match(tt.path, r.Header())
			if err != nil {
				t.Fatal(err)
			}
			for c := range schema.NumColumns {
				got := ""
				if i := l.Index[c]; i >= 0 {
					got = l.Headers[i]
				}
				if got != tt.want[c] {
					t.Errorf("%s comes from %q, want %q", c, got, tt.want[c])
				}
			}
			if !slices.Equal(l.Unknown, tt.unknown) {
				t.Errorf("Unknown = %q, want %q", l.Unknown, tt.unknown)
			}
		})
	}
}

// One license per subscription: an entry whose targets are all flags may
// match several columns; TRUE in any of them wins.
func TestCellsMergeFlagColumns(t *testing.T) {
	prof := mustParse(t, testProfile)
	l, err := prof.Match("in.csv", []string{"Mail", "License [A]", "License [B]"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Index[schema.ColPremium] != 1 || len(l.Uses) != 4 {
		t.Errorf("Index = %v, Uses = %+v", l.Index, l.Uses)
	}
	tests := []struct {
		a, b, want string
		finding    string
	}{
		{"Y", "", "TRUE", ""},
		{"", "n", "FALSE", ""},
		{"N", "Y", "TRUE", ""},
		{"Y", "N", "TRUE", ""},
		{"N", "N", "FALSE", ""},
		{"", "", "", ""},
		{"maybe", "Y", "TRUE", "License [A]"},
		{"N", "maybe", "FALSE", "License [B]"},
	}
	for _, tt := range tests {
		var cells [schema.NumColumns]string
		fs := l.Cells(2, []string{"a@x.example", tt.a, tt.b}, &cells)
		if cells[schema.ColPremium] != tt.want {
			t.Errorf("%q and %q give %q, want %q", tt.a, tt.b, cells[schema.ColPremium], tt.want)
		}
		switch {
		case tt.finding == "" && len(fs) > 0:
			t.Errorf("%q and %q: findings %v", tt.a, tt.b, fs)
		case tt.finding != "" && (len(fs) != 1 || fs[0].Column != tt.finding || fs[0].Rule != schema.RBool):
			t.Errorf("%q and %q: findings %v, want R-BOOL on %s", tt.a, tt.b, fs, tt.finding)
		}
	}
}

func TestMergeFlags(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"", "", ""}, {"TRUE", "", "TRUE"}, {"", "false", "false"}, {"FALSE", "true", "TRUE"},
		{"false", "FALSE", "FALSE"}, {"yes", "TRUE", "yes"}, {"TRUE", "x", "x"},
	}
	for _, tt := range tests {
		if got := mergeFlags(tt.a, tt.b); got != tt.want {
			t.Errorf("mergeFlags(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMatchAliases: a header the profile maps is the profile's, never
// W-HEADER-ALIAS, even when it is also a French or Polish template header;
// a header that falls through to the template's columns under its French or
// Polish name is reported as an alias.
func TestMatchAliases(t *testing.T) {
	prof := mustParse(t, `name: aliases
columns:
  - source: Nom
    target: Display Name
  - source: Courriel
    target: Email
`)
	l, err := prof.Match("in.csv", []string{"Nom", "Courriel", "Prénom", "Last Name", "Statut"})
	if err != nil {
		t.Fatal(err)
	}
	want := []sheet.Alias{{Header: "Prénom", Column: schema.ColFirstName}, {Header: "Statut", Column: schema.ColStatus}}
	if !slices.Equal(l.Aliased, want) {
		t.Errorf("aliased %v, want %v", l.Aliased, want)
	}
	for _, u := range l.Uses {
		if u.Alias != slices.ContainsFunc(want, func(a sheet.Alias) bool { return a.Header == u.Header }) {
			t.Errorf("use of %q: alias %v", u.Header, u.Alias)
		}
	}
}
