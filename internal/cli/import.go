package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/outfile"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/mapping"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "validate a sheet of users and apply the valid rows in one transaction",
		ArgsUsage: "FILE (or - for standard input, CSV or XLSX)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.StringFlag{Name: "actor", Usage: "email of the administrator running the import"},
			&cli.BoolFlag{Name: "dry-run", Usage: "write nothing; show the plan and write the report"},
			&cli.StringFlag{Name: "plan-out", Usage: "with --dry-run: also save the plan to this file, to apply exactly with 'ccbulk apply'"},
			&cli.BoolFlag{Name: "atomic", Usage: "apply nothing if any row is rejected"},
			&cli.BoolFlag{Name: "sync", Usage: "set Inactive the members the sheet does not list"},
			&cli.StringFlag{Name: "max-rejected", Usage: "apply nothing (exit 4) if more rows than this are rejected: N, or P% of the rows read"},
			&cli.BoolFlag{Name: "no-activation-emails", Usage: "queue no activation email, whatever the sheet's Send Activation Email says"},
			&cli.StringFlag{Name: "max-deactivate", Usage: "with --sync: the most users to deactivate, N or P% of active members", DefaultText: "500"},
			&cli.StringFlag{Name: "report", Usage: "where to write the report (default: next to FILE, NAME.report.csv or .xlsx)"},
			&cli.StringFlag{Name: "report-format", Usage: "csv, xlsx or jsonl"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON summary on standard output"},
			metricsFileFlag(),
			&cli.StringFlag{Name: "encoding", Usage: "encoding of a CSV that is not UTF-8: " + sheet.EncodingNames()},
			&cli.StringFlag{Name: "sheet", Usage: "XLSX worksheet to read (default: the first)"},
			&cli.StringFlag{Name: "mapping", Usage: "mapping profile for another system's export"},
			&cli.DurationFlag{Name: "lock-wait", Usage: "wait this long for another run on the organization to finish (default: refuse at once)"},
			&cli.IntFlag{Name: "max-rows", Usage: "refuse a file with more data rows (F-LIMIT)", Value: sheet.DefaultLimits.MaxRows},
			&cli.IntFlag{Name: "max-columns", Usage: "refuse a header row with more cells (F-LIMIT)", Value: sheet.DefaultLimits.MaxColumns},
			&cli.StringFlag{Name: "max-unzip-size", Usage: "refuse an XLSX that decompresses to more (F-LIMIT), e.g. 8GiB", DefaultText: "4GiB"},
			&cli.StringFlag{Name: "max-xml-size", Usage: "refuse an XLSX part held in memory (styles, workbook…) that is larger (F-LIMIT)", DefaultText: "16MiB"},
		},
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	file, err := oneArg(c, "FILE")
	if err != nil {
		return err
	}
	if err := need(c, "org", "actor"); err != nil {
		return err
	}
	opts := importer.Options{
		File: file, Stdin: c.App.Reader, Org: c.String("org"), Actor: c.String("actor"),
		DryRun: c.Bool("dry-run"), Atomic: c.Bool("atomic"), Sync: c.Bool("sync"),
		Report: c.String("report"), Encoding: c.String("encoding"), Sheet: c.String("sheet"),
		LockWait: c.Duration("lock-wait"), Origin: schema.Origin{Kind: "cli"}, Words: cliWords,
	}
	if opts.Limits, err = limitsFlags(c); err != nil {
		return err
	}
	// The options are checked by the importer (Options.Validate) and
	// worded here with their flags, in the order of docs/REFERENCE.md's
	// messages: --max-deactivate without --sync first, then a threshold
	// that cannot be read, then the rest.
	var parseErr error
	if c.IsSet("max-deactivate") {
		if opts.MaxDeactivate, parseErr = importer.ParseThreshold(importer.OptMaxDeactivate, c.String("max-deactivate")); parseErr != nil {
			opts.MaxDeactivate = &importer.Threshold{} // set: Validate says whether it needs --sync
		}
	}
	if c.IsSet("max-rejected") {
		var err error
		if opts.MaxRejected, err = importer.ParseThreshold(importer.OptMaxRejected, c.String("max-rejected")); parseErr == nil {
			parseErr = err
		}
	}
	opts.NoActivationEmails = c.Bool("no-activation-emails")
	planPath := c.String("plan-out")
	if c.IsSet("plan-out") {
		opts.PlanOut = io.Discard // the plan's file once the arguments are right
	}
	opts.ReportFormat = c.String("report-format")
	verr := opts.Validate()
	var oe *importer.OptionError
	needs := func(o importer.Option) bool {
		return errors.As(verr, &oe) && oe.Option == o && oe.Problem == importer.NeedsOption
	}
	switch {
	case needs(importer.OptMaxDeactivate):
		return optionUsage(verr)
	case parseErr != nil:
		return optionUsage(parseErr)
	case needs(importer.OptPlanOut):
		return optionUsage(verr)
	case c.IsSet("plan-out") && strings.TrimSpace(planPath) == "":
		return usagef("--plan-out names the file to save the plan to")
	case verr != nil:
		return optionUsage(verr)
	}
	if c.IsSet("mapping") {
		prof, err := mapping.Load(c.String("mapping"))
		if err != nil {
			return mappingErr(err)
		}
		opts.Mapping = prof
		if opts.Encoding == "" {
			opts.Encoding = prof.Encoding
		}
	}
	// What the input holds decides its format, not its name. Standard
	// input is looked at only when it is read: the importer refuses
	// --sheet there if it turns out to be CSV.
	inputFormat, detectErr := sheet.DetectFile(file)
	if c.IsSet("sheet") && file != "-" && detectErr == nil && inputFormat != sheet.XLSX {
		return usagef("--sheet applies to XLSX files; %s is read as CSV, which has one sheet", file)
	}
	jsonOut := c.Bool("json")
	out := c.App.Writer
	if opts.DryRun && !jsonOut {
		opts.Plan = func(p importer.PlanItem) { printPlanItem(out, p) }
		if opts.Mapping == nil {
			fmt.Fprintln(out, "Plan (dry run, nothing is written):")
		} else {
			// The columns section comes first: it is known once the
			// header row is read.
			opts.Header = func(l *sheet.Layout) {
				printColumnUses(out, opts.Mapping.Name, l.Uses)
				fmt.Fprintln(out, "Plan (dry run, nothing is written):")
			}
		}
	}
	// The arguments are right: from here on, --json prints its object
	// whatever happens (docs/REFERENCE.md §5, Running it).
	started := time.Now()
	res := importer.Result{File: file, Org: opts.Org, DryRun: opts.DryRun}
	metricsFile := c.String("metrics-file")
	if opts.Log, err = newLogger(c, c.App.ErrWriter); err != nil {
		return err
	}
	err = func() error {
		if err := checkMetricsFile(metricsFile); err != nil {
			return err
		}
		var bar *progress
		if isTerminal(c.App.ErrWriter) {
			bar = newProgress(c.App.ErrWriter)
			opts.Progress = bar.update
			if plan := opts.Plan; plan != nil {
				opts.Plan = func(p importer.PlanItem) { bar.above(func() { plan(p) }) }
			}
		}
		db, err := openDB(c)
		if err != nil {
			return err
		}
		defer db.Close()
		if file == "-" || inputFormat == sheet.XLSX {
			limitMemory(limitXLSX)
		} else {
			limitMemory(importLimitCSV)
		}
		var plan *outfile.File
		if planPath != "" {
			if plan, err = outfile.Create(planPath); err != nil {
				return fmt.Errorf("--plan-out %s: cannot write the plan there (%s); nothing was read: choose a writable place", planPath, outfile.Cause(err))
			}
			defer plan.Abort()
			opts.PlanOut = plan
		}
		res, err = importer.Import(c.Context, pgimporter.New(db), opts)
		bar.done()
		if plan != nil && err == nil && res.PlanSHA256 != "" {
			if err = plan.Commit(); err != nil {
				res.PlanSHA256 = ""
				err = fmt.Errorf("--plan-out %s: cannot write the plan (%s)", planPath, outfile.Cause(err))
			}
		}
		// Once the batch is committed, a later error is a warning (exit 0 or 3).
		return afterCommit(res.Applied && !res.DryRun, res.BatchID, res.Rejected, err)
	}()
	var notes []string
	switch {
	case res.PlanSHA256 != "":
		notes = append(notes, fmt.Sprintf("plan saved to %s (sha256 %s); apply it with 'ccbulk apply %s --actor EMAIL'", termText(planPath), res.PlanSHA256, termText(planPath)))
	case planPath != "" && err == nil && opts.Atomic && res.Rejected > 0:
		notes = append(notes, fmt.Sprintf("no plan saved to %s: with --atomic and rows rejected, it would apply nothing", termText(planPath)))
	}
	return endRun(c, "import", opts.Org, started, res, err, notes...)
}

