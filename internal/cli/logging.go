package cli

import (
	"io"
	"log/slog"

	"github.com/urfave/cli/v2"
)

// The run's log: lines on standard error with a time, the run's batch and
// the phase with its duration, at level Info. By default only warnings and
// errors are logged (a person reads the summary; nothing noisy), so the
// phases show with --verbose; --quiet leaves errors only. --log-format json
// writes one JSON object a line, for a log collector. --quiet wins over
// --verbose.

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{envVar("log-format")}, Usage: "how log lines are written on standard error: text or json"},
		&cli.BoolFlag{Name: "verbose", EnvVars: []string{envVar("verbose")}, Usage: "log each phase of a run (locking, reading, writing, committing) with its duration"},
		&cli.BoolFlag{Name: "quiet", EnvVars: []string{envVar("quiet")}, Usage: "log errors only"},
	}
}

// globalBool returns a global switch, set before or after the command name.
func globalBool(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.Bool(name)
		}
	}
	return false
}

// globalString returns a global text flag, set before or after the command
// name, else its default.
func globalString(c *cli.Context, name string) string {
	lineage := c.Lineage()
	for _, ctx := range lineage {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return lineage[len(lineage)-1].String(name)
}

// newLogger returns the run's logger as the flags ask, writing to w.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	level := slog.LevelWarn
	// --quiet wins over --verbose (a job's CCBULK_VERBOSE silenced for one run).
	switch {
	case globalBool(c, "quiet"):
		level = slog.LevelError
	case globalBool(c, "verbose"):
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := globalString(c, "log-format"); f {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)).With("command", c.Command.Name), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)).With("command", c.Command.Name), nil
	default:
		return nil, usagef("--log-format must be text or json, not %q", f)
	}
}
