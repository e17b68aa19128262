package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gocarina/gocsv"
	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// DefaultBatchLimit is how many of the most recent batches 'ccbulk batches'
// lists without --limit.
const DefaultBatchLimit = 50

// tableTime is how tables show a time: in UTC, saying so.
const tableTime = "2006-01-02 15:04 MST"

func batchesCommand() *cli.Command {
	return &cli.Command{
		Name:      "batches",
		Usage:     "list a tenant's import and undo batches, or show every field one changed",
		ArgsUsage: "[show BATCH_ID]",
		Description: "Without arguments: the tenant's batches, newest first (the " + strconv.Itoa(DefaultBatchLimit) + " most recent unless --limit says\n" +
			"otherwise; --limit 0 lists all). Times are in UTC.\n\n" +
			"'batches show BATCH_ID --org ID' lists every field the batch changed (user, column, old value,\n" +
			"new value), with values as the sheet writes them, and the activation emails it queued (sent or\n" +
			"still queued), as an aligned table, CSV (--format csv: Email, Change, Column, Old Value, New\n" +
			"Value; an activation email is a row with Column 'Send Activation Email') or JSON.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.BoolFlag{Name: "json", Usage: "print the list as JSON (show: --format json)"},
			&cli.IntFlag{Name: "limit", Value: DefaultBatchLimit, Usage: "list the N most recent batches (0: all)"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "show: table, csv or json"},
		},
		Action: runBatches,
	}
}

// runBatches lists the batches, or with "show BATCH_ID" shows one. The
// list ignores --format and show ignores --json and --limit, so that
// CCBULK_ variables or a configuration file set for one do not break the
// other.
func runBatches(c *cli.Context) error {
	args := c.Args().Slice()
	switch {
	case len(args) == 0:
		return failedJSON(c.App.Writer, c.Bool("json"), listBatches(c))
	case args[0] == "show":
		if len(args) != 2 {
			return usagef("batches show takes one BATCH_ID (got %d arguments)", len(args)-1)
		}
		return failedJSON(c.App.Writer, c.String("format") == "json", showBatch(c, args[1]))
	}
	return usagef("batches takes no arguments, or 'show BATCH_ID' (got %q)", strings.Join(args, " "))
}

// openOrg opens the database, checks the schema and the tenant (named in
// any letter case), and returns the application layer on it and the
// tenant's stored id; the caller closes the database.
func openOrg(c *cli.Context) (*store.DB, *app.Admin, string, error) {
	if err := need(c, "org"); err != nil {
		return nil, nil, "", err
	}
	db, err := openDB(c)
	if err != nil {
		return nil, nil, "", err
	}
	if err := db.SchemaCheck(c.Context); err != nil {
		db.Close()
		return nil, nil, "", err
	}
	a := &app.Admin{Store: db.Admin()}
	org, err := a.OrgGet(c.Context, c.String("org"))
	if err != nil {
		db.Close()
		if errors.Is(err, app.ErrNotFound) {
			return nil, nil, "", &schema.FileError{Rule: schema.FOrg, Message: fmt.Sprintf("no organization %q", c.String("org"))}
		}
		return nil, nil, "", err
	}
	return db, a, org.ID, nil
}

