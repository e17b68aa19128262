package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/version"
	"github.com/ccbulk/ccbulk/mapping"
)

// Exit codes of docs/REFERENCE.md §5, Exit codes.
const (
	ExitOK       = outcome.ExitOK
	ExitFatal    = outcome.ExitFatal    // a file-level or fatal error
	ExitUsage    = outcome.ExitUsage    // wrong usage
	ExitRejected = outcome.ExitRejected // done, some rows rejected
	ExitRefused  = outcome.ExitRefused  // another run holds the lock, or the sync safety limit
)

// usageError is wrong usage: exit 2. quiet leaves out the pointer to the
// help, for mistakes whose message says all (a mapping file's).
type usageError struct {
	msg   string
	quiet bool
}

func (e *usageError) Error() string { return e.msg }

// ExitCode implements outcome.ExitCoder.
func (e *usageError) ExitCode() int { return ExitUsage }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// mappingErr is --mapping naming no profile, or a mapping file with
// mistakes: wrong usage (exit 2), reported before anything is read. The
// mistakes are about how the run is set up, not about the sheet.
func mappingErr(err error) error {
	var errs mapping.Errors
	if errors.As(err, &errs) {
		return &usageError{msg: "--mapping: the mapping has mistakes; nothing was read:\n" + errs.Error(), quiet: true}
	}
	return &usageError{msg: "--mapping: " + err.Error(), quiet: true}
}

// exitError carries an exit code for a run that finished but did not
// succeed (rows rejected); its message has been printed already.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// ExitCode implements outcome.ExitCoder.
func (e *exitError) ExitCode() int { return e.code }

// appliedError is an error met after a run's batch was committed (writing
// the report into place, printing): the data is applied, so the exit code
// is the run's own, 0 or 3 (docs/REFERENCE.md §5, Exit codes: an exit code never claims less than
// what happened), and the error is printed as a warning.
type appliedError struct {
	err   error
	batch int64
	code  int // ExitOK or ExitRejected
}

func (e *appliedError) Error() string {
	return fmt.Sprintf("warning: batch %d was applied, but then: %v", e.batch, e.err)
}

func (e *appliedError) Unwrap() error { return e.err }

// ExitCode implements outcome.ExitCoder: the run's own code, 0 or 3.
func (e *appliedError) ExitCode() int { return e.code }

// afterCommit returns err as an appliedError when the run's batch was
// applied, and err itself otherwise.
func afterCommit(applied bool, batch int64, rejected int, err error) error {
	if err == nil || !applied {
		return err
	}
	code := ExitOK
	if rejected > 0 {
		code = ExitRejected
	}
	return &appliedError{err: err, batch: batch, code: code}
}

// Run runs ccbulk with args (args[0] is the program name) and returns the
// exit code. It never calls os.Exit.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	if !completing(args) {
		args = reorderArgs(app, args)
	}
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var applied *appliedError
	if errors.As(err, &applied) {
		fmt.Fprintf(stderr, "ccbulk: %v\n", cliWords(applied))
		return code
	}
	err = cliWords(err)
	if errors.Is(err, context.Canceled) {
		err = errors.New(errorMessage(err))
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "ccbulk: %s\n", errorText(err))
		var ue *usageError
		if code == ExitUsage && !(errors.As(err, &ue) && ue.quiet) && !errors.Is(err, store.ErrBadConfig) {
			fmt.Fprintln(stderr, usageHint(app, args))
		}
	}
	return code
}

// errorMessage is the message of the error that ended a run, as standard
// error and --json say it.
func errorMessage(err error) string { return outcome.Message(err) }

// exitCode maps errors to exit codes through outcome.ExitCode, the one
// place that does. An error met after the run's batch was committed (an
// appliedError, whatever it wraps) never gives more than 3.
func exitCode(err error) int { return outcome.ExitCode(err) }

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                  "ccbulk",
		HelpName:              "ccbulk",
		Usage:                 "keep a contact center's users, licenses and admin roles in step with spreadsheets",
		Description:           description,
		CustomAppHelpTemplate: appHelpTemplate,
		Version:               version.String(),
		Reader:                stdin, Writer: stdout, ErrWriter: stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.DurationFlag{Name: "statement-timeout", Value: store.DefaultSettings.StatementTimeout, EnvVars: []string{"CCBULK_STATEMENT_TIMEOUT"},
				Usage: "cancel any one database statement that runs longer, and fail the run with nothing applied (0: no limit)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: store.DefaultSettings.LockTimeout, EnvVars: []string{"CCBULK_LOCK_TIMEOUT"},
				Usage: "fail the run when a statement waits longer for a row or table lock another session holds (0: wait for ever)"},
			configFlag(),
			cpuProfileFlag,
		},
		Before: startProfile,
		After:  stopProfile,
		Commands: []*cli.Command{
			migrateCommand(),
			orgCommand(),
			roleCommand(),
			importCommand(),
			applyCommand(),
			exportCommand(),
			templateCommand(),
			batchesCommand(),
			undoCommand(),
			tokenCommand(),
			serveCommand(),
			mappingCommand(),
			versionCommand(),
			completionCommand(),
			manCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // never exit from inside the library
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return flagError(err, c.App.VisibleFlags())
		},
		Action: groupAction,
	}
	app.Flags = append(app.Flags, logFlags()...)
	tidyFlags(app.Flags)
	prepareCommands(app, app.Commands, "")
	return app
}

