// Package cli is ccbulk's command line (urfave/cli/v2): the commands and
// flags of docs/REFERENCE.md §5, Running it, the one place that maps errors to exit codes, and the
// rendering of results for people (summary, plan, progress) and for scripts
// (--json).
package cli
