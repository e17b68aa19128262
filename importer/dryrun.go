package importer

import (
	"context"
	"errors"
	"time"

	"github.com/ccbulk/ccbulk/rules"
)

// dryRun checks every row and reports the plan; it writes nothing. With
// --sync it lists the users that would be deactivated, inside a
// transaction that is rolled back.
func (r *run) dryRun(ctx context.Context, db Store, conn Conn) error {
	start := time.Now()
	// The rules look up on a snapshot, as a real run's do (index probes
	// only, whatever the statistics say); a saved plan records the states
	// of the users the rules saw there.
	look, err := db.SnapshotOpen(ctx)
	if err != nil {
		return err
	}
	defer look.Close()
	return withRollback(ctx, conn, func(tx Tx) error {
		var w *writer
		if r.opts.Sync {
			if err := tx.StagingCreate(ctx); err != nil {
				return err
			}
			// The listed emails are copied by the writer, as a real
			// run's are: the server stages one chunk while the client
			// looks up and checks the next.
			w = startWriter(ctx, tx, r.env.Org.ID, 0)
		}
		whole, err := r.readWhole(ctx, look)
		if err != nil {
			return err
		}
		err = r.eachChunk(ctx, look, whole, func(chunk []chunkRow, snap *rules.Snapshot) error {
			var listed []string
			for i := range chunk {
				out, err := r.check(&chunk[i], snap)
				if err != nil {
					return err
				}
				if w != nil && chunk[i].in.Email != "" {
					listed = append(listed, chunk[i].in.Email)
				}
				r.plan(&chunk[i], out, snap)
			}
			if r.planOut != nil && r.planOut.err != nil {
				return r.planOut.err
			}
			if w != nil {
				return w.send(chunkWrites{listed: listed})
			}
			return nil
		})
		if w != nil {
			if werr := w.finish(err != nil); err == nil {
				err = werr
			}
		}
		if err == nil {
			err = r.checkUnchanged()
		}
		if err != nil {
			return err
		}
		start = r.phase("reading", start, "rows", r.res.Rows, "rejected", r.res.Rejected)
		if r.opts.Sync {
			r.progressPhase("checking")
			defer func() { r.phase("checking", start, "deactivated", r.res.Deactivated) }()
			// Over the limit, the plan still lists who would have been
			// deactivated (the transaction rolls back either way).
			refused := r.checkSyncLimit(ctx, tx)
			var limit *SyncLimitError
			if refused != nil && !errors.As(refused, &limit) {
				return refused
			}
			if refused == nil {
				if err := r.planDeactivations(ctx, tx); err != nil {
					return err
				}
			}
			emails, err := tx.UserDeactivate(ctx, r.env.Org.ID, 0)
			if err != nil {
				return err
			}
			for _, e := range emails {
				r.planItem(PlanItem{Email: e, Action: "deactivate", Changes: []rules.Change{{Field: rules.FStatus, Old: "active", New: "inactive"}}})
			}
			if refused != nil {
				return refused
			}
			r.res.Deactivated = len(emails)
		}
		if r.planOut != nil && r.planOut.err != nil {
			return r.planOut.err
		}
		return r.checkMaxRejected()
	})
}

func (r *run) plan(cr *chunkRow, out rules.Outcome, snap *rules.Snapshot) {
	row := cr.row
	var p PlanItem
	switch {
	case out.Kind == rules.Created:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "create", Changes: out.Changes, SendActivation: out.SendActivation}
	case out.Kind == rules.Updated:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "update", Changes: out.Changes, SendActivation: out.SendActivation}
	case out.Kind == rules.Unchanged && out.SendActivation:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "activate", SendActivation: true}
	default:
		return
	}
	p.Before, p.After = out.Before, &out.After
	if cr.in.CopyFrom.Set {
		p.CopiedFrom = cr.in.CopyFrom.V
	}
	r.planItem(p)
	r.planRow(p, snap)
}

func (r *run) planItem(p PlanItem) {
	if r.opts.Plan != nil {
		r.opts.Plan(p)
	}
}

func withRollback(ctx context.Context, conn Conn, fn func(tx Tx) error) error {
	tx, err := conn.TxBegin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}
