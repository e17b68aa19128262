package importer

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/store"
)

// finishFailed records a batch that did not apply, on the run's connection,
// or on a fresh one from the pool when the run's connection is gone. A batch
// it cannot record stays running until the next run on the tenant marks it
// failed.
func finishFailed(ctx context.Context, db *sqlx.DB, conn *sqlx.Conn, b *store.Batch) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	recorded, err := store.FinishBatchIfRunning(ctx, conn, b)
	if err == nil {
		return recorded, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return store.FinishBatchIfRunning(ctx, db, b)
}