// endRun prints the outcome of an import or an apply (the --json object,
// or the summary for a person), writes --metrics-file, and returns the
// error that gives the exit code.
func endRun(c *cli.Context, command, org string, started time.Time, res importer.Result, err error, notes ...string) error {
	finished := time.Now()
	out := c.App.Writer
	switch {
	case c.Bool("json"):
		printFindings(c.App.ErrWriter, res)
		printStaleReport(c.App.ErrWriter, res)
		for _, n := range notes {
			fmt.Fprintln(c.App.ErrWriter, n)
		}
		printJSON(out, res, jsonRun{started: started, finished: finished, err: err})
	case err == nil || res.Applied:
		printSummary(out, res)
		for _, n := range notes {
			fmt.Fprintln(out, n)
		}
	}
	if metricsFile := c.String("metrics-file"); metricsFile != "" {
		code := ExitOK
		switch {
		case err != nil:
			code = exitCode(err)
		case res.Rejected > 0:
			code = ExitRejected
		}
		m := runMetrics{command: command, org: org, started: started, finished: finished, exit: code, res: res}
		if merr := writeMetrics(metricsFile, m); merr != nil {
			// The run's outcome stands; the metrics are said to be missing.
			fmt.Fprintf(c.App.ErrWriter, "ccbulk: warning: %v\n", merr)
		}
	}
	if err != nil {
		return err // applied, then an error: printed as a warning
	}
	if res.Rejected > 0 {
		return &exitError{code: ExitRejected}
	}
	return nil
}

