package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestUserVersionMigration: migration 0010 gives the users that exist the
// id of its own transaction; from then on an INSERT (COPY too) takes the
// writing transaction's id, and so does an UPDATE that changes the user,
// made with plain SQL as by ccbulk, while an UPDATE that changes nothing
// (or only updated_at) leaves it. A batch may record its transaction's id
// only once applied.
func TestUserVersionMigration(t *testing.T) {
	db, _ := testdb.Empty(t)
	testdb.ApplyMigrations(t, db, "0001", "0010", false)
	if _, err := db.Exec(`INSERT INTO tenants (id, name) VALUES ('t', 'T');
		INSERT INTO pbxes (tenant_id, name, position) VALUES ('t', 'main', 0);
		INSERT INTO users (tenant_id, email, username, pbx) VALUES ('t', 'a@x.example', 'a', 'main'), ('t', 'b@x.example', 'b', 'main')`); err != nil {
		t.Fatal(err)
	}
	testdb.ApplyMigrations(t, db, "0010", "9999", false)
	version := func(email string) int64 {
		t.Helper()
		var v int64
		if err := db.Get(&v, `SELECT version FROM users WHERE tenant_id = 't' AND email = $1`, email); err != nil {
			t.Fatal(err)
		}
		return v
	}
	migrated := version("a@x.example")
	if migrated == 0 || version("b@x.example") != migrated {
		t.Fatalf("after 0010: versions %d and %d, want the migration's transaction for both", migrated, version("b@x.example"))
	}

	tx := db.MustBegin()
	var xact int64
	if err := tx.Get(&xact, `SELECT pg_current_xact_id()::text::bigint`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE users SET display_name = 'A' WHERE email = 'a@x.example';
		INSERT INTO users (tenant_id, email, username, pbx) VALUES ('t', 'c@x.example', 'c', 'main')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if version("a@x.example") != xact || version("c@x.example") != xact || version("b@x.example") != migrated {
		t.Errorf("versions %d %d %d, want %d (changed) %d (inserted) %d (untouched)",
			version("a@x.example"), version("c@x.example"), version("b@x.example"), xact, xact, migrated)
	}
	if _, err := db.Exec(`UPDATE users SET first_name = first_name, updated_at = now() + interval '1 day' WHERE email = 'b@x.example'`); err != nil {
		t.Fatal(err)
	}
	if version("b@x.example") != migrated {
		t.Errorf("an UPDATE that changes nothing moved the version")
	}
	if _, err := db.Exec(`UPDATE users SET is_primary = false, status = 'inactive' WHERE email = 'b@x.example'`); err != nil {
		t.Fatal(err)
	}
	if version("b@x.example") <= migrated {
		t.Errorf("a status changed with plain SQL left the version at %d", version("b@x.example"))
	}

	if _, err := db.Exec(`INSERT INTO batches (tenant_id, kind, actor, status) VALUES ('t', 'import', 'a@x.example', 'running');
		UPDATE batches SET status = 'failed', xact = 5`); err == nil || !strings.Contains(err.Error(), "batches_xact_of_applied") {
		t.Errorf("a batch that did not apply recorded a transaction: %v", err)
	}
}

// TestVersionOrigins: a user's version names the applied batch that wrote
// it, with the fields that batch changed on the user; a version no batch
// wrote names none.
func TestVersionOrigins(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	if _, err := db.Exec(`INSERT INTO tenants (id, name) VALUES ('t', 'T');
		INSERT INTO pbxes (tenant_id, name, position) VALUES ('t', 'main', 0);
		INSERT INTO users (tenant_id, email, username, pbx) VALUES ('t', 'a@x.example', 'a', 'main'), ('t', 'b@x.example', 'b', 'main')`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b := &schema.Batch{Tenant: "t", Kind: "import", Actor: "a@x.example", Mode: "apply"}
	if err := store.StartBatch(ctx, conn, b); err != nil {
		t.Fatal(err)
	}
	err = store.WithTx(ctx, conn, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`UPDATE users SET status = 'inactive', admin_role = 'readonly' WHERE email = 'a@x.example'`); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
			VALUES ('t', $1, 'a@x.example', '{"admin_role": "", "status": "active"}', '{"admin_role": "readonly", "status": "inactive"}')`, b.ID); err != nil {
			return err
		}
		done := *b
		done.Status = "applied"
		return store.FinishBatch(ctx, tx, &done)
	})
	if err != nil {
		t.Fatal(err)
	}
	var va, vb int64
	if err := db.Get(&va, `SELECT version FROM users WHERE email = 'a@x.example'`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&vb, `SELECT version FROM users WHERE email = 'b@x.example'`); err != nil {
		t.Fatal(err)
	}
	got, err := store.VersionOrigins(ctx, db, "t", []schema.StaleUser{{Email: "a@x.example", Version: va}, {Email: "b@x.example", Version: vb}})
	if err != nil {
		t.Fatal(err)
	}
	a := got["a@x.example"]
	if a.Batch != b.ID || a.Kind != "import" || !slices.Equal(a.Fields, []string{"admin_role", "status"}) || a.NewValues["admin_role"] != "readonly" || a.OldValues["status"] != "active" {
		t.Errorf("a: %+v, want batch %d (import) changing admin_role and status", a, b.ID)
	}
	if o, ok := got["b@x.example"]; !ok || o.Batch != 0 || len(o.Fields) != 0 {
		t.Errorf("b: %+v (%v), want no batch", o, ok)
	}
}
