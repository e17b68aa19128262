package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ccbulk/ccbulk/internal/tmpdir"
)

// Main is the ccbulk process: it runs the command line of os.Args on the
// process's standard streams and returns the exit code. cmd/ccbulk calls
// it, and so do the command-line scripts' tests, which run the test binary
// itself as ccbulk so that the race detector and coverage reach every
// command.
func Main() int {
	openStandardFDs()
	// A closed standard output (a pipe whose reader went away) is an
	// error of the write, not the end of the process: a run whose batch
	// was committed must still exit 0 or 3, never die of SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	// SIGINT or SIGTERM stops the run: whatever it is doing (a statement,
	// waiting for the lock, reading an idle input), it rolls back, records
	// its batch as failed and exits 1. A second signal ends the process at
	// once, as if ccbulk did not handle signals.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Temporary files (the XLSX library's spill files among them) go to a
	// private directory, removed on the way out, SIGINT and SIGTERM
	// included; a SIGKILLed run's is removed by the next run.
	cleanup := tmpdir.Setup()
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	cleanup()
	stop()
	return code
}