// limitsFlags reads --max-rows, --max-columns, --max-unzip-size and
// --max-xml-size.
func limitsFlags(c *cli.Context) (sheet.Limits, error) {
	l := sheet.DefaultLimits
	for _, f := range []struct {
		name string
		dst  *int
	}{{"max-rows", &l.MaxRows}, {"max-columns", &l.MaxColumns}} {
		if n := c.Int(f.name); c.IsSet(f.name) && n <= 0 {
			return l, usagef("--%s must be 1 or more, not %d", f.name, n)
		} else if c.IsSet(f.name) {
			*f.dst = n
		}
	}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"max-unzip-size", &l.MaxUnzipSize}, {"max-xml-size", &l.MaxXMLSize}} {
		if !c.IsSet(f.name) {
			continue
		}
		n, err := sheet.ParseSize(c.String(f.name))
		if err != nil {
			return l, usagef("--%s: %v", f.name, err)
		}
		*f.dst = n
	}
	if l.MaxXMLSize > l.MaxUnzipSize {
		l.MaxXMLSize = l.MaxUnzipSize
	}
	return l, nil
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// optionUsage words an import option the importer refused
// (*importer.OptionError) with the command line's flags: wrong usage.
func optionUsage(err error) error {
	var oe *importer.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	flag := "--" + string(oe.Option)
	switch oe.Problem {
	case importer.NeedsOption:
		if oe.Option == importer.OptPlanOut {
			return usagef("--plan-out works with --dry-run only: a dry run makes the plan, 'ccbulk apply PLAN' applies it")
		}
		return usagef("%s works with --%s only", flag, oe.Needs)
	case importer.BadPercent:
		return usagef("%s %q: a percentage is over 0 and at most 100, like 5%%", flag, oe.Value)
	case importer.BadChoice:
		return usagef("%s must be %s, not %q", flag, orList(oe.Choices), oe.Value)
	}
	example := "500"
	if oe.Option == importer.OptMaxRejected {
		example = "100"
	}
	return usagef("%s %q: write a count like %s or a percentage like 5%%", flag, oe.Value, example)
}

