package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestBatchEndFailed: an import, a saved plan's apply and an undo end a
// batch that did not apply the one way: recorded as failed, with the run's
// error worded for what happened (stopped, the connection lost) and naming
// the batch as the run calls it.
func TestBatchEndFailed(t *testing.T) {
	ctx := context.Background()
	db, _ := testdb.New(t)
	if err := store.CreateOrg(ctx, db, schema.Org{ID: "acme", Name: "Acme", PBXes: []string{"paris"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: "marie.dubois@acme.example"}); err != nil {
		t.Fatal(err)
	}
	lost := fmt.Errorf("%w (read: connection reset by peer)", schema.ErrConnectionLost)
	stopped, stop := context.WithCancel(ctx)
	stop()
	for _, tc := range []struct {
		name, batch, again string
		ctx                context.Context
		err                error
		want               []string
	}{
		{name: "import, connection lost", batch: "batch", again: "run the import again", ctx: ctx, err: lost,
			want: []string{"the database connection was lost", "nothing of batch %d was applied", "run the import again when the database is back"}},
		{name: "plan, connection lost", batch: "batch", again: "apply the plan again", ctx: ctx, err: lost,
			want: []string{"nothing of batch %d was applied", "apply the plan again when the database is back"}},
		{name: "undo, connection lost", batch: "undo batch", again: "run the undo again", ctx: ctx, err: lost,
			want: []string{"nothing of undo batch %d was applied", "run the undo again"}},
		{name: "undo, stopped", batch: "undo batch", again: "run the undo again", ctx: stopped, err: errors.New("canceling statement due to user request"),
			want: []string{"undo batch %d: context canceled"}},
		{name: "import, other error", batch: "batch", again: "run the import again", ctx: ctx, err: errors.New("disk full"),
			want: []string{"disk full"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := pgimporter.New(store.New(db))
			conn, err := pool.ConnOpen(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			batch := schema.Batch{Tenant: "acme", Kind: "import", Actor: "marie.dubois@acme.example", FileName: "sheet.csv", Mode: "apply"}
			if err := conn.BatchStart(ctx, &batch); err != nil {
				t.Fatal(err)
			}
			applied, unknown, err := importer.BatchEndFailed(tc.ctx, pool, conn, tc.batch, tc.again, batch, tc.err)
			if applied || unknown || err == nil {
				t.Fatalf("ending = applied %v, commit unknown %v, %v; want the run's error", applied, unknown, err)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "%d", fmt.Sprint(batch.ID)); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !errors.Is(err, tc.ctx.Err()) && !errors.Is(err, tc.err) {
				t.Errorf("error %v wraps neither the run's error nor the context's", err)
			}
			if st, err := store.BatchStatus(ctx, db, "acme", batch.ID); err != nil || st != "failed" {
				t.Errorf("batch status = %q, %v; want failed", st, err)
			}
		})
	}
}
