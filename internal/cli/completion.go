package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// noDBCommands are the commands that never open the database, so take no
// --db of their own.
var noDBCommands = []string{"template", "version", "completion", "man"}

func init() {
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "%s %s\n", c.App.Name, c.App.Version)
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of this build (as --version does)",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("version takes no arguments")
			}
			cli.VersionPrinter(c)
			return nil
		},
	}
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: save it as /etc/bash_completion.d/ccbulk (or source it from ~/.bashrc);\n" +
			"zsh: save it as _ccbulk in a directory of $fpath (or source it from ~/.zshrc);\n" +
			"fish: save it as ~/.config/fish/completions/ccbulk.fish.",
		Action: func(c *cli.Context) error {
			shell, err := oneArg(c, "shell (bash, zsh or fish)")
			if err != nil {
				return err
			}
			switch shell {
			case "bash":
				_, err = fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				_, err = fmt.Fprint(c.App.Writer, zshCompletion)
			case "fish":
				var script string
				script, err = c.App.ToFishCompletion()
				if err == nil {
					_, err = fmt.Fprint(c.App.Writer, script)
				}
			default:
				return usagef("completion: no completion for %q; the shells are bash, zsh and fish", shell)
			}
			return err
		},
	}
}

// manCommand prints the manual page (make man writes it to bin/ccbulk.1).
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the manual page (roff)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("man takes no arguments")
			}
			page, err := manPage(c.App)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(c.App.Writer, page)
			return err
		},
	}
}

// manPage is ccbulk(1) in roff, from the commands' help.
func manPage(app *cli.App) (string, error) {
	page, err := app.ToManWithSection(1)
	if err != nil {
		return "", fmt.Errorf("writing the manual page: %w", err)
	}
	return page, nil
}

// bashCompletion asks ccbulk itself for the candidates
// (--generate-bash-completion), as urfave/cli's bash_autocomplete does.
var bashCompletion = strings.TrimLeft(`
# bash completion for ccbulk: ccbulk completion bash > /etc/bash_completion.d/ccbulk

_ccbulk_init_completion() {
  COMPREPLY=()
  _get_comp_words_by_ref "$@" cur prev words cword
}

_ccbulk() {
  local cur opts words cword requestComp
  COMPREPLY=()
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion -n "=:" || return
  else
    _ccbulk_init_completion -n "=:" || return
  fi
  words=("${words[@]:0:$cword}")
  if [[ "$cur" == "-"* ]]; then
    requestComp="${words[*]} ${cur} --generate-bash-completion"
  else
    requestComp="${words[*]} --generate-bash-completion"
  fi
  opts=$(eval "${requestComp}" 2>/dev/null)
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}

complete -o bashdefault -o default -o nospace -F _ccbulk ccbulk
`, "\n")

// zshCompletion works both from a file _ccbulk in $fpath and sourced.
var zshCompletion = strings.TrimLeft(`
#compdef ccbulk
# zsh completion for ccbulk: ccbulk completion zsh > "${fpath[1]}/_ccbulk"

_ccbulk() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}

if [[ "${funcstack[1]}" == "_ccbulk" ]]; then
  _ccbulk "$@"
else
  compdef _ccbulk ccbulk
fi
`, "\n")
