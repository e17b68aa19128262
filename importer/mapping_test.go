package importer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/mapping"
	"github.com/ccbulk/ccbulk/schema"
)

const testMapping = `name: t
columns:
  - source: Mail
    target: Email
  - source: Role
    targets: [Full Administrator, Contact Center Service Administrator, Read-only Administrator]
    values:
      Admin:     ["FALSE", "TRUE", "FALSE"]
      Agent:     ["FALSE", "FALSE", "FALSE"]
      Read Only: ["FALSE", "FALSE", "TRUE"]
  - source: Lic
    targets: [Contact Center Premium, Contact Center Standard]
    values:
      P: ["TRUE", "FALSE"]
      S: ["FALSE", "TRUE"]
constants:
  Send Activation Email: "FALSE"
ignore: [Notes]
`

// A mapped import goes through the same chunks as any other: with chunks
// of two rows, the state of earlier chunks (emails seen) still holds, the
// mapping's findings name the source columns, and the report keeps the
// source cells.
func TestMappedImportAcrossChunks(t *testing.T) {
	db := newTenant(t)
	prof, err := mapping.Parse("t.yaml", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.jsonl")
	csv := "Mail;Role;Lic;Notes\n" +
		"a@acme.example;Admin;P;first\n" +
		"b@acme.example;Agent;S;\n" +
		"c@acme.example;Boss;S;unknown role\n" +
		"A@acme.example;agent;s;twice\n" +
		"d@acme.example;read only;;\n"
	res := runImport(t, db, admin, csv, func(o *importer.Options) {
		o.Mapping, o.ChunkSize, o.Report = prof, 2, report
	})
	if res.Rows != 5 || res.Created != 3 || res.Rejected != 2 || len(res.IgnoredColumns) != 0 {
		t.Fatalf("result %+v", res)
	}
	want := map[string]schema.User{
		"a@acme.example": {AdminRole: schema.RoleCCService, Premium: true, CCRole: schema.DefaultCCRole},
		"b@acme.example": {Standard: true},
		"d@acme.example": {AdminRole: schema.RoleReadOnly, CCRole: schema.DefaultCCRole},
	}
	for email, w := range want {
		u := user(t, db, email)
		if u.AdminRole != w.AdminRole || u.Premium != w.Premium || u.Standard != w.Standard || u.CCRole != w.CCRole {
			t.Errorf("%s: role %q, premium %v, standard %v, CC role %q; want %+v", email, u.AdminRole, u.Premium, u.Standard, u.CCRole, w)
		}
	}
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM activation_outbox`); err != nil || queued != 0 {
		t.Errorf("activation requests = %d (%v), want none: the mapping sets Send Activation Email to FALSE", queued, err)
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	wantRows := []struct {
		row           int
		rule, column  string
		messagePrefix string
	}{
		{4, "R-BOOL", "Role", `"Boss" is not a value that mapping t lists for this column (its line 5 lists "Admin", "Agent", "Read Only")`},
		{5, "R-DUP-EMAIL", "Mail", "a@acme.example is also in row 2"},
	}
	if len(lines) != len(wantRows) {
		t.Fatalf("report:\n%s", data)
	}
	for i, w := range wantRows {
		var got struct {
			Row      int              `json:"row"`
			Findings []schema.Finding `json:"findings"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got.Row != w.row || len(got.Findings) != 1 || string(got.Findings[0].Rule) != w.rule ||
			got.Findings[0].Column != w.column || !strings.HasPrefix(got.Findings[0].Message, w.messagePrefix) {
			t.Errorf("report line %d = %s\nwant row %d %s on %s: %s", i+1, lines[i], w.row, w.rule, w.column, w.messagePrefix)
		}
	}

	// The CSV report carries the source columns, not the template's, split
	// on the source's ';'.
	csvReport := filepath.Join(t.TempDir(), "report.csv")
	runImport(t, db, admin, csv, func(o *importer.Options) { o.Mapping, o.Report = prof, csvReport })
	data, err = os.ReadFile(csvReport)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	if !strings.HasPrefix(text, "Mail;Role;Lic;Notes;Row;Result;Findings\n") || !strings.Contains(text, "\nc@acme.example;Boss;S;unknown role;4;error;") {
		t.Errorf("CSV report:\n%s", data)
	}
}
