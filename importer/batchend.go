package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ccbulk/ccbulk/schema"
)

// batchEnd ends a batch a run started, one way for an import, a saved
// plan's apply and an undo: applied inside the run's transaction, or
// recorded as failed or aborted after it, with the error the run returns
// worded the same way whichever run it was.
type batchEnd struct {
	db   Store // the pool: a fresh connection when the run's is gone
	conn Conn  // the run's connection, which holds the tenant's lock
	// name is how messages call the batch ("batch", "undo batch"), and
	// again what to do once the database is back ("run the import again").
	name, again string
}

// applied records the batch as applied, with the counts of b, inside the
// run's transaction: the batch is applied if and only if it commits.
func (e *batchEnd) applied(ctx context.Context, tx Tx, b schema.Batch) error {
	b.Status = "applied"
	return tx.BatchFinish(ctx, &b)
}

// refused records b, a batch refused before anything was applied (its
// status and error set), and returns runErr, the refusal.
func (e *batchEnd) refused(ctx context.Context, b schema.Batch, runErr error) error {
	if _, ferr := e.record(ctx, &b); ferr != nil && ctx.Err() == nil {
		return fmt.Errorf("%w (and recording %s %d as %s failed too: %v)", runErr, e.name, b.ID, b.Status, ferr)
	}
	return runErr
}

// CommitUnknownError says the connection broke while the batch was being
// committed: whether it was applied cannot be known until the database is
// back. Its message names no command: each front end says where the
// tenant's batches are shown (Shown is the end it replaces).
type CommitUnknownError struct {
	Err    error  // the run's error (the connection lost)
	Name   string // how the message calls the batch ("batch", "undo batch")
	Batch  int64
	Tenant string
}

// Shown is the end of the message that says where the batch's outcome
// will show.
const Shown = "then the organization's batches show it (applied, or still running: not applied, and the next run marks it failed)"

func (e *CommitUnknownError) Error() string {
	return fmt.Sprintf("%v; it broke while %s %d was being committed, so whether it was applied cannot be known until the database is back: %s", e.Err, e.Name, e.Batch, Shown)
}

func (e *CommitUnknownError) Unwrap() error { return e.Err }

// batchEnding is how a run whose transaction did not commit cleanly ends.
type batchEnding struct {
	// Applied: the batch turned out applied after all (its COMMIT went
	// through before the run was stopped or its connection broke); the
	// run succeeded.
	Applied bool
	// CommitUnknown: the connection broke during COMMIT, and whether the
	// batch was applied cannot be known until the database is back.
	CommitUnknown bool
	Err           error // the error the run returns; nil when Applied
}

// failed records b, a batch whose transaction failed (its status, failed
// or aborted, and its error set), and says how the run ends: applied after
// all, or the error runErr, worded for what happened (stopped, the
// connection lost, the batch not recorded). The run never claims less
// than what happened.
func (e *batchEnd) failed(ctx context.Context, b schema.Batch, runErr error) batchEnding {
	recorded, ferr := e.record(ctx, &b)
	if !recorded && ferr == nil && (ctx.Err() != nil || errors.Is(runErr, schema.ErrConnectionLost)) {
		// The batch is no longer running: the commit went through
		// before the run was stopped or the connection broke.
		if st, serr := e.db.BatchStatusGet(context.WithoutCancel(ctx), b.Tenant, b.ID); serr == nil && st == "applied" {
			return batchEnding{Applied: true}
		}
	}
	if ctx.Err() != nil {
		// Stopped (SIGINT, SIGTERM): the server reports the cancelled
		// statement as its own error; say what happened instead.
		return batchEnding{Err: fmt.Errorf("%s %d: %w", e.name, b.ID, ctx.Err())}
	}
	if errors.Is(runErr, schema.ErrConnectionLost) {
		if ferr != nil && errors.Is(runErr, schema.ErrCommit) {
			return batchEnding{CommitUnknown: true, Err: &CommitUnknownError{Err: runErr, Name: e.name, Batch: b.ID, Tenant: b.Tenant}}
		}
		return batchEnding{Err: fmt.Errorf("%w; nothing of %s %d was applied (its transaction was rolled back); %s when the database is back", runErr, e.name, b.ID, e.again)}
	}
	if ferr != nil {
		return batchEnding{Err: fmt.Errorf("%w (and recording %s %d as %s failed too: %v)", runErr, e.name, b.ID, b.Status, ferr)}
	}
	return batchEnding{Err: runErr}
}

// record records b, a batch that did not apply, on the run's connection,
// or on a fresh one from the pool when the run's connection is gone, and
// reports whether the batch was still running. A batch it cannot record
// stays running until the next run on the tenant marks it failed.
func (e *batchEnd) record(ctx context.Context, b *schema.Batch) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	recorded, err := e.conn.BatchFinishIfRunning(ctx, b)
	if err == nil {
		return recorded, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return e.db.BatchFinishIfRunning(ctx, b)
}

// discardBatch removes batch id, which a run started and then found its
// input could not be read or applied (runErr; nothing was applied), so
// that the database is exactly as it was. When it cannot, it returns
// runErr worded with that failure; else nil.
func discardBatch(ctx context.Context, db Store, conn Conn, tenant string, id int64, runErr error) error {
	ctx = context.WithoutCancel(ctx)
	err := conn.BatchDiscard(ctx, tenant, id)
	if err != nil {
		// The run's connection is gone (a COPY cut short leaves it
		// bad): a fresh one from the pool removes the batch.
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err = db.BatchDiscard(ctx, tenant, id)
	}
	if err != nil {
		return fmt.Errorf("%w (and removing the unfinished batch %d failed: %v)", runErr, id, err)
	}
	return nil
}

// batchError is the error a batch that did not apply records: the
// message that ended its run, in the words of the front end that ran it
// (words; nil: as the error says it). No message of ccbulk holds a password.
func batchError(ctx context.Context, words func(error) error, err error) schema.NullString {
	if words != nil {
		err = words(err)
	}
	msg := err.Error()
	if ctx.Err() != nil {
		msg = "stopped before it finished (" + ctx.Err().Error() + "); nothing of it was applied"
	}
	return schema.NullString{String: msg, Valid: true}
}
