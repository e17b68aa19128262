package importer

import (
	"context"
	"errors"
	"time"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// apply runs the import for real: lock, batch, one transaction.
func (r *run) apply(ctx context.Context, db Store, conn Conn, sha func() string) error {
	tenant := r.env.Org.ID
	start := time.Now()
	if err := conn.TenantLock(ctx, tenant, r.opts.LockWait); err != nil {
		return err
	}
	// The lock ends with the connection anyway: an error unlocking changes nothing.
	defer func() { _ = conn.TenantUnlock(context.WithoutCancel(ctx), tenant) }()

	mode := "apply"
	switch {
	case r.opts.Sync:
		mode = "sync"
	case r.opts.Atomic:
		mode = "atomic"
	}
	batch := &schema.Batch{Tenant: tenant, Kind: "import", Actor: r.env.Actor.Email, FileName: r.name, FileSHA256: sha(), Mode: mode, Origin: r.opts.Origin}
	if err := conn.BatchStart(ctx, batch); err != nil {
		return err
	}
	r.res.BatchID = batch.ID
	ending := &batchEnd{db: db, conn: conn, name: "batch", again: "run the import again"}
	r.log = r.log.With("batch", batch.ID)
	start = r.phase("locking", start, "org", tenant)

	var aborted bool
	err := withTx(ctx, conn, func(tx Tx) error {
		// The rules check the state before the batch: a snapshot taken
		// before the transaction writes anything, on a connection of its
		// own, so that the server looks up one chunk while it writes
		// another.
		look, err := db.SnapshotOpen(ctx)
		if err != nil {
			return err
		}
		defer look.Close()
		whole, err := r.readWhole(ctx, look)
		if err != nil {
			return err
		}
		if whole != nil {
			// Nothing more to look up: end the snapshot at once. An open
			// snapshot older than the batch makes every insert of the
			// batch slower (a quarter slower for a million new users).
			look.Close()
		}
		if err := tx.StagingCreate(ctx); err != nil {
			return err
		}
		w := startWriter(ctx, tx, tenant, batch.ID)
		err = r.eachChunk(ctx, look, whole, func(chunk []chunkRow, snap *rules.Snapshot) error {
			var c chunkWrites
			var created []schema.Staged
			for i := range chunk {
				out, err := r.check(&chunk[i], snap)
				if err != nil {
					return err
				}
				if r.opts.Sync && chunk[i].in.Email != "" {
					c.listed = append(c.listed, chunk[i].in.Email)
				}
				s := schema.Staged{Row: chunk[i].row, User: out.After, SendActivation: out.SendActivation}
				switch {
				case out.Kind == rules.Created:
					if created == nil {
						created = make([]schema.Staged, 0, len(chunk)-i)
					}
					created = append(created, s)
					if s.User.Status == schema.StatusActive && s.User.HomeOrg == "" {
						r.createdMembers++
					}
				case out.Kind == rules.Updated || (out.Kind == rules.Unchanged && out.SendActivation):
					c.staged = append(c.staged, s)
				}
			}
			if created != nil {
				// Sorted here, while the writer writes the chunks before.
				c.created = []schema.NewUsers{schema.SortNewUsers(created)}
			}
			return w.send(c)
		})
		if werr := w.finish(err != nil); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		// Reading, checking and copying the new users run together, a
		// chunk at a time: one phase.
		start = r.phase("reading", start, "rows", r.res.Rows, "rejected", r.res.Rejected, "created", r.res.Created)
		r.progressPhase("writing")
		look.Close()
		if err := r.checkUnchanged(); err != nil {
			return err
		}
		refused := r.checkMaxRejected()
		if r.opts.Sync && refused == nil {
			refused = r.checkSyncLimit(ctx, tx)
		}
		if refused != nil {
			// Refused by a limit: nothing is applied, and the report of
			// the rows read stands.
			if err := r.commitReport(); err != nil {
				return err
			}
			aborted = true
			return refused
		}
		if r.opts.Atomic && r.res.Rejected > 0 {
			if err := r.commitReport(); err != nil {
				return err
			}
			aborted = true
			return errAborted
		}
		if _, err := tx.UserMerge(ctx, tenant, batch.ID); err != nil {
			return err
		}
		if r.opts.Sync {
			emails, err := tx.UserDeactivate(ctx, tenant, batch.ID)
			if err != nil {
				return err
			}
			r.res.Deactivated = len(emails)
		}
		b := *batch
		b.FileSHA256 = sha()
		r.fillCounts(&b)
		if err := ending.applied(ctx, tx, b); err != nil {
			return err
		}
		// The report is complete and in place before the COMMIT: if it
		// cannot be written, nothing is applied.
		if err := r.commitReport(); err != nil {
			return err
		}
		start = r.phase("writing", start, "updated", r.res.Updated, "deactivated", r.res.Deactivated)
		r.progressPhase("committing")
		return nil
	})
	if err == nil {
		r.res.Applied = true
		r.phase("committing", start)
		return nil
	}
	status := "failed"
	if aborted {
		status = "aborted" // refused by --atomic, --max-rejected or the --sync limit: nothing applied
	}
	b := *batch
	b.Status, b.FileSHA256 = status, sha()
	r.fillCounts(&b)
	if errors.Is(err, errAborted) {
		b.Error = batchError(ctx, r.opts.Words, &AtomicError{Rejected: r.res.Rejected})
		_, ferr := ending.record(ctx, &b)
		return ferr
	}
	b.Error = batchError(ctx, r.opts.Words, err)
	end := ending.failed(ctx, b, err)
	r.res.Applied = end.Applied
	r.commitUnknown = end.CommitUnknown
	return end.Err
}

var errAborted = errors.New("atomic import aborted")

func isFileError(err error) bool {
	var fe *schema.FileError
	return errors.As(err, &fe)
}

func (r *run) fillCounts(b *schema.Batch) {
	res := r.res
	b.Rows, b.Created, b.Updated, b.Unchanged = res.Rows, res.Created, res.Updated, res.Unchanged
	b.Deactivated, b.Rejected, b.Warnings = res.Deactivated, res.Rejected, res.Warnings
}
