package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// description is the root help's DESCRIPTION, and the man page's: what
// schedulers and scripts rely on.
const description = `Every flag can also be set with an environment variable: --org with
CCBULK_ORG, --actor with CCBULK_ACTOR, and so on; --db also reads
DATABASE_URL, and without either the libpq PG* variables work as they do
for psql.

Exit codes:

- 0: done, no row rejected
- 1: a file-level or fatal error; nothing applied
- 2: wrong usage (an unknown command or flag included); nothing applied
- 3: done, some rows rejected
- 4: refused, nothing changed: another run holds the tenant's lock, a
  limit (--max-deactivate, --max-rejected) would be crossed, an undo would
  overwrite later changes, or a plan no longer matches the database

Example:

    ccbulk import users.csv --org acme --actor admin@acme.example --dry-run

Run 'ccbulk COMMAND --help' for a command's options and an example.`

// appHelpTemplate is urfave/cli's help for ccbulk without its VERSION
// section: ccbulk --version tells the version, and the help stays the same
// from build to build.
var appHelpTemplate = strings.Replace(cli.AppHelpTemplate,
	"{{if .Version}}{{if not .HideVersion}}\n\nVERSION:\n   {{.Version}}{{end}}{{end}}", "", 1)

// commandHelp is each command's synopsis (as docs/REFERENCE.md §5, Running it, writes it) and an
// example, keyed by the command's path below ccbulk. prepareCommands puts
// them into the help; TestEveryCommandHasAnExample checks that no command
// lacks one. Entries for commands of docs/REFERENCE.md §5, Running it, that are still being built are
// here already, so that they get their help when they arrive.
var commandHelp = map[string]struct{ synopsis, example string }{
	"migrate": {"ccbulk migrate", "ccbulk migrate --db postgres://ccbulk@db.example/ccbulk"},
	"org":     {"", "ccbulk org create acme --name Acme --primary-admin root@acme.example"},
	"org create": {"ccbulk org create ID --name N --primary-admin EMAIL [--pbx NAME]... [--premium-seats N] [--standard-seats N]",
		"ccbulk org create acme --name Acme --primary-admin root@acme.example --pbx main --pbx branch --premium-seats 50"},
	"org update": {"ccbulk org update ID [--name N] [--premium-seats N|unlimited] [--standard-seats N|unlimited] [--add-pbx NAME]...",
		"ccbulk org update acme --premium-seats 80 --add-pbx branch"},
	"org primary":  {"ccbulk org primary ID --to EMAIL", "ccbulk org primary acme --to ops@acme.example"},
	"org list":     {"ccbulk org list [--json]", "ccbulk org list --json"},
	"org show":     {"ccbulk org show ID [--json]", "ccbulk org show acme"},
	"org external": {"ccbulk org external ID --name N --kind partner|other [--cc-enabled]", "ccbulk org external helpdesk --name 'Helpdesk Ltd' --kind partner"},
	"role":         {"", "ccbulk role create --org acme Supervisors --permissions view,write"},
	"role create": {"ccbulk role create --org ID NAME --permissions view,write,create,modify",
		"ccbulk role create --org acme Supervisors --permissions view,write"},
	"role update": {"ccbulk role update --org ID NAME --permissions view,write,create,modify",
		"ccbulk role update --org acme Supervisors --permissions view,write,modify"},
	"role delete": {"ccbulk role delete --org ID NAME", "ccbulk role delete --org acme Supervisors"},
	"role list":   {"ccbulk role list --org ID [--json]", "ccbulk role list --org acme"},
	"import": {"ccbulk import FILE --org ID --actor EMAIL [--dry-run [--plan-out PLAN]] [--atomic] [--max-rejected N|P%]\n" +
		"              [--sync [--max-deactivate N|P%]] [--no-activation-emails]\n" +
		"              [--report PATH] [--report-format csv|xlsx|jsonl] [--json] [--encoding E] [--sheet S] [--mapping M]",
		"ccbulk import users.xlsx --org acme --actor admin@acme.example --dry-run\n" +
			"ccbulk import users.xlsx --org acme --actor admin@acme.example\n" +
			"ccbulk import nightly.csv --org acme --actor admin@acme.example --sync --max-deactivate 5% --json"},
	"apply": {"ccbulk apply PLAN --actor EMAIL [--json] [--lock-wait D] [--metrics-file F]",
		"ccbulk import users.xlsx --org acme --actor admin@acme.example --dry-run --plan-out users.plan\n" +
			"ccbulk apply users.plan --actor lead@acme.example"},
	"export": {"ccbulk export --org ID --actor EMAIL [-o FILE] [--format csv|xlsx] [--delimiter ,|;|tab]\n              [--pbx NAME]... [--status active|inactive] [--admins] [--role NAME]",
		"ccbulk export --org acme --actor admin@acme.example -o users.xlsx"},
	"template": {"ccbulk template [-o FILE] [--format csv|xlsx]", "ccbulk template -o users.xlsx"},
	"batches":  {"ccbulk batches --org ID [--json] [--limit N]", "ccbulk batches --org acme"},
	"batches show": {"ccbulk batches show BATCH_ID --org ID [--format table|csv|json]",
		"ccbulk batches show 42 --org acme --format csv"},
	"undo":  {"ccbulk undo BATCH_ID --actor EMAIL [--dry-run] [--json]", "ccbulk undo 42 --actor admin@acme.example --dry-run"},
	"token": {"", "ccbulk token create --org acme --actor admin@acme.example --name nightly --expires 90d"},
	"token create": {"ccbulk token create --org ID --actor EMAIL [--expires D] [--name TEXT]",
		"ccbulk token create --org acme --actor admin@acme.example --name nightly --expires 90d"},
	"token list":   {"ccbulk token list --org ID [--json]", "ccbulk token list --org acme"},
	"token revoke": {"ccbulk token revoke ID", "ccbulk token revoke 3"},
	"serve link": {"ccbulk serve link --org ID --actor EMAIL [--ttl 15m] [--base-url URL]",
		"ccbulk serve link --org acme --actor admin@acme.example --base-url https://ccbulk.acme.example"},
	"serve": {"ccbulk serve [--listen ADDR] [--base-url URL] [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file F] [--max-upload SIZE]",
		"ccbulk serve --listen 127.0.0.1:8080 --base-url https://ccbulk.example"},
	"mapping":      {"", "ccbulk mapping show webex > webex.yaml"},
	"mapping show": {"ccbulk mapping show NAME", "ccbulk mapping show webex > webex.yaml"},
	"mapping list": {"ccbulk mapping list", "ccbulk mapping list"},
	"version":      {"ccbulk version", "ccbulk version"},
	"completion": {"ccbulk completion bash|zsh|fish",
		"ccbulk completion bash > /etc/bash_completion.d/ccbulk\n" +
			"ccbulk completion zsh > \"${fpath[1]}/_ccbulk\"\n" +
			"ccbulk completion fish > ~/.config/fish/completions/ccbulk.fish"},
	"man": {"ccbulk man", "ccbulk man > ccbulk.1"},
}