// jsonError is the error that ended a run: its file-level rule, if it has
// one, and the message printed on standard error.
type jsonError = outcome.Error

// failedJSON prints, when asJSON and err is an error met past the
// arguments (not wrong usage), the JSON object {"error": …} that a script
// reading the command's JSON gets instead of its list or object, and
// returns err. Import and undo print their whole object instead.
func failedJSON(w io.Writer, asJSON bool, err error) error {
	var ue *usageError
	if !asJSON || err == nil || errors.As(err, &ue) {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Error *jsonError `json:"error"`
	}{errorJSON(cliWords(err))})
	return err
}

// jsonRun is what the --json object says of the run besides its result.
type jsonRun struct {
	started, finished time.Time
	err               error
}

// errorJSON describes the error that ended a run, nil for none.
func errorJSON(err error) *jsonError { return outcome.ErrorOf(err) }

// printJSON prints the --json object of docs/REFERENCE.md §5 (outcome.ImportOf, which
// the HTTP API answers too).
func printJSON(w io.Writer, r importer.Result, run jsonRun) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(outcome.ImportOf(r, outcome.Run{Started: run.started, Finished: run.finished, Err: cliWords(run.err)}))
}

// printFindings prints a run's findings as compiler-style lines (on
// standard error, with --json): the file-level warnings, then the row
// findings kept for display; the report holds them all.
func printFindings(w io.Writer, r importer.Result) {
	name := displayName(r.File)
	for _, col := range r.IgnoredColumns {
		fmt.Fprintf(w, "%s:1: %s: W-UNKNOWN-COLUMN: matches no column of the template; it was ignored\n", name, termText(col))
	}
	for _, a := range r.AliasedColumns {
		fmt.Fprintf(w, "%s:1: %s: W-HEADER-ALIAS: %s\n", name, termText(a.Header), termText(a.Message()))
	}
	for _, letter := range r.UnnamedColumns {
		fmt.Fprintf(w, "%s:1: column %s: W-UNKNOWN-COLUMN: holds values but its header cell (%s1) is blank; they were ignored: write the column's name in %s1 to import them\n",
			name, letter, letter, letter)
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, termText(f.Format(name)))
	}
	if r.MoreFindings > 0 {
		fmt.Fprintf(w, "… and %d more findings in the report\n", r.MoreFindings)
	}
}

// displayName is how messages name the input: <stdin> for standard input.
func displayName(file string) string {
	if file == "-" {
		return "<stdin>"
	}
	return termText(file)
}

