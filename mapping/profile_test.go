package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // "line: substring" of each error, in order
	}{
		{"empty file", "", []string{"0: the mapping file is empty"}},
		{"only a comment", "# nothing\n", []string{"0: the mapping file is empty"}},
		{"syntax error", "columns:\n  - source: A\n     target: Email\n", []string{"3: not valid YAML: mapping values are not allowed"}},
		{"tab indentation", "columns:\n\t- source: A\n", []string{"2: not valid YAML: found character that cannot start any token"}},
		{"not a mapping", "- a\n- b\n", []string{"1: the mapping file must be a mapping of keys"}},
		{"maps nothing", "name: x\n", []string{"1: the mapping maps nothing"}},
		{"unknown top key", "colums: []\nignore: [A]\n", []string{`1: unknown key "colums" in the mapping file`}},
		{"duplicate top key", "ignore: [A]\nignore: [B]\n", []string{`2: key "ignore" is given twice in the mapping file (also on line 1)`}},
		{"unknown target", "columns:\n  - source: A\n    target: Emial\n", []string{`3: target "Emial" is not a column of the template (did you mean "Email"?)`}},
		{"unknown target far from any", "columns:\n  - source: A\n    target: Shoe size\n", []string{`3: target "Shoe size" is not a column of the template; the columns are Email,`}},
		{"the Version is no target", "columns:\n  - source: Rev\n    target: version\n", []string{`3: target "version" is the Version that ccbulk's export writes`}},
		{"unknown rule key", "columns:\n  - source: A\n    target: Email\n    tagret: Username\n", []string{`4: unknown key "tagret" in a columns entry`}},
		{"no source", "columns:\n  - target: Email\n", []string{"2: the entry has no source"}},
		{"empty source", "columns:\n  - source: \"\"\n    target: Email\n", []string{"2: source is empty"}},
		{"star source", "columns:\n  - source: \"*\"\n    target: Email\n", []string{`2: source "*" would match every header`}},
		{"no target", "columns:\n  - source: A\n", []string{"2: the entry has no target"}},
		{"both target and targets", "columns:\n  - source: A\n    target: Email\n    targets: [Username]\n", []string{"2: the entry has both target and targets"}},
		{"target twice in targets", "columns:\n  - source: A\n    targets: [Email, E-mail]\n", []string{"3: Email is listed twice in targets"}},
		{"empty targets", "columns:\n  - source: A\n    targets: []\n", []string{"3: targets is empty"}},
		{"flag value not TRUE or FALSE", "columns:\n  - source: A\n    target: Contact Center Premium\n    values:\n      Y: yes\n", []string{`5: value "Y" gives Contact Center Premium "yes", which is not TRUE or FALSE`}},
		{"localized flag value", "columns:\n  - source: A\n    target: Full Administrator\n    values:\n      Y: VRAI\n", []string{`5: value "Y" gives Full Administrator "VRAI", which is not TRUE or FALSE`}},
		{"status value", "columns:\n  - source: A\n    target: Status\n    values:\n      E: Enabled\n", []string{`5: value "E" gives Status "Enabled", which is not Active or Inactive`}},
		{"value maps to nothing", "columns:\n  - source: A\n    target: Status\n    values:\n      E:\n", []string{`5: value "E" maps Status to nothing, leaving it unmapped`}},
		{"fan-out value short", "columns:\n  - source: R\n    targets: [Full Administrator, Read-only Administrator]\n    values:\n      Admin: [\"TRUE\"]\n", []string{`5: value "Admin" gives 1 values for the 2 targets (Full Administrator, Read-only Administrator), leaving Read-only Administrator unmapped`}},
		{"fan-out value long", "columns:\n  - source: R\n    targets: [Full Administrator, Read-only Administrator]\n    values:\n      Admin: [\"TRUE\", \"FALSE\", \"FALSE\"]\n", []string{`5: value "Admin" gives 3 values for the 2 targets`}},
		{"fan-out value to nothing", "columns:\n  - source: R\n    targets: [Full Administrator, Read-only Administrator]\n    values:\n      Admin:\n", []string{`5: value "Admin" maps to nothing, leaving Full Administrator, Read-only Administrator unmapped`}},
		{"fan-out value scalar", "columns:\n  - source: R\n    targets: [Full Administrator, Read-only Administrator]\n    values:\n      Admin: \"TRUE\"\n", []string{`5: value "Admin" must give a list of 2 values`}},
		{"value listed twice", "columns:\n  - source: A\n    target: CC Role\n    values:\n      Sup: Supervisors\n      \" SUP \": Supervisors\n", []string{`6: source value " SUP " is listed twice in values (also on line 5`}},
		{"empty values", "columns:\n  - source: A\n    target: CC Role\n    values: {}\n", []string{"4: values is empty"}},
		{"source mapped twice", "columns:\n  - source: A\n    target: Email\n  - source: [B, a]\n    target: Username\n", []string{`4: source "a" is also mapped on line 2`}},
		{"source mapped and ignored", "columns:\n  - source: A\n    target: Email\nignore: [a]\n", []string{`0: "a" is both mapped (line 2) and ignored`}},
		{"constant unknown column", "constants:\n  Site: paris\n", []string{`2: constant "Site" is not a column of the template`}},
		{"constant email", "constants:\n  Email: a@example.com\n", []string{"2: Email cannot be a constant"}},
		{"constant empty", "constants:\n  PBX: \"\"\n", []string{"2: constant PBX is empty"}},
		{"constant null", "constants:\n  PBX:\n", []string{"2: constant PBX maps PBX to nothing"}},
		{"constant bad flag", "constants:\n  Send Activation Email: no\n", []string{`2: constant Send Activation Email gives Send Activation Email "no", which is not TRUE or FALSE`}},
		{"constant twice", "constants:\n  PBX: a\n  pbx: b\n", []string{"3: constant PBX is also given on line 2"}},
		{"constant and rule", "columns:\n  - source: Site\n    target: PBX\nconstants:\n  PBX: paris\n", []string{"2: PBX is both mapped from a source column here and a constant on line 5"}},
		{"bad encoding", "encoding: latin-9\nignore: [A]\n", []string{`1: encoding "latin-9" is not one ccbulk reads`}},
		{"alias", "columns:\n  - &a\n    source: A\n    target: Email\n  - *a\n", []string{"5: a columns entry: anchors and aliases (*name) are not supported"}},
		{"ignore not a list", "ignore: Site\n", []string{"1: ignore must be a list of headers, not a single value"}},
		{"every mistake, in line order", "encoding: x\ncolumns:\n  - source: A\n    target: Nope\n    tagret: B\nconstants:\n  Email: a@b.c\ncolums: []\n",
			[]string{"1: encoding", `4: target "Nope"`, `5: unknown key "tagret"`, "7: Email cannot be a constant", `8: unknown key "colums"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof, err := Parse("m.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v; want errors %q", prof, tt.want)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v is not Errors", err)
			}
			var got []string
			for _, e := range errs {
				if e.File != "m.yaml" {
					t.Errorf("error names file %q, want m.yaml", e.File)
				}
				got = append(got, strings.TrimPrefix(e.Error(), "m.yaml:"))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				line, msg, _ := strings.Cut(w, ": ")
				prefix := line + ": "
				if line == "0" {
					prefix = " "
				}
				if !strings.HasPrefix(got[i], prefix) || !strings.Contains(got[i], msg) {
					t.Errorf("error %d = %q, want line %s and %q", i, got[i], line, msg)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	src := `# a full example
name: legacy
description: the old system
encoding: Windows-1252
columns:
  - source: [Mail, "E-mail *"]
    target: adresse électronique
  - source: Role
    targets: [Full Administrator, Contact Center Service Administrator]
    values:
      Admin: [TRUE, false]
      " cc  admin ": ["FALSE", "true"]
      Agent: ["", ""]
  - source: Enabled
    target: status
    values:
      1: active
      0: INACTIVE
constants:
  PBX: paris
  Send Activation Email: false
ignore: [Site, "Notes *"]
`
	prof, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if prof.Name != "legacy" || prof.Description != "the old system" || prof.Encoding != "windows-1252" {
		t.Errorf("name, description, encoding = %q, %q, %q", prof.Name, prof.Description, prof.Encoding)
	}
	if len(prof.Columns) != 3 {
		t.Fatalf("got %d column entries, want 3", len(prof.Columns))
	}
	email := prof.Columns[0]
	if !slices.Equal(email.Sources, []string{"Mail", "E-mail *"}) || !slices.Equal(email.Targets, []schema.Column{schema.ColEmail}) || email.Values != nil || email.Line != 6 {
		t.Errorf("email entry = %+v", email)
	}
	role := prof.Columns[1]
	wantValues := []Value{
		{From: "Admin", To: []string{"TRUE", "FALSE"}, Line: 11},
		{From: " cc  admin ", To: []string{"FALSE", "TRUE"}, Line: 12},
		{From: "Agent", To: []string{"", ""}, Line: 13},
	}
	if !slices.EqualFunc(role.Values, wantValues, func(a, b Value) bool {
		return a.From == b.From && a.Line == b.Line && slices.Equal(a.To, b.To)
	}) {
		t.Errorf("role values = %+v, want %+v", role.Values, wantValues)
	}
	status := prof.Columns[2]
	if status.Values[0].To[0] != "Active" || status.Values[1].To[0] != "Inactive" {
		t.Errorf("status values are not normalized: %+v", status.Values)
	}
	wantConst := []Constant{{Target: schema.ColPBX, Value: "paris", Line: 20}, {Target: schema.ColSendActivation, Value: "FALSE", Line: 21}}
	if !slices.Equal(prof.Constants, wantConst) {
		t.Errorf("constants = %+v, want %+v", prof.Constants, wantConst)
	}
	if !slices.Equal(prof.Ignore, []string{"Site", "Notes *"}) {
		t.Errorf("ignore = %q", prof.Ignore)
	}

	// Without a name, the profile is called after its file.
	prof, err = Parse("dir/m.yaml", []byte("ignore: [A]\n"))
	if err != nil || prof.Name != "dir/m.yaml" {
		t.Errorf("Parse without name = %+v, %v", prof, err)
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern, header string
		want            bool
	}{
		{"Email", "email", true},
		{"Email", " EMAIL ", true},
		{"Email", "Emails", false},
		{"Webex Contact Center Premium Agent [*]", "Webex Contact Center Premium Agent [Sub123]", true},
		{"Webex Contact Center Premium Agent [*]", "webex contact center  premium agent [SUB-9 x]", true},
		{"Webex Contact Center Premium Agent [*]", "Webex Contact Center Premium Agent", false},
		{"Webex Contact Center Premium Agent [*]", "Webex Contact Center Premium Agent [Sub123] (old)", false},
		{"Webex Contact Center Premium Agent [*]", "Webex Contact Center Standard Agent [Sub123]", false},
		{"[*]", "[x]", true},
		{"Webex *", "Webex Meetings [Sub1]", true},
		{"Webex *", "Webex", false},
		{"*Phone*", "Mobile Phone Number", true},
		{"*Phone*", "Fax", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"a*a", "a", false},
		{"Nom d'affichage", "Nom d’affichage", true},
	}
	for _, tt := range tests {
		p := compilePattern(tt.pattern)
		if got := p.match(schema.NormalizeHeader(tt.header)); got != tt.want {
			t.Errorf("pattern %q on %q = %v, want %v", tt.pattern, tt.header, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(file, []byte("name: mine\nignore: [A]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg      string
		wantName string
		wantErr  error
	}{
		{"webex", "webex", nil},
		{"WEBEX", "webex", nil},
		{"8x8", "8x8", nil},
		{file, "mine", nil},
		{filepath.Join(dir, "missing.yaml"), "", ErrNoProfile},
		{"webx", "", ErrNoProfile},
		{dir, "", ErrNoProfile},
		{"../profiles/webex", "", ErrNoProfile},
	}
	for _, tt := range tests {
		prof, err := Load(tt.arg)
		switch {
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Load(%q) error = %v, want %v", tt.arg, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("Load(%q): %v", tt.arg, err)
		case prof.Name != tt.wantName:
			t.Errorf("Load(%q) name = %q, want %q", tt.arg, prof.Name, tt.wantName)
		}
	}
}

// The built-in profiles and the mapping files under fixtures/legacy parse;
// the files under fixtures/legacy/bad do not.
func TestFixtureProfiles(t *testing.T) {
	for _, name := range Builtins() {
		data, _ := Builtin(name)
		if _, err := Parse(name, data); err != nil {
			t.Errorf("built-in %s: %v", name, err)
		}
	}
	if got := Builtins(); !slices.Equal(got, []string{"8x8", "webex"}) {
		t.Errorf("Builtins() = %q", got)
	}
	good, _ := filepath.Glob("../fixtures/legacy/*.yaml")
	bad, _ := filepath.Glob("../fixtures/legacy/bad/*.yaml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("no mapping files under fixtures/legacy")
	}
	for _, f := range good {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err != nil {
			t.Errorf("%v", err)
		}
	}
	for _, f := range bad {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err == nil {
			t.Errorf("%s parsed without error", f)
		}
	}
}
