package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// UndoOptions describe one undo.
type UndoOptions struct {
	Batch int64
	// Origin is recorded on the undo's batch (see Options.Origin).
	Origin schema.Origin
	// Words is as in Options.
	Words    func(error) error
	Org      string // optional: the batch must belong to it
	Actor    string
	LockWait time.Duration
	// DryRun checks the undo as a real one would (permission, conflicts)
	// and counts what it would change, but writes nothing and takes no
	// lock.
	DryRun bool
}

// UndoResult is what an undo did.
type UndoResult struct {
	BatchID   int64 // the undo's own batch; 0 when none was started
	UndoOf    int64
	Org       string
	DryRun    bool
	Applied   bool
	Counts    schema.UndoCounts
	Conflicts []schema.UndoConflict // when refused: the users changed since (at most MaxListedConflicts)
	More      int                   // conflicts beyond those listed
}

// MaxListedConflicts bounds the users a refused undo lists.
const MaxListedConflicts = 50

// UndoRefusedError means the batch cannot be undone as asked: it does not
// exist, did not apply, or was undone already. Nothing was changed.
type UndoRefusedError struct {
	Message string
	// NotFound: the batch does not exist (in Org, when the undo named
	// one); the front end says where the batches are listed.
	NotFound bool
	Batch    int64
	Org      string
}

func (e *UndoRefusedError) Error() string { return e.Message }

// UndoConflictError means users of the batch changed since it ran: undoing
// it would overwrite those changes. Nothing was changed.
type UndoConflictError struct {
	Batch     int64
	Conflicts []schema.UndoConflict
	More      int
}

func (e *UndoConflictError) Error() string {
	var b strings.Builder
	n := len(e.Conflicts) + e.More
	users := "users it changed have"
	if n == 1 {
		users = "user it changed has"
	}
	fmt.Fprintf(&b, "batch %d cannot be undone: %d %s changed since, and undoing it would overwrite that; nothing was changed:", e.Batch, n, users)
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "\n  %s: changed ", c.Email)
		ids := make([]string, len(c.Batches))
		for i, id := range c.Batches {
			ids[i] = fmt.Sprint(id)
		}
		switch len(ids) {
		case 0:
		case 1:
			fmt.Fprintf(&b, "by batch %s", ids[0])
		default:
			fmt.Fprintf(&b, "by batches %s", strings.Join(ids, ", "))
		}
		if c.Outside || len(ids) == 0 {
			if len(ids) > 0 {
				b.WriteString(" and ")
			}
			b.WriteString("outside ccbulk")
		}
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	b.WriteString("\nundo the later batches first (newest first), or correct these users with an import")
	return b.String()
}

