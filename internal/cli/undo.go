package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/schema"
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
			"actor must be allowed every change the undo makes (deleting or re-creating users counts as\n" +
			"creating users): a Contact Center Service Administrator may undo a batch that changed only\n" +
			"licenses and Contact Center Service Administrator roles within its reach (F-ACTOR, exit 1,\n" +
			"otherwise). --dry-run shows what the undo would change, user by user, and writes nothing\n" +
			"(no batch, no lock); a refused undo is refused the same way.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "actor", Usage: "email of the administrator running the undo"},
			&cli.BoolFlag{Name: "dry-run", Usage: "show what the undo would change; write nothing"},
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
	id, err := parseBatchID("undo", arg)
	if err != nil {
		return err
	}
	if err := need(c, "actor"); err != nil {
		return err
	}
	// The arguments are right: from here on, --json prints its object
	// whatever happens, as import's does.
	started := time.Now()
	res := importer.UndoResult{UndoOf: id, Org: c.String("org"), DryRun: c.Bool("dry-run")}
	db, err := openDB(c)
	if err == nil {
		defer db.Close()
		res, err = importer.Undo(c.Context, pgimporter.New(db), importer.UndoOptions{Batch: id, Org: c.String("org"), Actor: c.String("actor"), LockWait: c.Duration("lock-wait"), DryRun: c.Bool("dry-run"), Origin: schema.Origin{Kind: "cli"}, Words: cliWords})
		// Once the undo is committed, a later error is a warning (exit 0).
		err = afterCommit(res.Applied, res.BatchID, 0, err)
	}
	if c.Bool("json") {
		printUndoJSON(c.App.Writer, res, jsonRun{started: started, finished: time.Now(), err: err})
	}
	var applied *appliedError
	if err != nil && !errors.As(err, &applied) {
		return err
	}
	if res.DryRun && !c.Bool("json") {
		return printUndoPlan(c, &app.Admin{Store: db.Admin()}, res)
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

// printUndoJSON prints undo's --json object (outcome.UndoOf, which the
// HTTP API answers too).
func printUndoJSON(w io.Writer, r importer.UndoResult, run jsonRun) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(outcome.UndoOf(r, outcome.Run{Started: run.started, Finished: run.finished, Err: cliWords(run.err)}))
}

// printUndoPlan writes what a dry-run undo would change, user by user, as
// the audit trail is read.
func printUndoPlan(c *cli.Context, a *app.Admin, res importer.UndoResult) error {
	w := bufio.NewWriterSize(c.App.Writer, 64<<10)
	n := res.Counts
	fmt.Fprintf(w, "dry run: undoing batch %d of %s would change %d %s: %d deleted, %d set back, %d re-created",
		res.UndoOf, res.Org, n.Users, plural(n.Users, "user", "users"), n.Deleted, n.Restored, n.Recreated)
	if n.Withdrawn > 0 {
		fmt.Fprintf(w, "; %d unsent activation %s withdrawn", n.Withdrawn, plural(n.Withdrawn, "email", "emails"))
	}
	if n.Sent > 0 {
		fmt.Fprintf(w, "; %d activation %s sent already", n.Sent, plural(n.Sent, "email was", "emails were"))
	}
	fmt.Fprintln(w)
	err := a.BatchChanges(c.Context, res.Org, res.UndoOf, func(uc schema.UserChange) error {
		u := importer.Reversed(uc)
		switch {
		case u.Deleted:
			fmt.Fprintf(w, "  delete %s\n", u.Email)
			return nil
		case u.Created:
			fmt.Fprintf(w, "  re-create %s:", u.Email)
		default:
			fmt.Fprintf(w, "  set back %s:", u.Email)
		}
		for i, cc := range importer.Columns(u) {
			sep := " "
			if i > 0 {
				sep = "; "
			}
			if u.Created {
				fmt.Fprintf(w, "%s%s %q", sep, cc.Column.Header(), cc.New)
			} else {
				fmt.Fprintf(w, "%s%s %q → %q", sep, cc.Column.Header(), cc.Old, cc.New)
			}
		}
		_, err := fmt.Fprintln(w)
		return err
	})
	if err != nil {
		return err
	}
	err = a.BatchWithdrawals(c.Context, res.Org, res.UndoOf, func(email string) error {
		_, err := fmt.Fprintf(w, "  withdraw the unsent activation email to %s\n", email)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "nothing was written (dry run)")
	return w.Flush()
}
