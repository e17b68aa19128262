package importer_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/version"
	"github.com/ccbulk/ccbulk/schema"
)

// TestBatchRecordsItsOutcome: a batch records who ran it from where (the
// database user, this machine's host name, ccbulk's version); one that
// applied records its counts and no error; one that did not apply records
// zero applied counts and the error that ended it: --atomic with a
// rejected row, a --sync over its limit, a refused undo, and a run that
// died before recording its outcome (marked failed by the next run).
func TestBatchRecordsItsOutcome(t *testing.T) {
	ctx := context.Background()
	tn := newAcme(t)
	batch := func(id int64) schema.Batch {
		t.Helper()
		b, err := store.GetBatch(ctx, tn.db, id)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	host, _ := os.Hostname()
	var dbUser string
	if err := tn.db.Get(&dbUser, `SELECT session_user`); err != nil {
		t.Fatal(err)
	}
	type want struct {
		status                                               string
		rows, created, updated, deactivated, deleted, reject int
		err                                                  string
	}
	check := func(what string, b schema.Batch, w want) {
		t.Helper()
		got := want{b.Status, b.Rows, b.Created, b.Updated, b.Deactivated, b.Deleted, b.Rejected, b.Error.String}
		if got != w || b.Error.Valid != (w.err != "") {
			t.Errorf("%s: batch %d records %+v (error valid %v), want %+v", what, b.ID, got, b.Error.Valid, w)
		}
		if b.DBUser.String != dbUser || b.ClientHost.String != host || b.Version.String != version.String() {
			t.Errorf("%s: batch %d records database user %q, host %q, version %q; want %q, %q, %q",
				what, b.ID, b.DBUser.String, b.ClientHost.String, b.Version.String, dbUser, host, version.String())
		}
	}

	res, err := tn.importSheet(t, primary, "Email,First Name,PBX\nnew.one@acme.example,New,paris\njean.martin@acme.example,Jeannot,\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	applied := res.BatchID
	check("applied", batch(applied), want{status: "applied", rows: 2, created: 1, updated: 1})

	res, err = tn.importSheet(t, primary, "Email,First Name,PBX\nnew.two@acme.example,New,paris\nyes,No,\n", func(o *importer.Options) { o.Atomic = true })
	if err != nil {
		t.Fatal(err)
	}
	check("--atomic", batch(res.BatchID), want{status: "aborted", rows: 2, reject: 1, err: "the import is atomic and 1 row rejected; nothing was applied"})

	res, err = tn.importSheet(t, primary, "Email\njean.martin@acme.example\n", func(o *importer.Options) {
		o.Sync, o.MaxDeactivate = true, &importer.MaxDeactivate{N: 1}
	})
	var limit *importer.SyncLimitError
	if !errors.As(err, &limit) {
		t.Fatalf("--sync over its limit: %v", err)
	}
	check("--sync over its limit", batch(res.BatchID), want{status: "aborted", rows: 1, err: limit.Error()})

	if _, err := tn.db.Exec(`UPDATE users SET first_name = 'Jean-Marc' WHERE email = 'jean.martin@acme.example'`); err != nil {
		t.Fatal(err)
	}
	ures, err := importer.Undo(ctx, pgimporter.New(store.New(tn.db)), importer.UndoOptions{Batch: applied, Actor: primary})
	var conflict *importer.UndoConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("undo after a change outside ccbulk: %v", err)
	}
	check("refused undo", batch(ures.BatchID), want{status: "aborted", err: err.Error()})

	// A run that died while running: the next run on the tenant marks its
	// batch failed, saying so.
	dead := &schema.Batch{Tenant: "acme", Kind: "import", Actor: primary, FileName: "dead.csv", Mode: "apply"}
	if err := store.StartBatch(ctx, tn.db, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.importSheet(t, primary, "Email\njean.martin@acme.example\n", nil); err != nil {
		t.Fatal(err)
	}
	check("died running", batch(dead.ID), want{status: "failed", err: store.RunEndedMessage})
}
