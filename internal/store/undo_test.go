package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestUndoConflictsReadTheTrailOnce: the conflict check of an undo reads
// the audit trail a bounded number of times, whatever its statistics say.
// Right after a large import they say the batch does not exist; a check
// that joined the trail to itself was then planned as a scan of the whole
// trail per user of the batch, and undoing 20,000 users took minutes.
func TestUndoConflictsReadTheTrailOnce(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	const users = 4000
	setup := []string{
		`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`,
		`INSERT INTO pbxes (tenant_id, name, position) VALUES ('acme', 'paris', 1)`,
		// Statistics taken while the trail held one small batch, and no
		// autovacuum to refresh them: the state right after a large import.
		`ALTER TABLE user_changes SET (autovacuum_enabled = off)`,
		`INSERT INTO user_changes (tenant_id, batch_id, email, new_values)
			SELECT 'acme', 1, 'old' || i || '@acme.example', '{"pbx": "paris"}' FROM generate_series(1, 50) i`,
		`ANALYZE user_changes`,
		// Batch 2 created the users; batch 3 renamed every other one, and
		// the user numbered 1 was renamed outside ccbulk.
		`INSERT INTO users (tenant_id, email, username, pbx, first_name)
			SELECT 'acme', 'u' || i || '@acme.example', 'u' || i, 'paris', CASE WHEN i % 2 = 0 THEN 'Later' ELSE '' END
			FROM generate_series(1, 4000) i`,
		`UPDATE users SET last_name = 'Elsewhere' WHERE email = 'u1@acme.example'`,
		`INSERT INTO user_changes (tenant_id, batch_id, email, new_values)
			SELECT 'acme', 2, 'u' || i || '@acme.example', json_build_object('username', 'u' || i, 'pbx', 'paris', 'status', 'active')
			FROM generate_series(1, 4000) i`,
		`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
			SELECT 'acme', 3, 'u' || i || '@acme.example', '{"first_name": ""}', '{"first_name": "Later"}'
			FROM generate_series(2, 4000, 2) i`,
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var trail int
	if err := db.GetContext(ctx, &trail, `SELECT count(*) FROM user_changes`); err != nil {
		t.Fatal(err)
	}

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	conflicts, total, err := store.UndoConflicts(ctx, tx, "acme", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := users/2 + 1; total != want {
		t.Errorf("%d conflicts, want %d: every user batch 3 changed and the one changed outside ccbulk", total, want)
	}
	want := []schema.UndoConflict{
		{Email: "u1000@acme.example", Batches: []int64{3}},
		{Email: "u1002@acme.example", Batches: []int64{3}},
		{Email: "u1004@acme.example", Batches: []int64{3}},
	}
	if len(conflicts) != len(want) {
		t.Fatalf("listed %d conflicts, want the first %d: %+v", len(conflicts), len(want), conflicts)
	}
	for i := range want {
		if conflicts[i].Email != want[i].Email || !slices.Equal(conflicts[i].Batches, want[i].Batches) {
			t.Errorf("conflict %d: %+v, want %+v", i, conflicts[i], want[i])
		}
	}

	all, _, err := store.UndoConflicts(ctx, tx, "acme", 2, users)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(all, func(c schema.UndoConflict) bool { return c.Email == "u1@acme.example" }); i < 0 || len(all[i].Batches) != 0 {
		t.Errorf("u1@acme.example, changed outside ccbulk, is not listed without batches: %+v", all)
	}

	// The rows every step of the plans handled, those their filters
	// dropped included: a few times the trail, not the trail once per user.
	emails := make([]string, 0, users)
	for _, c := range all {
		emails = append(emails, c.Email)
	}
	for _, q := range []struct {
		name  string
		query string
		args  []any
	}{
		{"drift", store.UndoDriftQuery, []any{"acme", 2, users}},
		{"later", store.UndoLaterQuery, []any{"acme", 2, pq.StringArray(emails)}},
	} {
		var plan []struct{ Plan planNode }
		var out []byte
		if err := tx.GetContext(ctx, &out, `EXPLAIN (ANALYZE, FORMAT JSON) `+q.query, q.args...); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &plan); err != nil || len(plan) != 1 {
			t.Fatalf("EXPLAIN output %s: %v", out, err)
		}
		if work := plan[0].Plan.rows(); work > float64(20*trail) {
			t.Errorf("the conflict check's %s query handled %.0f rows, %.0f times the %d audit rows; a few passes over them should do\n%s",
				q.name, work, work/float64(trail), trail, out)
		}
	}
}

// planNode is a step of a plan as EXPLAIN (ANALYZE, FORMAT JSON) shows it.
// Its row counts are averages per loop.
type planNode struct {
	Loops          float64    `json:"Actual Loops"`
	Rows           float64    `json:"Actual Rows"`
	RemovedByJoin  float64    `json:"Rows Removed by Join Filter"`
	RemovedByCheck float64    `json:"Rows Removed by Filter"`
	RemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	Plans          []planNode `json:"Plans"`
}

// rows is the number of rows n and the steps under it produced or dropped.
func (n planNode) rows() float64 {
	total := n.Loops * (n.Rows + n.RemovedByJoin + n.RemovedByCheck + n.RemovedRecheck)
	for _, c := range n.Plans {
		total += c.rows()
	}
	return total
}

// TestUndoConflictsCountWhatStands: a later batch conflicts with an undo
// only while the user holds what it set. A later batch undone since (the
// user holds again what the batch left) does not count; a change made
// after that outside ccbulk does; each differing field is blamed on the
// latest batch that set it, if the user holds that batch's value.
func TestUndoConflictsCountWhatStands(t *testing.T) {
	// Batch 2 renamed ann (first name Ann to Anna, display name blank to
	// Anna) and created bob; the
	// users table holds what batch 2 left, then each case's later history.
	base := []string{
		`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`,
		`INSERT INTO pbxes (tenant_id, name, position) VALUES ('acme', 'paris', 1)`,
		`INSERT INTO users (tenant_id, email, username, pbx, first_name, display_name) VALUES
			('acme', 'ann@acme.example', 'ann', 'paris', 'Anna', 'Anna'),
			('acme', 'bob@acme.example', 'bob', 'paris', '', '')`,
		`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
			('acme', 2, 'ann@acme.example', '{"display_name": "", "first_name": "Ann"}', '{"display_name": "Anna", "first_name": "Anna"}'),
			('acme', 2, 'bob@acme.example', NULL, '{"pbx": "paris", "status": "active", "username": "bob"}')`,
	}
	rename := func(batch int, from, to string) string {
		return fmt.Sprintf(`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
			('acme', %d, 'ann@acme.example', '{"first_name": %q}', '{"first_name": %q}');
			UPDATE users SET first_name = '%s' WHERE email = 'ann@acme.example'`, batch, from, to, to)
	}
	for _, tc := range []struct {
		name  string
		later []string
		want  []schema.UndoConflict
	}{
		{"nothing since", nil, nil},
		{"a field batch 2 did not change, changed outside ccbulk", []string{
			`UPDATE users SET last_name = 'Lee' WHERE email = 'ann@acme.example'`}, nil},
		{"a later batch stands", []string{rename(3, "Anna", "Annie")},
			[]schema.UndoConflict{{Email: "ann@acme.example", Batches: []int64{3}}}},
		{"a later batch undone since", []string{rename(3, "Anna", "Annie"), rename(4, "Annie", "Anna")}, nil},
		{"a later batch undone, then a change outside ccbulk", []string{rename(3, "Anna", "Annie"), rename(4, "Annie", "Anna"),
			`UPDATE users SET first_name = 'Hanna' WHERE email = 'ann@acme.example'`},
			[]schema.UndoConflict{{Email: "ann@acme.example", Outside: true}}},
		{"two later batches, the newest stands", []string{rename(3, "Anna", "Annie"), rename(5, "Annie", "Anouk")},
			[]schema.UndoConflict{{Email: "ann@acme.example", Batches: []int64{5}}}},
		{"a later batch and a change outside ccbulk", []string{rename(3, "Anna", "Annie"),
			`UPDATE users SET display_name = 'Ann Lee' WHERE email = 'ann@acme.example'`},
			[]schema.UndoConflict{{Email: "ann@acme.example", Batches: []int64{3}, Outside: true}}},
		{"a created user deleted by a later batch", []string{
			`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
				('acme', 3, 'bob@acme.example', '{"pbx": "paris", "status": "active", "username": "bob"}', NULL);
			DELETE FROM users WHERE email = 'bob@acme.example'`},
			[]schema.UndoConflict{{Email: "bob@acme.example", Batches: []int64{3}}}},
		{"a created user deleted and re-created by later batches", []string{
			`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
				('acme', 3, 'bob@acme.example', '{"pbx": "paris", "status": "active", "username": "bob"}', NULL),
				('acme', 4, 'bob@acme.example', NULL, '{"pbx": "paris", "status": "active", "username": "bob"}')`}, nil},
		{"a created user deleted outside ccbulk", []string{`DELETE FROM users WHERE email = 'bob@acme.example'`},
			[]schema.UndoConflict{{Email: "bob@acme.example", Outside: true}}},
		{"a created user given a license by a later batch", []string{
			`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
				('acme', 3, 'bob@acme.example', '{"premium": "false"}', '{"premium": "true"}');
			UPDATE users SET premium = true WHERE email = 'bob@acme.example'`},
			[]schema.UndoConflict{{Email: "bob@acme.example", Batches: []int64{3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := testdb.New(t)
			ctx := t.Context()
			for _, q := range append(base, tc.later...) {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			got, total, err := store.UndoConflicts(ctx, db, "acme", 2, 10)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(tc.want) || len(got) != len(tc.want) {
				t.Fatalf("conflicts %+v (%d in all), want %+v", got, total, tc.want)
			}
			for i := range got {
				if got[i].Email != tc.want[i].Email || !slices.Equal(got[i].Batches, tc.want[i].Batches) || got[i].Outside != tc.want[i].Outside {
					t.Errorf("conflict %+v, want %+v", got[i], tc.want[i])
				}
			}
			// Listing none still counts them.
			if none, total, err := store.UndoConflicts(ctx, db, "acme", 2, 0); err != nil || len(none) != 0 || total != len(tc.want) {
				t.Errorf("with limit 0: %+v, %d in all (%v); want none listed of %d", none, total, err, len(tc.want))
			}
		})
	}
}
