package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "apply a saved plan exactly, or refuse",
		ArgsUsage: "PLAN (written by 'ccbulk import FILE --dry-run --plan-out PLAN'; - for standard input)",
		Description: "Applies exactly the changes of a plan saved by a dry run, as one batch under the organization's\n" +
			"lock (the plan names the organization). If any user, seat count, CC role or PBX the plan depends\n" +
			"on changed since it was made, nothing is applied and the exit code is 4, naming what changed; a\n" +
			"plan is applied at most once (a second apply exits 4 naming the batch that applied it). The\n" +
			"actor may be another administrator than the plan's author (four eyes: the batch records both),\n" +
			"but must be allowed every change of the plan (F-ACTOR, exit 1, otherwise). A file that is not\n" +
			"a plan, or a plan edited or cut short, is exit 1: make the plan again.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "actor", Usage: "email of the administrator applying the plan"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON summary on standard output (as import --json)"},
			metricsFileFlag(),
			&cli.DurationFlag{Name: "lock-wait", Usage: "wait this long for another run on the organization to finish (default: refuse at once)"},
		},
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	path, err := oneArg(c, "PLAN")
	if err != nil {
		return err
	}
	if err := need(c, "actor"); err != nil {
		return err
	}
	// The arguments are right: from here on, --json prints its object
	// whatever happens, as import's does.
	started := time.Now()
	name := displayName(path)
	res := importer.Result{File: name}
	opts := importer.ApplyOptions{PlanName: name, Actor: c.String("actor"), LockWait: c.Duration("lock-wait"), Words: cliWords}
	if opts.Log, err = newLogger(c, c.App.ErrWriter); err != nil {
		return err
	}
	err = func() error {
		if err := checkMetricsFile(c.String("metrics-file")); err != nil {
			return err
		}
		if path == "-" {
			opts.Plan = c.App.Reader
		} else {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("%s: cannot read the plan (%v); nothing was applied", name, err)
			}
			defer f.Close()
			opts.Plan = f
		}
		var bar *progress
		if isTerminal(c.App.ErrWriter) {
			bar = newProgress(c.App.ErrWriter)
			opts.Progress = bar.update
		}
		db, err := openDB(c)
		if err != nil {
			return err
		}
		defer db.Close()
		res, err = importer.Apply(c.Context, pgimporter.New(db), opts)
		bar.done()
		// Once the batch is committed, a later error is a warning (exit 0 or 3).
		return afterCommit(res.Applied, res.BatchID, res.Rejected, err)
	}()
	return endRun(c, "apply", res.Org, started, res, err)
}