// printSummary prints what an import did for a person. Text that comes
// from the sheet (or names the file) goes through termText.
func printSummary(w io.Writer, r importer.Result) {
	name := displayName(r.File)
	fmt.Fprintf(w, "%s: %d rows: %d created, %d updated, %d unchanged, %d rejected", name, r.Rows, r.Created, r.Updated, r.Unchanged, r.Rejected)
	if r.Deactivated > 0 {
		fmt.Fprintf(w, ", %d deactivated", r.Deactivated)
	}
	if r.Warnings > 0 {
		fmt.Fprintf(w, "; %d with warnings", r.Warnings)
	}
	fmt.Fprintln(w)
	printFindings(w, r)
	switch {
	case r.Activations == 0:
	case r.DryRun:
		fmt.Fprintf(w, "%s would be queued\n", count(r.Activations, "activation email"))
	case r.Applied:
		fmt.Fprintf(w, "%s queued\n", count(r.Activations, "activation email"))
	}
	switch {
	case r.DryRun:
		fmt.Fprintln(w, "dry run: nothing was written")
	case r.Applied:
		fmt.Fprintf(w, "applied as batch %d\n", r.BatchID)
	case r.BatchID != 0:
		fmt.Fprintf(w, "nothing applied (--atomic and %d rows rejected); batch %d recorded as aborted\n", r.Rejected, r.BatchID)
	}
	if r.Report != "" {
		fmt.Fprintf(w, "report: %s (fix the rows it lists and import it again as it is)\n", termText(r.Report))
	}
	printStaleReport(w, r)
}

// printStaleReport says that a clean run removed the report an earlier run
// had left beside the input.
func printStaleReport(w io.Writer, r importer.Result) {
	if r.StaleReportRemoved != "" {
		fmt.Fprintf(w, "removed the stale report %s\n", termText(r.StaleReportRemoved))
	}
}

// printPlanItem prints one line of a dry run's plan in the sheet's words:
// its column names and values as the sheet writes them (TRUE/FALSE,
// Active/Inactive, an admin role as its TRUE/FALSE columns). A created
// user lists the columns it fills, each value quoted; a change quotes
// values that are empty or hold spaces, separators or characters that do
// not print. The line goes through termText.
func printPlanItem(w io.Writer, p importer.PlanItem) {
	where := "sync"
	if p.Row > 0 {
		where = "row " + strconv.Itoa(p.Row)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s: %s %s", where, p.Action, p.Email)
	for i, ch := range p.Columns() {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		if p.Action == "create" {
			fmt.Fprintf(&b, "%s%s %s", sep, ch.Column, strconv.Quote(ch.New))
		} else {
			fmt.Fprintf(&b, "%s%s: %s → %s", sep, ch.Column, quoteIfNeeded(ch.Old), quoteIfNeeded(ch.New))
		}
	}
	if p.SendActivation {
		b.WriteString(" (+ activation email)")
	}
	fmt.Fprintln(w, termText(b.String()))
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " ,:\"=>→\n\r\t") || strings.IndexFunc(s, needsEscape) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// printColumnUses shows, for a dry run under a mapping, where each source
// column went and which were ignored.
func printColumnUses(w io.Writer, profile string, uses []sheet.ColumnUse) {
	fmt.Fprintf(w, "Columns (mapping %s):\n", termText(profile))
	for _, u := range uses {
		u.Header = termText(u.Header)
		targets := make([]string, len(u.Targets))
		for i, t := range u.Targets {
			targets[i] = t.Header()
		}
		switch {
		case u.Header == "":
			fmt.Fprintf(w, "  constant %s -> %s\n", strconv.Quote(u.Constant), strings.Join(targets, ", "))
		case u.Ignored:
			fmt.Fprintf(w, "  %s: ignored by the mapping\n", u.Header)
		case u.Unknown:
			fmt.Fprintf(w, "  %s: ignored, matches no column (W-UNKNOWN-COLUMN)\n", u.Header)
		case u.Values:
			fmt.Fprintf(w, "  %s -> %s (through the mapping's values)\n", u.Header, strings.Join(targets, ", "))
		case u.Alias:
			fmt.Fprintf(w, "  %s -> %s (its French or Polish name, W-HEADER-ALIAS)\n", u.Header, strings.Join(targets, ", "))
		default:
			fmt.Fprintf(w, "  %s -> %s\n", u.Header, strings.Join(targets, ", "))
		}
	}
}

// count says n things: "1 activation email", "3 activation emails".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
