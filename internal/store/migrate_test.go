package store_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestAuditMigration: migration 0004 turns the audit rows of a database
// written by the earlier schema (one row per field) into one row per user
// and batch, and the view changes gives back exactly the rows there were;
// so it does again after 0007 has turned the values into json.
func TestAuditMigration(t *testing.T) {
	db, _ := testdb.Empty(t)

	apply := func(prefix string) {
		t.Helper()
		paths, _ := fs.Glob(schema.Migrations, "migrations/"+prefix+"*.sql")
		if len(paths) != 1 {
			t.Fatalf("migration %s: %v", prefix, paths)
		}
		body, err := fs.ReadFile(schema.Migrations, paths[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", paths[0], err)
		}
	}
	for _, m := range []string{"0001", "0002", "0003"} {
		apply(m)
	}
	// Batch 1 created a user, batch 2 changed two of its fields, batch 3
	// deactivated another, batch 4 (an undo) deleted the first.
	old := []string{
		"1 a@x.example first_name <nil> Ann",
		"1 a@x.example pbx <nil> paris",
		"1 a@x.example status <nil> active",
		"1 a@x.example username <nil> ann",
		"2 a@x.example last_name  Lee",
		"2 a@x.example premium false true",
		"3 b@x.example status active inactive",
		"4 a@x.example first_name Ann <nil>",
		"4 a@x.example last_name Lee <nil>",
		"4 a@x.example pbx paris <nil>",
		"4 a@x.example premium true <nil>",
		"4 a@x.example status active <nil>",
		"4 a@x.example username ann <nil>",
	}
	if _, err := db.Exec(`INSERT INTO tenants (id, name) VALUES ('t', 'T');
		INSERT INTO batches (tenant_id, kind, actor, status) SELECT 't', 'import', 'a@x.example', 'applied' FROM generate_series(1, 4)`); err != nil {
		t.Fatal(err)
	}
	for _, line := range old {
		f := strings.Split(line, " ")
		val := func(s string) any {
			if s == "<nil>" {
				return nil
			}
			return s
		}
		if _, err := db.Exec(`INSERT INTO changes VALUES ('t', $1, $2, $3, $4, $5)`, f[0], f[1], f[2], val(f[3]), val(f[4])); err != nil {
			t.Fatal(err)
		}
	}
	changes := func(after string) {
		t.Helper()
		var got []string
		err := db.Select(&got, `SELECT batch_id || ' ' || email || ' ' || field || ' ' || coalesce(old_value, '<nil>') || ' ' || coalesce(new_value, '<nil>')
			FROM changes ORDER BY batch_id, email, field`)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, old) {
			t.Errorf("after %s, changes reads\n%s\nwant\n%s", after, strings.Join(got, "\n"), strings.Join(old, "\n"))
		}
	}
	apply("0004")
	changes("0004")
	// 0007 turns the values into json: the same rows, and still objects only.
	for _, m := range []string{"0005", "0006", "0007"} {
		apply(m)
	}
	changes("0007")
	if _, err := db.Exec(`INSERT INTO user_changes (tenant_id, batch_id, email, new_values) VALUES ('t', 1, 'c@x.example', '["pbx"]')`); err == nil ||
		!strings.Contains(err.Error(), "user_changes_new_values_check") {
		t.Errorf("a JSON array as new values: %v, want the check to refuse it", err)
	}
	var perUser int
	if err := db.Get(&perUser, `SELECT count(*) FROM user_changes`); err != nil || perUser != 4 {
		t.Errorf("user_changes has %d rows, want one per batch and user: 4 (%v)", perUser, err)
	}
	if _, err := db.Exec(`DELETE FROM batches WHERE id = 1`); err == nil || !strings.Contains(err.Error(), "is applied") {
		t.Errorf("deleting an applied batch: %v, want a refusal", err)
	}
}

// TestEmailCollations: every column compared with users.email has its
// collation ("C", migration 0005), the staging tables of a run included.
// An index in another collation cannot serve those comparisons: the anti
// join of --sync over the listed emails then fell back to a scan of the
// list per user, and a million-user sync ran for hours.
func TestEmailCollations(t *testing.T) {
	db, _ := testdb.New(t)
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := store.CreateStaging(t.Context(), tx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.SyncCandidates(t.Context(), tx, "acme"); err != nil { // creates ccbulk_missing
		t.Fatal(err)
	}
	var rows []struct {
		Table     string `db:"tbl"`
		Collation string `db:"coll"`
	}
	err = tx.Select(&rows, `SELECT a.attrelid::regclass::text AS tbl, c.collname AS coll
		FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
		WHERE a.attname = 'email' AND a.attrelid IN ('users'::regclass, 'user_changes'::regclass,
			'activation_outbox'::regclass, 'ccbulk_staging'::regclass, 'ccbulk_listed'::regclass, 'ccbulk_missing'::regclass)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("found %d email columns, want 6: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Collation != "C" {
			t.Errorf("%s.email is in collation %q, want \"C\" as users.email", r.Table, r.Collation)
		}
	}
}

// TestBatchesFinalMigration: migration 0009 sets to zero the applied
// counts that batches which did not apply had recorded, leaves who ran the
// earlier batches unknown (NULL, not the user that migrates), and from
// then on keeps finished batches as they are, for the owner too, unless a
// migration disables the trigger around a rewrite.
func TestBatchesFinalMigration(t *testing.T) {
	db, _ := testdb.Empty(t)
	testdb.ApplyMigrations(t, db, "0001", "0009", false)
	if _, err := db.Exec(`INSERT INTO tenants (id, name) VALUES ('t', 'T');
		INSERT INTO batches (tenant_id, kind, actor, status, rows, created, updated, rejected) VALUES
			('t', 'import', 'a@x.example', 'applied', 3, 2, 1, 0),
			('t', 'import', 'a@x.example', 'aborted', 5, 2, 1, 2),
			('t', 'import', 'a@x.example', 'failed', 4, 3, 1, 0)`); err != nil {
		t.Fatal(err)
	}
	testdb.ApplyMigrations(t, db, "0009", "9999", false)
	var got []string
	if err := db.Select(&got, `SELECT concat_ws(' ', id, status, rows, created, updated, rejected, coalesce(db_user, '<nil>'), coalesce(error, '<nil>'))
		FROM batches ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 applied 3 2 1 0 <nil> <nil>", "2 aborted 5 0 0 2 <nil> <nil>", "3 failed 4 0 0 0 <nil> <nil>"}
	if !slices.Equal(got, want) {
		t.Errorf("batches after 0009:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, q := range []string{
		`UPDATE batches SET actor = 'b@x.example' WHERE id = 1`,
		`UPDATE batches SET status = 'failed', created = 0, updated = 0 WHERE id = 1`,
		`DELETE FROM batches WHERE id = 2`,
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "batch") {
			t.Errorf("as the owner, %s: %v, want a refusal", q, err)
		}
	}
	if _, err := db.Exec(`ALTER TABLE batches DISABLE TRIGGER batches_final;
		UPDATE batches SET file_name = 'users.csv' WHERE id = 1;
		ALTER TABLE batches ENABLE TRIGGER batches_final`); err != nil {
		t.Errorf("a migration rewriting the history with the trigger disabled: %v", err)
	}
}
