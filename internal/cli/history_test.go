package cli_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/internal/store"
)

// TestBatchesShowLarge: batches show of a batch of thousands of users is
// complete and well-formed in every format (written block by block as the
// audit trail is read).
func TestBatchesShowLarge(t *testing.T) {
	const users = 3000
	tn := newTenant(t)
	sheet := tn.bigSheet("big.csv", users)
	tn.mustRun(0, "import", sheet, "--org", "acme", "--actor", marie)
	// Each new user: first and last name, username, PBX, status.
	const perUser = 5
	const changes = users * perUser

	out, _ := tn.mustRun(0, "batches", "show", "2", "--org", "acme", "--format", "json")
	var doc struct {
		Batch struct {
			ID int64 `json:"id"`
		} `json:"batch"`
		Changes []struct {
			Email  string  `json:"email"`
			Change string  `json:"change"`
			Old    *string `json:"old"`
		} `json:"changes"`
		Activations []struct {
			Sent bool `json:"sent"`
		} `json:"activation_emails"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("batches show --format json is not JSON: %v", err)
	}
	if doc.Batch.ID != 2 || len(doc.Changes) != changes || len(doc.Activations) != users {
		t.Errorf("json: batch %d, %d changes, %d activation emails; want batch 2, %d, %d", doc.Batch.ID, len(doc.Changes), len(doc.Activations), changes, users)
	}
	for _, c := range doc.Changes {
		if c.Change != "created" || c.Old != nil {
			t.Fatalf("json: change %+v of a created user", c)
		}
	}

	out, _ = tn.mustRun(0, "batches", "show", "2", "--org", "acme", "--format", "csv")
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("batches show --format csv: %v", err)
	}
	if want := 1 + changes + users; len(records) != want {
		t.Errorf("csv: %d records, want %d (header, changes, activation emails)", len(records), want)
	}

	out, _ = tn.mustRun(0, "batches", "show", "2", "--org", "acme")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Title, header, changes, count; blank, header, activations, count.
	if want := 1 + 1 + changes + 1 + 1 + 1 + users + 1; len(lines) != want {
		t.Errorf("table: %d lines, want %d", len(lines), want)
	}
}

// TestUndoDryRunWritesNothing: a dry-run undo writes nothing (no batch, no
// change, no withdrawn activation email) and takes no lock: it runs while
// another run holds the tenant's lock.
func TestUndoDryRunWritesNothing(t *testing.T) {
	tn := newTenant(t)
	tn.mustRun(3, "import", filepath.Join(fixtures(), "demo", "changes.csv"), "--org", "acme", "--actor", marie, "--report", filepath.Join(tn.dir, "report.csv"))
	before := tn.snapshot()
	var batches int
	if err := tn.db.Get(&batches, `SELECT count(*) FROM batches`); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	conn, err := tn.db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := store.Lock(ctx, conn, "acme", 0); err != nil {
		t.Fatal(err)
	}
	out, _ := tn.mustRun(0, "undo", "2", "--dry-run", "--actor", marie, "--json")
	if !strings.Contains(out, `"dry_run":true,"applied":false,"users":4,"deleted":3,"restored":1,`) {
		t.Errorf("dry run JSON: %s", out)
	}
	// The real undo is refused while the lock is held.
	tn.mustRun(4, "undo", "2", "--actor", marie)
	noErr(t, store.Unlock(ctx, conn, "acme"))

	if after := tn.snapshot(); after != before {
		t.Errorf("a dry-run undo changed the database:\nbefore %s\nafter %s", before, after)
	}
	var now int
	if err := tn.db.Get(&now, `SELECT count(*) FROM batches`); err != nil {
		t.Fatal(err)
	}
	if now != batches {
		t.Errorf("%d batches after a dry run, want %d", now, batches)
	}
}
