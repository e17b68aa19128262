// Command ccbulk keeps a contact center's users, licenses and administrator
// roles in PostgreSQL in step with spreadsheets. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ccbulk/ccbulk/internal/cli"
	"github.com/ccbulk/ccbulk/internal/tmpdir"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Temporary files (the XLSX library's spill files among them) go to a
	// private directory, removed on the way out, SIGINT and SIGTERM
	// included; a SIGKILLed run's is removed by the next run.
	cleanup := tmpdir.Setup()
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	cleanup()
	stop()
	os.Exit(code)
}
