package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

func undo(db *sqlx.DB, batch int64, actor string) (importer.UndoResult, error) {
	return importer.Undo(context.Background(), pgimporter.New(store.New(db)), importer.UndoOptions{Batch: batch, Actor: actor})
}

func mustUndo(t *testing.T, db *sqlx.DB, batch int64) importer.UndoResult {
	t.Helper()
	res, err := undo(db, batch, admin)
	if err != nil {
		t.Fatalf("undo %d: %v", batch, err)
	}
	return res
}

// users returns every user of acme, in email order, without versions.
func users(t *testing.T, db *sqlx.DB) []schema.User {
	t.Helper()
	var all []schema.User
	err := store.EachUser(context.Background(), db, "acme", func(u *schema.User) error {
		v := *u
		v.Version = 0 // the transaction that wrote the row: compared here are the fields
		all = append(all, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func sameUsers(t *testing.T, what string, got, want []schema.User) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d users, want %d\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: user %d\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// TestUndoWithdrawsActivationRequests: the unsent activation requests of
// an undone batch are withdrawn; those already sent stay on record.
func TestUndoWithdrawsActivationRequests(t *testing.T) {
	db := newTenant(t)
	res := runImport(t, db, admin, "Email\na@acme.example\nb@acme.example\nc@acme.example\n", nil)
	if _, err := db.Exec(`UPDATE activation_outbox SET sent_at = now() WHERE email = 'b@acme.example'`); err != nil {
		t.Fatal(err)
	}
	u := mustUndo(t, db, res.BatchID)
	if u.Counts.Deleted != 3 || u.Counts.Withdrawn != 2 || u.Counts.Sent != 1 {
		t.Errorf("counts %+v, want 3 deleted, 2 withdrawn, 1 already sent", u.Counts)
	}
	var pending []string
	if err := db.Select(&pending, `SELECT email FROM activation_outbox WHERE sent_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("activation requests still pending after undo: %v", pending)
	}
	var sent int
	if err := db.Get(&sent, `SELECT count(*) FROM activation_outbox WHERE sent_at IS NOT NULL`); err != nil || sent != 1 {
		t.Errorf("sent requests on record: %d (%v), want 1", sent, err)
	}
}

// TestUndoRoundTrips: for each kind of batch, undo restores every user
// exactly, and undoing the undo restores the batch's result exactly.
func TestUndoRoundTrips(t *testing.T) {
	setup := "Email,First Name,Contact Center Premium,Full Administrator,Send Activation Email\n" +
		"ann@acme.example,Ann,TRUE,,FALSE\nbob@acme.example,Bob,,TRUE,FALSE\ncid@acme.example,Cid,,,FALSE\n"
	for _, tc := range []struct {
		name  string
		sheet string
		mod   func(*importer.Options)
	}{
		{"create and change", "Email,First Name,Username,Contact Center Premium,Contact Center Standard,Full Administrator,Read-only Administrator\n" +
			"ann@acme.example,Anna,ann1,FALSE,TRUE,,\nbob@acme.example,,,,,FALSE,TRUE\nnew@acme.example,New,newbie,TRUE,,,\n", nil},
		{"hand a username over", "Email,Username\nann@acme.example,ann-old\ncid@acme.example,ann@acme.example\n", nil},
		{"sync deactivates", "Email\nann@acme.example\n", func(o *importer.Options) {
			o.Sync, o.MaxDeactivate = true, &importer.MaxDeactivate{Percent: 100}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newTenant(t)
			runImport(t, db, admin, setup, nil)
			before := users(t, db)
			res := runImport(t, db, admin, tc.sheet, tc.mod)
			if !res.Applied || res.Rejected != 0 {
				t.Fatalf("import: %+v", res)
			}
			after := users(t, db)
			u := mustUndo(t, db, res.BatchID)
			sameUsers(t, "after undo", users(t, db), before)
			mustUndo(t, db, u.BatchID)
			sameUsers(t, "after undo of the undo", users(t, db), after)
		})
	}
}

// TestUndoRefusals: what undo refuses, and how.
func TestUndoRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("changed outside ccbulk", func(t *testing.T) {
		db := newTenant(t)
		res := runImport(t, db, admin, "Email,First Name,Send Activation Email\nann@acme.example,Ann,FALSE\n", nil)
		if _, err := db.Exec(`UPDATE users SET first_name = 'Annie' WHERE email = 'ann@acme.example'`); err != nil {
			t.Fatal(err)
		}
		_, err := undo(db, res.BatchID, admin)
		var ce *importer.UndoConflictError
		if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Email != "ann@acme.example" || len(ce.Conflicts[0].Batches) != 0 {
			t.Fatalf("undo after a change outside ccbulk: %v", err)
		}
		if !strings.Contains(err.Error(), "ann@acme.example: changed outside ccbulk") {
			t.Errorf("message: %v", err)
		}
	})
	t.Run("username taken since", func(t *testing.T) {
		db := newTenant(t)
		runImport(t, db, admin, "Email,Username,Send Activation Email\nann@acme.example,ann,FALSE\n", nil)
		res := runImport(t, db, admin, "Email,Username\nann@acme.example,anna\n", nil)
		runImport(t, db, admin, "Email,Username,Send Activation Email\nzed@acme.example,ann,FALSE\n", nil)
		_, err := undo(db, res.BatchID, admin)
		if !errors.Is(err, schema.ErrUndoBreaksRule) || !strings.Contains(err.Error(), "a username it would give back is held by another user now") {
			t.Fatalf("undo giving back a taken username: %v", err)
		}
		if got := user(t, db, "ann@acme.example").Username; got != "anna" {
			t.Errorf("username %q after a refused undo, want anna unchanged", got)
		}
	})
	t.Run("seats taken since", func(t *testing.T) {
		db := newTenant(t)
		if _, err := db.Exec(`UPDATE tenants SET premium_seats = 1`); err != nil {
			t.Fatal(err)
		}
		runImport(t, db, admin, "Email,Contact Center Premium,Send Activation Email\nann@acme.example,TRUE,FALSE\n", nil)
		res := runImport(t, db, admin, "Email,Contact Center Premium\nann@acme.example,FALSE\n", nil)
		runImport(t, db, admin, "Email,Contact Center Premium,Send Activation Email\nbob@acme.example,TRUE,FALSE\n", nil)
		_, err := undo(db, res.BatchID, admin)
		if !errors.Is(err, schema.ErrUndoBreaksRule) || !strings.Contains(err.Error(), "would use 2 Premium seats of 1") {
			t.Fatalf("undo over the seats: %v", err)
		}
	})
	t.Run("partner administrator and an external CC Service Administrator", func(t *testing.T) {
		db := newTenant(t)
		for _, ext := range []schema.ExternalOrg{{ID: "northwind", Name: "Northwind", Kind: schema.KindPartner}, {ID: "contoso", Name: "Contoso", Kind: schema.KindOther}} {
			if err := store.CreateExternal(ctx, db, ext); err != nil {
				t.Fatal(err)
			}
		}
		runImport(t, db, admin, "Email,Home Organization,Full Administrator,Send Activation Email\ntom@northwind.example,northwind,TRUE,FALSE\n", nil)
		res := runImport(t, db, admin, "Email,Home Organization,Contact Center Service Administrator,Send Activation Email\nana@contoso.example,contoso,TRUE,FALSE\n", nil)
		_, err := undo(db, res.BatchID, "tom@northwind.example")
		var fe *schema.FileError
		if !errors.As(err, &fe) || fe.Rule != schema.FActor || !strings.Contains(err.Error(), "ana@contoso.example") {
			t.Fatalf("partner undoing an external CC Service grant: %v", err)
		}
		mustUndo(t, db, res.BatchID) // a Full Administrator of the customer may
	})
}
