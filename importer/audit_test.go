package importer_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
)

// auditOf returns the audit trail of a batch as docs/REFERENCE.md words it, one line per
// field change ("email field old -> new", <nil> for NULL), from the view
// changes, in email and field order.
func auditOf(t *testing.T, tn tenant, batch int64) []string {
	t.Helper()
	var rows []struct {
		Email string  `db:"email"`
		Field string  `db:"field"`
		Old   *string `db:"old_value"`
		New   *string `db:"new_value"`
	}
	if err := tn.db.Select(&rows, `SELECT email, field, old_value, new_value FROM changes
		WHERE tenant_id = $1 AND batch_id = $2 ORDER BY email, field`, tn.org, batch); err != nil {
		t.Fatal(err)
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, r.Email+" "+r.Field+" "+text(r.Old)+" -> "+text(r.New))
	}
	return lines
}

func text(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return "'" + *s + "'"
}

// TestAuditTrail: every applied field change is recorded, whichever path
// wrote it: new users (copied straight into users, their audit rows from
// the client), changed users (the merge), --sync's deactivations, and an
// undo, which records the batch's changes reversed.
func TestAuditTrail(t *testing.T) {
	tn := newAcme(t)
	steps := []struct {
		name  string
		sheet string
		opts  func(*importer.Options)
		undo  bool // undo the previous step's batch instead
		want  []string
	}{
		{
			name: "new users",
			sheet: "Email,First Name,Last Name,Username,PBX,Contact Center Premium,Full Administrator,Send Activation Email\n" +
				"zoe.martin@acme.example,Zoé,Martin,zmartin,warsaw,TRUE,FALSE,FALSE\n" +
				"abel.nowak@acme.example,,,,paris,FALSE,TRUE,\n",
			want: []string{
				"abel.nowak@acme.example admin_role <nil> -> 'full'",
				"abel.nowak@acme.example cc_role <nil> -> 'System Default'",
				"abel.nowak@acme.example pbx <nil> -> 'paris'",
				"abel.nowak@acme.example status <nil> -> 'active'",
				"abel.nowak@acme.example username <nil> -> 'abel.nowak@acme.example'",
				"zoe.martin@acme.example first_name <nil> -> 'Zoé'",
				"zoe.martin@acme.example last_name <nil> -> 'Martin'",
				"zoe.martin@acme.example pbx <nil> -> 'warsaw'",
				"zoe.martin@acme.example premium <nil> -> 'true'",
				"zoe.martin@acme.example status <nil> -> 'active'",
				"zoe.martin@acme.example username <nil> -> 'zmartin'",
			},
		},
		{
			name: "changed users, one new",
			sheet: "Email,Last Name,PBX,Contact Center Premium,Contact Center Standard,Full Administrator\n" +
				"zoe.martin@acme.example,Martin-Roux,,FALSE,TRUE,\n" +
				"abel.nowak@acme.example,,,,,FALSE\n" +
				"lea.girard@acme.example,Girard,,,,\n" + // unchanged
				"ugo.petit@acme.example,Petit,paris,,,\n",
			want: []string{
				"abel.nowak@acme.example admin_role 'full' -> ''",
				"ugo.petit@acme.example last_name <nil> -> 'Petit'",
				"ugo.petit@acme.example pbx <nil> -> 'paris'",
				"ugo.petit@acme.example status <nil> -> 'active'",
				"ugo.petit@acme.example username <nil> -> 'ugo.petit@acme.example'",
				"zoe.martin@acme.example last_name 'Martin' -> 'Martin-Roux'",
				"zoe.martin@acme.example premium 'true' -> 'false'",
				"zoe.martin@acme.example standard 'false' -> 'true'",
			},
		},
		{
			name: "undo of the changes",
			undo: true,
			want: []string{
				"abel.nowak@acme.example admin_role '' -> 'full'",
				"ugo.petit@acme.example last_name 'Petit' -> <nil>",
				"ugo.petit@acme.example pbx 'paris' -> <nil>",
				"ugo.petit@acme.example status 'active' -> <nil>",
				"ugo.petit@acme.example username 'ugo.petit@acme.example' -> <nil>",
				"zoe.martin@acme.example last_name 'Martin-Roux' -> 'Martin'",
				"zoe.martin@acme.example premium 'false' -> 'true'",
				"zoe.martin@acme.example standard 'true' -> 'false'",
			},
		},
	}
	var last int64
	for _, s := range steps {
		var batch int64
		if s.undo {
			res, err := undo(tn.db, last, primary)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			batch = res.BatchID
		} else {
			res, err := tn.importSheet(t, primary, s.sheet, s.opts)
			if err != nil || res.Rejected != 0 {
				t.Fatalf("%s: %v %+v", s.name, err, res.Findings)
			}
			batch = res.BatchID
		}
		if got := auditOf(t, tn, batch); !slices.Equal(got, s.want) {
			t.Errorf("%s: the audit trail of batch %d\n got %s\nwant %s", s.name, batch, strings.Join(got, "\n     "), strings.Join(s.want, "\n     "))
		}
		last = batch
	}

	// --sync: the members it does not list are deactivated, each with one
	// audit line.
	res, err := tn.importSheet(t, primary, "Email\nzoe.martin@acme.example\n", func(o *importer.Options) {
		o.Sync, o.MaxDeactivate = true, &importer.MaxDeactivate{Percent: 100}
	})
	if err != nil || res.Deactivated == 0 {
		t.Fatalf("sync: %v %+v", err, res)
	}
	got := auditOf(t, tn, res.BatchID)
	if len(got) != res.Deactivated || !slices.Contains(got, "gabriel.robin@acme.example status 'active' -> 'inactive'") {
		t.Errorf("the audit trail of the sync (%d deactivated):\n%s", res.Deactivated, strings.Join(got, "\n"))
	}
	for _, line := range got {
		if !strings.HasSuffix(line, " status 'active' -> 'inactive'") {
			t.Errorf("sync audit line %q", line)
		}
	}

	// The trail keeps its JSON text as written (json, migration 0007): the
	// keys of every row are in name order. This catches the created users'
	// records (appendCreatedValues); the merge's json_object_agg is given
	// its order by ORDER BY field, which rows this small follow anyway.
	var unordered []string
	if err := tn.db.Select(&unordered, `SELECT c.batch_id || ' ' || c.email || ' ' || v.which
		FROM user_changes c
		CROSS JOIN LATERAL (VALUES ('old', c.old_values), ('new', c.new_values)) AS v(which, obj)
		CROSS JOIN LATERAL (SELECT array_agg(k ORDER BY n) AS written, array_agg(k ORDER BY k COLLATE "C") AS sorted
			FROM json_object_keys(v.obj) WITH ORDINALITY AS j(k, n)) AS keys
		WHERE c.tenant_id = $1 AND v.obj IS NOT NULL AND keys.written <> keys.sorted`, tn.org); err != nil {
		t.Fatal(err)
	}
	if len(unordered) > 0 {
		t.Errorf("audit rows whose keys are not in name order: %q", unordered)
	}
}