const dbUsage = "PostgreSQL URL (or CCBULK_DB, DATABASE_URL; libpq PG* variables also work)"

func dbFlag() cli.Flag {
	return &cli.StringFlag{Name: "db", Usage: dbUsage, EnvVars: []string{"CCBULK_DB", "DATABASE_URL"}}
}

// commandDBFlag is --db written after the command name. It has no
// environment fallback of its own, so that a --db before the command name
// is not shadowed by DATABASE_URL; dbURL resolves the two.
func commandDBFlag() cli.Flag {
	return &cli.StringFlag{Name: "db", Usage: dbUsage}
}

// dbURL returns --db after the command name, else --db before it, else
// DATABASE_URL.
func dbURL(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if v := ctx.String("db"); v != "" {
			return v
		}
	}
	return ""
}

// prepareCommands makes flag errors usage errors (exit 2) and accepts --db
// after the command name too, where people write it. It gives each command
// its synopsis and example, a command that groups others an error for a
// name it does not have, and settles where each flag may come from
// (settleFlags).
func prepareCommands(app *cli.App, cmds []*cli.Command, parent string) {
	for _, c := range cmds {
		path := strings.TrimSpace(parent + " " + c.Name)
		applyHelp(c, path)
		c.OnUsageError = func(ctx *cli.Context, err error, _ bool) error { return flagError(err, ctx.Command.VisibleFlags()) }
		if len(c.Subcommands) == 0 && !slices.Contains(noDBCommands, c.Name) {
			c.Flags = append(c.Flags, commandDBFlag())
		}
		c.HideHelpCommand = true // --help is the one way, as for ccbulk itself
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
		tidyFlags(c.Flags)
		if len(c.Subcommands) == 0 {
			settleFlags(app, c)
		}
		prepareCommands(app, c.Subcommands, path)
	}
}

// reorderArgs moves each command's positional arguments after its flags,
// so that "ccbulk import FILE --org acme" works as docs/REFERENCE.md §5, Running it, writes it
// (urfave/cli v2 stops reading flags at the first argument).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	cmds := app.Commands
	flags := app.Flags
	for {
		// leading flags of this level stay in place
		i := 0
		for i < len(rest) && strings.HasPrefix(rest[i], "-") && rest[i] != "-" && rest[i] != "--" {
			i += 1 + flagArity(flags, rest[i])
		}
		i = min(i, len(rest))
		out = append(out, rest[:i]...)
		rest = rest[i:]
		if len(rest) == 0 {
			return out
		}
		if cmd := findCommand(cmds, rest[0]); cmd != nil {
			out = append(out, rest[0])
			rest = rest[1:]
			cmds, flags = cmd.Subcommands, cmd.Flags
			if len(cmds) > 0 {
				continue
			}
		}
		break
	}
	var positional, flagArgs []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			n := flagArity(flags, a)
			end := min(i+1+n, len(rest))
			flagArgs = append(flagArgs, rest[i:end]...)
			i = end - 1
			continue
		}
		positional = append(positional, a)
	}
	out = append(out, flagArgs...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// flagArity is how many following arguments a flag token consumes.
func flagArity(flags []cli.Flag, tok string) int {
	name := strings.TrimLeft(tok, "-")
	if strings.Contains(name, "=") {
		return 0
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if v, ok := f.(interface{ TakesValue() bool }); ok && !v.TakesValue() {
					return 0 // a boolean flag
				}
				return 1
			}
		}
	}
	return 0 // --help, --version and unknown flags (reported by the parser)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

// openDB opens the database named by --db, DATABASE_URL or PG* variables,
// with the session settings of --statement-timeout and --lock-timeout.
func openDB(c *cli.Context) (*store.DB, error) {
	s := store.Settings{StatementTimeout: globalDuration(c, "statement-timeout"), LockTimeout: globalDuration(c, "lock-timeout")}
	if s.StatementTimeout < 0 || s.LockTimeout < 0 {
		return nil, usagef("--statement-timeout and --lock-timeout take a duration such as 30m or 10s (0: no limit)")
	}
	return store.OpenWith(c.Context, dbURL(c), s)
}

// need returns a usage error when a required flag is missing.
func need(c *cli.Context, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(c.String(n)) == "" {
			return usagef("%s: --%s is required", c.Command.FullName(), n)
		}
	}
	return nil
}

// oneArg returns the command's single positional argument.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s takes one %s (got %d arguments)", c.Command.FullName(), what, c.NArg())
	}
	return c.Args().First(), nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