// Undo reverses every change of a batch as a new batch of kind undo, under
// the tenant's lock, in one transaction: users the batch created are
// deleted, users it deleted (an undo's) are re-created, changed fields are
// set back, and the batch's unsent activation requests are withdrawn.
// Undoing an undo redoes the batch it undid.
//
// The actor must be allowed every change the undo makes (docs/REFERENCE.md §3, Who may do what; F-ACTOR
// naming the first it may not make). With DryRun nothing is written and no
// lock is taken: the result counts what the undo would change, or the
// error is the one the undo would meet. *UndoRefusedError: no such batch,
// not applied, or undone already; *UndoConflictError: users changed since;
// *schema.LockedError: another run holds the lock.
func Undo(ctx context.Context, db Store, opts UndoOptions) (res UndoResult, err error) {
	res = UndoResult{UndoOf: opts.Batch, Org: opts.Org, DryRun: opts.DryRun}
	if err := db.SchemaCheck(ctx); err != nil {
		return res, err
	}
	target, err := db.BatchGet(ctx, opts.Batch)
	if errors.Is(err, schema.ErrNotFound) || err == nil && opts.Org != "" && schema.NameKey(target.Tenant) != schema.NameKey(opts.Org) {
		where := ""
		if opts.Org != "" {
			where = " in " + opts.Org
		}
		return res, &UndoRefusedError{Message: fmt.Sprintf("no batch %d%s", opts.Batch, where), NotFound: true, Batch: opts.Batch, Org: opts.Org}
	}
	if err != nil {
		return res, err
	}
	org := target.Tenant
	res.Org = org
	env, err := tenant.Load(ctx, db, org, opts.Actor)
	if err != nil {
		return res, err
	}
	// The batch's audit rows never change: whether the actor may make
	// every change of the undo is known before the lock.
	if err := undoPermitted(ctx, db, env, org, target.ID); err != nil {
		return res, err
	}
	if opts.DryRun {
		return undoDryRun(ctx, db, target, res)
	}

	conn, err := db.ConnOpen(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if err := conn.TenantLock(ctx, org, opts.LockWait); err != nil {
		return res, err
	}
	// The lock ends with the connection anyway: an error unlocking changes nothing.
	defer func() { _ = conn.TenantUnlock(context.WithoutCancel(ctx), org) }()

	// Under the lock, the batch's status is final.
	if target, err = conn.BatchGet(ctx, opts.Batch); err != nil {
		return res, err
	}
	if err := undoable(ctx, conn, target); err != nil {
		return res, err
	}

	batch := &schema.Batch{Tenant: org, Kind: "undo", Actor: env.Actor.Email, FileName: target.FileName,
		FileSHA256: target.FileSHA256, Mode: "undo", Origin: opts.Origin}
	batch.UndoOf.Int64, batch.UndoOf.Valid = target.ID, true
	if err := conn.BatchStart(ctx, batch); err != nil {
		return res, err
	}
	res.BatchID = batch.ID
	ending := &batchEnd{db: db, conn: conn, name: "undo batch", again: "run the undo again"}
	refused := func(err error) (UndoResult, error) {
		b := *batch
		b.Status, b.Error = "aborted", batchError(ctx, opts.Words, err)
		return res, ending.refused(ctx, b, err)
	}

	conflicts, total, err := conn.UndoConflictList(ctx, schema.UndoConflictParams{Tenant: org, Batch: target.ID, Limit: MaxListedConflicts})
	if err != nil {
		return refused(err)
	}
	if total > 0 {
		res.Conflicts, res.More = conflicts, total-len(conflicts)
		return refused(&UndoConflictError{Batch: target.ID, Conflicts: conflicts, More: res.More})
	}
	err = withTx(ctx, conn, func(tx Tx) error {
		counts, err := tx.UndoApply(ctx, schema.UndoApplyParams{Tenant: org, Batch: target.ID, Undo: batch.ID})
		if err != nil {
			return err
		}
		res.Counts = counts
		b := *batch
		b.Rows, b.Created, b.Updated, b.Deleted, b.Withdrawn = counts.Users, counts.Recreated, counts.Restored, counts.Deleted, counts.Withdrawn
		return ending.applied(ctx, tx, b)
	})
	if err == nil {
		res.Applied = true
		return res, nil
	}
	if errors.Is(err, schema.ErrUndoBreaksRule) {
		return refused(fmt.Errorf("batch %d cannot be undone: %w; nothing was changed", target.ID, err))
	}
	b := *batch
	b.Status, b.Error = "failed", batchError(ctx, opts.Words, err)
	end := ending.failed(ctx, b, err)
	res.Applied = end.Applied
	return res, end.Err
}

// undoDryRun checks target and counts what undoing it would change,
// writing nothing.
func undoDryRun(ctx context.Context, db Store, target schema.Batch, res UndoResult) (UndoResult, error) {
	res.DryRun = true
	if err := undoable(ctx, db, target); err != nil {
		return res, err
	}
	conflicts, total, err := db.UndoConflictList(ctx, schema.UndoConflictParams{Tenant: target.Tenant, Batch: target.ID, Limit: MaxListedConflicts})
	if err != nil {
		return res, err
	}
	if total > 0 {
		res.Conflicts, res.More = conflicts, total-len(conflicts)
		return res, &UndoConflictError{Batch: target.ID, Conflicts: conflicts, More: res.More}
	}
	n := &res.Counts
	err = db.ChangeEach(ctx, target.Tenant, target.ID, func(c schema.UserChange) error {
		n.Users++
		switch {
		case c.Created:
			n.Deleted++
		case c.Deleted:
			n.Recreated++
		default:
			n.Restored++
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	n.Withdrawn, n.Sent, err = db.ActivationPendingCount(ctx, target.Tenant, target.ID)
	return res, err
}

// AtomicError says why an atomic import (--atomic) applied nothing: rows
// were rejected. Its message names no option: each front end words it with
// its own name for the option.
type AtomicError struct{ Rejected int }

func (e *AtomicError) Error() string {
	return fmt.Sprintf("the import is atomic and %s; nothing was applied", e.RowsRejected())
}

// RowsRejected says how many rows were rejected ("1 row rejected").
func (e *AtomicError) RowsRejected() string {
	rows := "rows"
	if e.Rejected == 1 {
		rows = "row"
	}
	return fmt.Sprintf("%d %s rejected", e.Rejected, rows)
}

// undoable refuses a batch that did not apply or that an applied undo has
// reversed already, saying what to undo instead.
func undoable(ctx context.Context, q Queries, b schema.Batch) error {
	switch b.Status {
	case "applied":
	case "running":
		return &UndoRefusedError{Message: fmt.Sprintf("batch %d is still recorded as running; wait for it to finish", b.ID)}
	default:
		return &UndoRefusedError{Message: fmt.Sprintf("batch %d is %s: it changed nothing, so there is nothing to undo", b.ID, b.Status)}
	}
	if !b.UndoneBy.Valid {
		return nil
	}
	// Follow the chain of undos (an undo of an undo redoes) to the batch
	// whose changes are in place now.
	last, steps := b, 0
	for last.UndoneBy.Valid && steps < 10000 {
		next, err := q.BatchGet(ctx, last.UndoneBy.Int64)
		if err != nil {
			return err
		}
		last, steps = next, steps+1
	}
	if steps%2 == 1 {
		return &UndoRefusedError{Message: fmt.Sprintf("batch %d was undone already (by batch %d); its changes are not in place", b.ID, last.ID)}
	}
	return &UndoRefusedError{Message: fmt.Sprintf("batch %d was undone (by batch %d) and redone since (by batch %d); to reverse it again, undo batch %d", b.ID, b.UndoneBy.Int64, last.ID, last.ID)}
}
