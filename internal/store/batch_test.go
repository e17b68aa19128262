package store_test

import (
	"database/sql"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestFinishBatchRecordsWhatApplied: a batch that did not apply records
// zero applied counts whatever its run counted, and its error, cut to a
// bounded length of valid UTF-8; an applied one records its counts and no
// error; and a batch removed while it ran cannot be finished, so that its
// transaction never commits changes without it.
func TestFinishBatchRecordsWhatApplied(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 1500) // 3,000 bytes
	for _, tc := range []struct {
		status  string
		err     string
		counts  [6]int // rows, created, updated, deactivated, deleted, rejected
		wantErr func(string) bool
	}{
		{"applied", "", [6]int{5, 2, 1, 1, 0, 1}, func(s string) bool { return s == "" }},
		{"aborted", "--atomic: 1 row rejected; nothing was applied", [6]int{5, 0, 0, 0, 0, 1},
			func(s string) bool { return s == "--atomic: 1 row rejected; nothing was applied" }},
		{"failed", long, [6]int{5, 0, 0, 0, 0, 1}, func(s string) bool {
			return utf8.ValidString(s) && len(s) <= 2003 && strings.HasSuffix(s, "é…")
		}},
	} {
		b := &schema.Batch{Tenant: "acme", Kind: "import", Actor: "a@acme.example", FileName: "users.csv", Mode: "apply"}
		if err := store.StartBatch(ctx, db, b); err != nil {
			t.Fatal(err)
		}
		b.Status, b.Rows, b.Created, b.Updated, b.Deactivated, b.Deleted, b.Rejected = tc.status, 5, 2, 1, 1, 1, 1
		if tc.status == "applied" {
			b.Deleted = 0
		}
		b.Error = sql.NullString{String: tc.err, Valid: tc.err != ""}
		if err := store.FinishBatch(ctx, db, b); err != nil {
			t.Fatalf("%s: %v", tc.status, err)
		}
		got, err := store.GetBatch(ctx, db, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts := [6]int{got.Rows, got.Created, got.Updated, got.Deactivated, got.Deleted, got.Rejected}; counts != tc.counts {
			t.Errorf("%s: counts %v, want %v", tc.status, counts, tc.counts)
		}
		if !tc.wantErr(got.Error.String) || got.Error.Valid != (tc.err != "") {
			t.Errorf("%s: error %q (valid %v)", tc.status, got.Error.String, got.Error.Valid)
		}
	}

	gone := &schema.Batch{Tenant: "acme", Kind: "import", Actor: "a@acme.example", Mode: "apply"}
	if err := store.StartBatch(ctx, db, gone); err != nil {
		t.Fatal(err)
	}
	if err := store.DiscardBatch(ctx, db, "acme", gone.ID); err != nil {
		t.Fatal(err)
	}
	gone.Status = "applied"
	if err := store.FinishBatch(ctx, db, gone); err == nil || !strings.Contains(err.Error(), "no longer recorded") {
		t.Errorf("finishing a removed batch: %v, want a refusal", err)
	}
}
