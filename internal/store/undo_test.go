package store_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
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
	want := []store.UndoConflict{
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
	if i := slices.IndexFunc(all, func(c store.UndoConflict) bool { return c.Email == "u1@acme.example" }); i < 0 || len(all[i].Batches) != 0 {
		t.Errorf("u1@acme.example, changed outside ccbulk, is not listed without batches: %+v", all)
	}

	// The rows every step of the plan handled, those its filters dropped
	// included: a few times the trail, not the trail once per user.
	var plan []struct{ Plan planNode }
	var out []byte
	if err := tx.GetContext(ctx, &out, `EXPLAIN (ANALYZE, FORMAT JSON) `+store.UndoConflictsQuery, "acme", 2); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	if work := plan[0].Plan.rows(); work > float64(20*trail) {
		t.Errorf("the conflict check handled %.0f rows, %.0f times the %d audit rows; a few passes over them should do\n%s",
			work, work/float64(trail), trail, out)
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