// applyHelp gives a command its synopsis and example from commandHelp.
func applyHelp(c *cli.Command, path string) {
	h, ok := commandHelp[path]
	if !ok {
		return
	}
	if h.synopsis != "" && c.UsageText == "" {
		c.UsageText = h.synopsis
	}
	if h.example != "" && !strings.Contains(c.Description, "Example") {
		ex := "Example:\n\n    " + strings.ReplaceAll(h.example, "\n", "\n    ")
		if c.Description != "" {
			c.Description += "\n\n" + ex
		} else {
			c.Description = ex
		}
	}
}

// tidyFlags prints each flag's default once: a "(default: …)" written in
// a flag's usage becomes its DefaultText (which the help prints once), and
// a switch that is off unless given shows no "(default: false)".
func tidyFlags(flags []cli.Flag) {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.BoolFlag:
			f.DisableDefaultText = !f.Value
		case *cli.StringFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.StringSliceFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.IntFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.Int64Flag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.UintFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.Float64Flag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.DurationFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		case *cli.GenericFlag:
			f.Usage, f.DefaultText = splitDefault(f.Usage, f.DefaultText)
		}
	}
}

// splitDefault takes a trailing "(default: X)" out of usage. X becomes the
// default text unless one is set already.
func splitDefault(usage, defaultText string) (string, string) {
	i := strings.LastIndex(usage, " (default: ")
	if i < 0 || !strings.HasSuffix(usage, ")") {
		return usage, defaultText
	}
	if defaultText == "" {
		defaultText = usage[i+len(" (default: ") : len(usage)-1]
	}
	return usage[:i], defaultText
}

// groupAction runs for ccbulk and for a command that only groups others
// (org, role, …) when no command of theirs is named: with nothing more it
// prints the help; with an unknown name it is wrong usage (exit 2),
// suggesting the nearest command.
func groupAction(c *cli.Context) error {
	if !c.Args().Present() {
		if c.Command.HelpName == c.App.HelpName {
			return cli.ShowAppHelp(c)
		}
		return cli.ShowSubcommandHelp(c)
	}
	name := c.Args().First()
	var names []string
	for _, cmd := range c.Command.Subcommands {
		if !cmd.Hidden {
			names = append(names, cmd.Names()...)
		}
	}
	path := strings.TrimPrefix(strings.TrimPrefix(c.Command.HelpName, c.App.HelpName), " ")
	if path != "" {
		path += " "
	}
	msg := fmt.Sprintf("no command %q", path+name)
	if name == "help" || name == "h" {
		msg += `; did you mean "--help"?`
	} else if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", path+s)
	}
	return usagef("%s", msg)
}

// flagError is a flag the parser refused, as wrong usage, with the
// nearest flag the command has when one is near.
func flagError(err error, flags []cli.Flag) error {
	const undefined = "flag provided but not defined: -"
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, undefined); ok {
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		if s := suggest(strings.TrimLeft(name, "-"), names); s != "" {
			dashes := "--"
			if len(s) == 1 {
				dashes = "-"
			}
			msg += fmt.Sprintf("; did you mean %q?", dashes+s)
		}
	}
	return &usageError{msg: msg}
}

// suggest returns the name among names nearest to typed, or "" when none
// is near enough to be what was meant: a name typed begins, or one at most
// a third of its letters away (each letter left out, added, changed or
// swapped with its neighbour counting one).
func suggest(typed string, names []string) string {
	best, bestDist := "", 0
	for _, n := range names {
		d := editDistance(typed, n)
		if len(typed) >= 2 && strings.HasPrefix(n, typed) {
			d = min(d, 1)
		}
		if d > max(1, len(n)/3) {
			continue
		}
		if best == "" || d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// usageHint names the help of the command that args run (which exists:
// an unknown name ends the path before it).
func usageHint(app *cli.App, args []string) string {
	path := []string{"ccbulk"}
	cmds, flags := app.Commands, app.Flags
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			i += flagArity(flags, a)
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil || cmd.Hidden {
			break
		}
		path = append(path, cmd.Name)
		cmds, flags = cmd.Subcommands, cmd.Flags
	}
	return fmt.Sprintf("Run '%s --help' for usage.", strings.Join(path, " "))
}

// completing reports whether args ask for shell completion candidates
// (the hidden --generate-bash-completion last), which reorderArgs would
// hide from the library.
func completing(args []string) bool {
	return len(args) > 0 && args[len(args)-1] == "--generate-bash-completion"
}
