package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
)

func undoCommand() *cli.Command {
	return &cli.Command{
		Name:      "undo",
		Usage:     "reverse every change of a batch, as a new batch",
		ArgsUsage: "BATCH_ID",
		Description: "Users the batch created are deleted, changed fields are set back, and the batch's unsent\n" +
			"activation emails are withdrawn. Undoing an undo redoes the batch. Refused (exit 4, nothing\n" +
			"changed) when users of the batch no longer hold what it left: a later batch whose changes\n" +
			"stand (undo it first, newest first) or a change outside ccbulk; a later batch undone since\n" +
			"does not count. Refused (exit 1) when the batch did not apply or was undone already. The\n" +
			"actor must be an active Full Administrator.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "actor", Usage: "email of the Full Administrator running the undo"},
			&cli.StringFlag{Name: "org", Usage: "the tenant the batch must belong to (optional: batch ids are unique)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON summary on standard output"},
			&cli.DurationFlag{Name: "lock-wait", Usage: "wait this long for another run on the organization to finish (default: refuse at once)"},
		},
		Action: runUndo,
	}
}

func runUndo(c *cli.Context) error {
	arg, err := oneArg(c, "BATCH_ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || id <= 0 {
		return usagef("undo: BATCH_ID is a batch number as 'ccbulk batches' lists it, not %q", arg)
	}
	if err := need(c, "actor"); err != nil {
		return err
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := importer.Undo(c.Context, db, importer.UndoOptions{Batch: id, Org: c.String("org"), Actor: c.String("actor"), LockWait: c.Duration("lock-wait")})
	// Once the undo is committed, a later error is a warning (exit 0).
	err = afterCommit(res.Applied, res.BatchID, 0, err)
	var applied *appliedError
	// Done or refused (exit 4), a scheduler gets its JSON.
	var conflict *importer.UndoConflictError
	var locked *store.LockedError
	if c.Bool("json") && (err == nil || errors.As(err, &applied) || errors.As(err, &conflict) || errors.As(err, &locked)) {
		printUndoJSON(c.App.Writer, res)
	}
	if err != nil && !errors.As(err, &applied) {
		return err
	}
	if !c.Bool("json") {
		n := res.Counts
		users := "users"
		if n.Users == 1 {
			users = "user"
		}
		fmt.Fprintf(c.App.Writer, "batch %d undid batch %d of %s: %d %s: %d deleted, %d set back, %d re-created", res.BatchID, res.UndoOf, res.Org, n.Users, users, n.Deleted, n.Restored, n.Recreated)
		if n.Withdrawn > 0 {
			fmt.Fprintf(c.App.Writer, "; %d unsent activation emails withdrawn", n.Withdrawn)
		}
		if n.Sent > 0 {
			fmt.Fprintf(c.App.Writer, "; %d activation emails had been sent already", n.Sent)
		}
		fmt.Fprintln(c.App.Writer)
	}
	return err // nil, or an error after the commit: a warning
}

// jsonUndo is undo's --json object; the key order is fixed.
type jsonUndo struct {
	BatchID   *int64               `json:"batch_id"`
	Org       string               `json:"org"`
	UndoOf    int64                `json:"undo_of"`
	Applied   bool                 `json:"applied"`
	Users     int                  `json:"users"`
	Deleted   int                  `json:"deleted"`
	Restored  int                  `json:"restored"`
	Recreated int                  `json:"recreated"`
	Withdrawn int                  `json:"activations_withdrawn"`
	Sent      int                  `json:"activations_sent"`
	Conflicts []store.UndoConflict `json:"conflicts"`
}

func printUndoJSON(w io.Writer, r importer.UndoResult) {
	n := r.Counts
	j := jsonUndo{Org: r.Org, UndoOf: r.UndoOf, Applied: r.Applied, Users: n.Users, Deleted: n.Deleted,
		Restored: n.Restored, Recreated: n.Recreated, Withdrawn: n.Withdrawn, Sent: n.Sent, Conflicts: r.Conflicts}
	if r.BatchID != 0 {
		j.BatchID = &r.BatchID
	}
	if j.Conflicts == nil {
		j.Conflicts = []store.UndoConflict{}
	}
	for i := range j.Conflicts {
		if j.Conflicts[i].Batches == nil {
			j.Conflicts[i].Batches = []int64{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(j)
}
