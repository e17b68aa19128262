package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"go.yaml.in/yaml/v3"
)

// Settings come, strongest first, from the command line (a global flag may
// also be written after the command), a CCBULK_<FLAG> environment
// variable, the organization's section of the --config file, and the
// file's top level.
//
// The config file is YAML: flags by name, for every command that has them,
// and per organization under orgs, for the commands run with that --org
// (as GAM's per-domain sections, or Data Loader's process files):
//
//	statement-timeout: 1h
//	orgs:
//	  acme:
//	    actor: sync-bot@acme.example
//	    max-deactivate: 2%
//	    lock-wait: 20m

// envVar returns the environment variable of a flag: CCBULK_ and its name
// in capitals, dashes as underscores (--max-deactivate: CCBULK_MAX_DEACTIVATE).
func envVar(name string) string {
	return "CCBULK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", EnvVars: []string{envVar("config")},
		Usage: "a YAML file of settings: flags by name for every command, and per organization under orgs: ID:"}
}

// globalFlagsAfterCommand are the global flags a command also accepts after
// its name (ccbulk import FILE --statement-timeout 2h).
var globalFlagsAfterCommand = []string{"statement-timeout", "lock-timeout", "config", "log-format", "verbose", "quiet"}

// settleFlags gives every flag of a command that reads flags its
// environment variable, accepts the global flags after the command name,
// and reads the --config file before the command runs.
func settleFlags(app *cli.App, cmd *cli.Command) {
	for _, name := range globalFlagsAfterCommand {
		for _, f := range app.Flags {
			if slices.Contains(f.Names(), name) {
				cmd.Flags = append(cmd.Flags, withoutEnv(f))
			}
		}
	}
	for i, f := range cmd.Flags {
		cmd.Flags[i] = fromConfig(withEnv(f))
	}
	before := cmd.Before
	cmd.Before = func(c *cli.Context) error {
		if err := applyConfig(app, c, cmd.Flags); err != nil {
			return err
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

// withEnv gives a flag without an environment variable its CCBULK_ one.
// --db after the command name keeps none: DATABASE_URL and CCBULK_DB are
// read by --db before it, which the one after it must not shadow.
func withEnv(f cli.Flag) cli.Flag {
	name := f.Names()[0]
	if name == "db" {
		return f
	}
	if vars := envVarsOf(f); vars != nil && len(*vars) == 0 {
		*vars = []string{envVar(name)}
	}
	return f
}

// envVarsOf returns where a flag of the kinds ccbulk uses keeps its
// environment variables (nil for any other kind).
func envVarsOf(f cli.Flag) *[]string {
	switch f := f.(type) {
	case *cli.StringFlag:
		return &f.EnvVars
	case *cli.BoolFlag:
		return &f.EnvVars
	case *cli.IntFlag:
		return &f.EnvVars
	case *cli.DurationFlag:
		return &f.EnvVars
	case *cli.StringSliceFlag:
		return &f.EnvVars
	}
	return nil
}

// withoutEnv copies a global flag for use after the command name, without
// its environment variables (read by the global flag itself).
func withoutEnv(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.DurationFlag:
		g := *f
		g.EnvVars, g.Hidden = nil, true
		return &g
	case *cli.StringFlag:
		g := *f
		g.EnvVars, g.Hidden = nil, true
		return &g
	case *cli.BoolFlag:
		g := *f
		g.EnvVars, g.Hidden = nil, true
		return &g
	}
	return f
}

// fromConfig wraps a flag so that the --config file can set it.
func fromConfig(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.StringFlag:
		return altsrc.NewStringFlag(f)
	case *cli.BoolFlag:
		return altsrc.NewBoolFlag(f)
	case *cli.IntFlag:
		return altsrc.NewIntFlag(f)
	case *cli.DurationFlag:
		return altsrc.NewDurationFlag(f)
	case *cli.StringSliceFlag:
		return altsrc.NewStringSliceFlag(f)
	}
	return f
}

// globalDuration returns a global duration flag, written before or after
// the command name (after wins), or its environment variable or default.
func globalDuration(c *cli.Context, name string) time.Duration {
	lineage := c.Lineage()
	for _, ctx := range lineage {
		if ctx.IsSet(name) {
			return ctx.Duration(name)
		}
	}
	return lineage[len(lineage)-1].Duration(name)
}

// configError is a mistake in the --config file: wrong usage (exit 2).
func configError(path, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf("--config %s: ", path) + fmt.Sprintf(format, args...), quiet: true}
}

// applyConfig reads the --config file, if any, and sets from it the flags
// of the command that neither the command line nor the environment set.
func applyConfig(app *cli.App, c *cli.Context, flags []cli.Flag) error {
	path := ""
	for _, ctx := range c.Lineage() {
		if v := ctx.String("config"); v != "" {
			path = v
			break
		}
	}
	if path == "" {
		return nil
	}
	body, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configError(path, "no such file")
	}
	if err != nil {
		return configError(path, "%v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return configError(path, "not a YAML mapping of settings: %v", err)
	}
	known := allFlagNames(app)
	top, orgs := map[string]any{}, map[string]any{}
	for k, v := range doc {
		switch {
		case k == "orgs":
			m, ok := v.(map[string]any)
			if !ok {
				return configError(path, "orgs: holds a section per organization id (orgs: {acme: {actor: …}})")
			}
			orgs = m
		case known[k]:
			top[k] = v
		default:
			return configError(path, "%q is not a flag of any ccbulk command", k)
		}
	}
	values := map[any]any{}
	for k, v := range top {
		values[k] = v
	}
	if org := c.String("org"); org != "" {
		for id, section := range orgs {
			if !strings.EqualFold(id, org) {
				continue
			}
			m, ok := section.(map[string]any)
			if !ok {
				return configError(path, "orgs: %s: holds flags by name", id)
			}
			for k, v := range m {
				if !known[k] || k == "org" {
					return configError(path, "orgs: %s: %q is not a flag of any ccbulk command", id, k)
				}
				values[k] = v
			}
		}
	}
	// A value is read as its flag's type; YAML's own types (500 for a
	// flag that also takes 5%) are written as text for text flags.
	for _, f := range flags {
		name := f.Names()[0]
		v, ok := values[name]
		if !ok {
			continue
		}
		switch f.(type) {
		case *altsrc.StringFlag, *altsrc.DurationFlag:
			values[name] = fmt.Sprint(v)
		}
	}
	if err := altsrc.ApplyInputSourceValues(c, altsrc.NewMapInputSource(path, values), flags); err != nil {
		return configError(path, "%v", err)
	}
	return nil
}

// allFlagNames returns the name of every flag of every command.
func allFlagNames(app *cli.App) map[string]bool {
	names := map[string]bool{}
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				names[f.Names()[0]] = true
			}
			walk(c.Subcommands)
		}
	}
	for _, f := range app.Flags {
		names[f.Names()[0]] = true
	}
	walk(app.Commands)
	delete(names, "config")
	return names
}