func listBatches(c *cli.Context) error {
	limit := c.Int("limit")
	if limit < 0 {
		return usagef("batches: --limit is a number of batches, 0 for all (got %d)", limit)
	}
	db, a, org, err := openOrg(c)
	if err != nil {
		return err
	}
	defer db.Close()
	bs, err := a.Batches(c.Context, org, limit+min(limit, 1))
	if err != nil {
		return err
	}
	more := limit > 0 && len(bs) > limit
	if more {
		bs = bs[:limit]
	}
	if c.Bool("json") {
		out := make([]jsonBatch, len(bs))
		for i, b := range bs {
			out[i] = batchJSON(b)
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(bs) == 0 {
		fmt.Fprintf(c.App.Writer, "%s has no batches yet\n", org)
		return nil
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tKIND\tSTATUS\tSTARTED\tACTOR\tDB USER@HOST\tFILE\tROWS\tCREATED\tUPDATED\tDEACTIVATED\tDELETED\tREJECTED\tERROR")
	for _, b := range bs {
		file := b.FileName
		if b.UndoOf.Valid {
			file = fmt.Sprintf("(undo of %d)", b.UndoOf.Int64)
		}
		status := b.Status
		if b.UndoneBy.Valid {
			status = fmt.Sprintf("%s, undone by %d", status, b.UndoneBy.Int64)
		}
		by := "-" // recorded before ccbulk kept it
		if b.DBUser.Valid {
			by = b.DBUser.String + "@" + b.ClientHost.String
		}
		// The first line of the error; --json gives it whole.
		errLine, _, more := strings.Cut(b.Error.String, "\n")
		if r := []rune(errLine); len(r) > 100 {
			errLine, more = string(r[:99]), true
		}
		if more {
			errLine += "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", b.ID, b.Kind, status,
			b.StartedAt.UTC().Format(tableTime), b.Actor, by, file, b.Rows, b.Created, b.Updated, b.Deactivated, b.Deleted, b.Rejected,
			errLine)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(c.App.Writer, strings.TrimRight(line, " \n"))
	}
	if more {
		fmt.Fprintf(c.App.Writer, "(the %d most recent batches; --limit 0 lists all)\n", limit)
	}
	return nil
}

// jsonBatch is a batch as --json prints it (outcome.Batch, which the HTTP
// API answers too).
type jsonBatch = outcome.Batch

func batchJSON(b schema.Batch) jsonBatch { return outcome.BatchOf(b) }

// parseBatchID reads a BATCH_ID argument.
func parseBatchID(cmd, arg string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%s: BATCH_ID is a batch number as 'ccbulk batches' lists it, not %q", cmd, arg)
	}
	return id, nil
}

// Activation email rows of 'batches show': their Change and Column.
const (
	activationChange = "activation email"
	activationQueued = "queued"
)

func showBatch(c *cli.Context, arg string) error {
	id, err := parseBatchID("batches show", arg)
	if err != nil {
		return err
	}
	format := c.String("format")
	switch format {
	case "table", "csv", "json":
	default:
		return usagef("batches show: --format is table, csv or json, not %q", format)
	}
	db, a, org, err := openOrg(c)
	if err != nil {
		return err
	}
	defer db.Close()
	b, err := a.Batch(c.Context, org, id)
	if errors.Is(err, app.ErrNotFound) {
		return fmt.Errorf("no batch %d in %s; 'ccbulk batches --org %s' lists its batches", id, org, org)
	}
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	var w changeWriter
	switch format {
	case "csv":
		w = newCSVChanges(out)
	case "json":
		w = &jsonChanges{w: out}
	default:
		w = &tableChanges{w: out}
	}
	if err := w.begin(b); err != nil {
		return err
	}
	err = a.BatchChanges(c.Context, org, id, func(uc schema.UserChange) error {
		for _, cc := range importer.Columns(uc) {
			if err := w.change(cc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.endChanges(); err != nil {
		return err
	}
	err = a.BatchActivations(c.Context, org, id, func(act schema.Activation) error {
		return w.activation(act)
	})
	if err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	return out.Flush()
}

// changeWriter writes 'batches show' as changes come, holding none of them.
type changeWriter interface {
	begin(schema.Batch) error
	change(importer.ColumnChange) error
	endChanges() error
	activation(schema.Activation) error
	end() error
}

// activationState says whether an activation email was sent, and when.
func activationState(a schema.Activation, layout string) string {
	if a.SentAt.Valid {
		return "sent " + a.SentAt.Time.UTC().Format(layout)
	}
	return activationQueued
}

// batchTitle is the line above a batch's table.
func batchTitle(b schema.Batch) string {
	var s strings.Builder
	fmt.Fprintf(&s, "batch %d of %s: %s, %s", b.ID, b.Tenant, b.Kind, b.Status)
	if b.UndoneBy.Valid {
		fmt.Fprintf(&s, " (undone by batch %d)", b.UndoneBy.Int64)
	}
	fmt.Fprintf(&s, ", by %s, started %s", b.Actor, b.StartedAt.UTC().Format(tableTime))
	if b.PlanActor.Valid {
		fmt.Fprintf(&s, ", plan by %s (sha256 %s)", b.PlanActor.String, b.PlanSHA256.String)
	}
	if b.UndoOf.Valid {
		fmt.Fprintf(&s, ", undo of batch %d", b.UndoOf.Int64)
	} else if b.FileName != "" {
		fmt.Fprintf(&s, ", file %s", b.FileName)
	}
	return s.String()
}

// tableChanges writes aligned columns. The column widths are those of each
// block of tableBlock rows: the table is written as it is read.
type tableChanges struct {
	w           io.Writer
	tw          *tabwriter.Writer
	rows, users int
	lastUser    string
	activations int
	sent        int
}

const tableBlock = 1000

// cellText shows a value in a table: "" for an empty one, quoted when it
// holds a control character (a line break), "-" where there is none.
func cellText(v string, none bool) string {
	switch {
	case none:
		return "-"
	case v == "":
		return `""`
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return strconv.Quote(v)
	}
	return v
}

func (t *tableChanges) begin(b schema.Batch) error {
	_, err := fmt.Fprintln(t.w, batchTitle(b))
	return err
}

func (t *tableChanges) flushBlock() error {
	if t.tw == nil {
		return nil
	}
	err := t.tw.Flush()
	t.tw = nil
	return err
}

func (t *tableChanges) change(cc importer.ColumnChange) error {
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 4, 2, ' ', tabwriter.DiscardEmptyColumns)
		if t.rows == 0 {
			fmt.Fprintln(t.tw, "USER\tCHANGE\tCOLUMN\tOLD\tNEW")
		}
	}
	if cc.Email != t.lastUser {
		t.users++
		t.lastUser = cc.Email
	}
	fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\n", cc.Email, cc.Change, cc.Column.Header(),
		cellText(cc.Old, cc.Change == importer.ChangeCreated), cellText(cc.New, cc.Change == importer.ChangeDeleted))
	t.rows++
	if t.rows%tableBlock == 0 {
		return t.flushBlock()
	}
	return nil
}

func (t *tableChanges) endChanges() error {
	if err := t.flushBlock(); err != nil {
		return err
	}
	if t.rows == 0 {
		_, err := fmt.Fprintln(t.w, "no fields changed")
		return err
	}
	_, err := fmt.Fprintf(t.w, "%d %s of %d %s\n", t.rows, plural(t.rows, "change", "changes"), t.users, plural(t.users, "user", "users"))
	return err
}

func (t *tableChanges) activation(a schema.Activation) error {
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 4, 2, ' ', 0)
		if t.activations == 0 {
			fmt.Fprintln(t.tw, "\nACTIVATION EMAIL\tSTATE")
		}
	}
	t.activations++
	if a.SentAt.Valid {
		t.sent++
	}
	fmt.Fprintf(t.tw, "%s\t%s\n", a.Email, activationState(a, tableTime))
	if t.activations%tableBlock == 0 {
		return t.flushBlock()
	}
	return nil
}

func (t *tableChanges) end() error {
	if err := t.flushBlock(); err != nil {
		return err
	}
	if t.activations == 0 {
		return nil
	}
	_, err := fmt.Fprintf(t.w, "%d activation %s on record: %d sent, %d queued\n", t.activations,
		plural(t.activations, "email", "emails"), t.sent, t.activations-t.sent)
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// csvChange is one row of 'batches show --format csv': a fixed shape.
type csvChange struct {
	Email  string `csv:"Email"`
	Change string `csv:"Change"`
	Column string `csv:"Column"`
	Old    string `csv:"Old Value"`
	New    string `csv:"New Value"`
}

// csvChanges writes the rows with gocsv, over an encoding/csv writer,
// csvBlock rows at a time; every cell is escaped as ccbulk's other CSV
// files are (sheet.EscapeFormula).
type csvChanges struct {
	w       *gocsv.SafeCSVWriter
	block   []csvChange
	written bool // the header is out
}

const csvBlock = 1000

func newCSVChanges(w io.Writer) *csvChanges {
	return &csvChanges{w: gocsv.NewSafeCSVWriter(csv.NewWriter(w)), block: make([]csvChange, 0, csvBlock)}
}

func (c *csvChanges) begin(schema.Batch) error { return nil }

func (c *csvChanges) add(r csvChange) error {
	for _, s := range []*string{&r.Email, &r.Change, &r.Column, &r.Old, &r.New} {
		*s = sheet.EscapeFormula(*s)
	}
	c.block = append(c.block, r)
	if len(c.block) == csvBlock {
		return c.flush()
	}
	return nil
}

func (c *csvChanges) flush() error {
	var err error
	if c.written {
		err = gocsv.MarshalCSVWithoutHeaders(c.block, c.w)
	} else {
		err = gocsv.MarshalCSV(c.block, c.w)
		c.written = true
	}
	c.block = c.block[:0]
	return err
}

func (c *csvChanges) change(cc importer.ColumnChange) error {
	return c.add(csvChange{Email: cc.Email, Change: cc.Change, Column: cc.Column.Header(), Old: cc.Old, New: cc.New})
}

func (c *csvChanges) endChanges() error { return nil }

func (c *csvChanges) activation(a schema.Activation) error {
	return c.add(csvChange{Email: a.Email, Change: activationChange, Column: schema.ColSendActivation.Header(),
		New: activationState(a, tableTime)})
}

func (c *csvChanges) end() error { return c.flush() }

// jsonChanges writes one JSON object, its arrays element by element:
// {"batch":{…},"changes":[…],"activation_emails":[…]}.
type jsonChanges struct {
	w     io.Writer
	first bool
}

func (j *jsonChanges) put(s string) error {
	_, err := io.WriteString(j.w, s)
	return err
}

func (j *jsonChanges) element(v any) error {
	sep := ",\n"
	if j.first {
		sep = "\n"
	}
	j.first = false
	data, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return j.put(sep + string(data))
}

// closeArray ends an array written by element.
func (j *jsonChanges) closeArray(tail string) error {
	if !j.first {
		tail = "\n" + tail
	}
	j.first = true
	return j.put(tail)
}

func marshalJSON(v any) ([]byte, error) {
	var s strings.Builder
	enc := json.NewEncoder(&s)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(s.String(), "\n")), nil
}

func (j *jsonChanges) begin(b schema.Batch) error {
	data, err := marshalJSON(batchJSON(b))
	if err != nil {
		return err
	}
	j.first = true
	return j.put(`{"batch":` + string(data) + ",\n" + `"changes":[`)
}

func (j *jsonChanges) change(cc importer.ColumnChange) error {
	return j.element(outcome.ChangeOf(cc))
}

func (j *jsonChanges) endChanges() error {
	return j.closeArray("],\n" + `"activation_emails":[`)
}

func (j *jsonChanges) activation(a schema.Activation) error {
	return j.element(outcome.ActivationOf(a))
}

func (j *jsonChanges) end() error { return j.closeArray("]}\n") }
