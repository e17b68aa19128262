package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ccbulk/ccbulk/internal/outfile"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// Report formats.
const (
	ReportCSV   = "csv"
	ReportXLSX  = "xlsx"
	ReportJSONL = "jsonl"
)

// DefaultReportPath returns where the report of input goes when --report is
// not given: next to the input, NAME.report.EXT. A report of a report is
// named after the original: the report of NAME.report.csv is
// NAME.report.csv (not NAME.report.report.csv), the input itself, which the
// run replaces only once it has read it completely.
func DefaultReportPath(input, format string) string {
	if input == "-" || input == "" {
		return "stdin.report." + format
	}
	base := strings.TrimSuffix(input, filepath.Ext(input))
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".report") {
		base = strings.TrimSuffix(base, ext)
	}
	return base + ".report." + format
}

// reportReplacesInput reports whether the default report path is the input
// file itself (a report of a report, imported again): a regular file that
// the run reads completely before its report replaces it.
func reportReplacesInput(opts Options, path string) bool {
	if opts.Report != "" || opts.File == "" || opts.File == "-" {
		return false
	}
	if filepath.Clean(path) != filepath.Clean(opts.File) {
		return false
	}
	fi, err := os.Stat(opts.File)
	return err == nil && fi.Mode().IsRegular()
}

// IsReport reports whether the file at path is a report ccbulk wrote: a
// regular file whose header ends with the report's own columns (CSV, XLSX),
// or whose first line is a report row (JSON lines).
func IsReport(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if strings.EqualFold(filepath.Ext(path), "."+ReportJSONL) {
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		defer f.Close()
		var row struct {
			Row      *int              `json:"row"`
			Status   *string           `json:"status"`
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&row); err != nil {
			return false
		}
		return row.Row != nil && row.Status != nil && row.Findings != nil
	}
	src, err := sheet.Open(path, nil, sheet.Options{})
	if err != nil {
		return false
	}
	defer src.Close()
	h := src.Header()
	g := sheet.ReportGroup(h)
	return g != nil && g[len(g)-1] == len(h)-1
}

// ReportError says the report could not be written where --report (or its
// default, or the front end) puts it: the run applies nothing. Its message
// names no option; Cause words Err without repeating the path.
type ReportError struct {
	Path string
	Err  error
}

func (e *ReportError) Error() string {
	return fmt.Sprintf("cannot write the report at %s (%s); nothing was applied", e.Path, e.Cause())
}

// Cause is why the report could not be written, without the path.
func (e *ReportError) Cause() string { return reportCause(e.Err) }

func (e *ReportError) Unwrap() error { return e.Err }

// reportCause words an error of the file system without repeating the path.
func reportCause(err error) string {
	if errors.Is(err, errReportIsInput) {
		return errReportIsInput.Error()
	}
	return outfile.Cause(err)
}

var errReportIsInput = errors.New("it is the input file")

// checkReportTarget tells before the first row is read whether the report
// could be written at path: the place exists and is writable, is not a
// directory, and is not the input itself (under any name).
func checkReportTarget(path, input string) error {
	if input != "" && input != "-" {
		in, err1 := os.Stat(input)
		out, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(in, out) {
			return &ReportError{Path: path, Err: errReportIsInput}
		}
	}
	if err := outfile.Check(path); err != nil {
		return &ReportError{Path: path, Err: err}
	}
	return nil
}

// reportOutput is where a report's bytes go: the file itself (tests put a
// failing writer in between).
var reportOutput = func(o ReportFile) io.Writer { return o }

// reportWriter writes the rows that have findings. It writes to a temporary
// file beside the destination and moves it into place on Commit, so a run
// that fails leaves no half-written report.
//
// The rows are encoded by a goroutine of their own, a few thousand rows
// behind the checks, so that an XLSX report (several times the work of a
// CSV one per row) costs little more time than the checks themselves on a
// machine with a second core.
type reportWriter struct {
	path, format string
	out          ReportFile
	sheet        sheet.Writer
	jsonl        *json.Encoder
	headers      []string
	rows         int

	queue  chan reportRow // rows waiting to be encoded; nil until started
	done   chan struct{}  // closed when the goroutine has ended
	failed atomic.Pointer[error]
}

// reportRow is a row waiting to be encoded.
type reportRow struct {
	row   int
	email string
	cells []string
	fs    []schema.Finding
}

// reportQueue is how many rows may wait for the encoder.
const reportQueue = 4096

// start runs the encoder.
func (r *reportWriter) start() {
	r.queue = make(chan reportRow, reportQueue)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		for row := range r.queue {
			if r.failed.Load() != nil {
				continue // drain
			}
			if err := r.encode(row); err != nil {
				r.failed.Store(&err)
			}
		}
	}()
}

// stop waits for the encoder to finish the queued rows and returns its
// error, if any.
func (r *reportWriter) stop() error {
	if r.queue != nil {
		close(r.queue)
		<-r.done
		r.queue = nil
	}
	if p := r.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// newReportWriter creates the report at path. A CSV report is written in
// the dialect of a CSV input (its delimiter and encoding: a person opens the
// report as they opened the input); the zero Dialect is UTF-8 with ','.
//
// With sink (Options.ReportSink) the report goes there instead of a file.
func newReportWriter(sink ReportSink, path, format string, headers []string, dialect sheet.Dialect) (*reportWriter, error) {
	if format == "" {
		format = strings.TrimPrefix(filepath.Ext(path), ".")
	}
	var out ReportFile
	var err error
	if sink != nil {
		out, err = sink.Create(format)
	} else {
		out, err = outfile.Create(path)
	}
	if err != nil {
		return nil, &ReportError{Path: path, Err: err}
	}
	w := reportOutput(out)
	r := &reportWriter{path: path, format: format, out: out, headers: headers}
	switch format {
	case ReportJSONL:
		r.jsonl = json.NewEncoder(w)
		r.jsonl.SetEscapeHTML(false)
	case ReportCSV, ReportXLSX:
		r.sheet, err = sheet.NewWriter(sheet.Format(format), w, sheet.WriterOptions{BOM: true, SheetName: "Report", Delimiter: dialect.Delimiter, Encoding: dialect.Encoding})
		if err == nil {
			err = r.sheet.WriteHeader(append(append([]string{}, headers...), schema.ReportHeaders()...))
			if nc, ok := r.sheet.(sheet.NumberColumns); ok {
				nc.SetNumberColumns(len(headers)) // Row
			}
		}
	default:
		err = fmt.Errorf("unknown report format %q; use csv, xlsx or jsonl", format)
	}
	if err != nil {
		r.Abort()
		return nil, err
	}
	r.start()
	return r, nil
}

type jsonlRow struct {
	Row      int              `json:"row"`
	Email    string           `json:"email"`
	Status   schema.Severity  `json:"status"`
	Findings []schema.Finding `json:"findings"`
}

// Write adds one row: its original cells (which the caller no longer
// changes) and its findings. An error of the encoder comes back from a
// later Write, or from Commit.
func (r *reportWriter) Write(row int, email string, cells []string, fs []schema.Finding) error {
	if p := r.failed.Load(); p != nil {
		return *p
	}
	r.rows++
	r.queue <- reportRow{row: row, email: email, cells: cells, fs: slices.Clone(fs)}
	return nil
}

// encode writes one row to the report.
func (r *reportWriter) encode(rr reportRow) error {
	row, email, cells, fs := rr.row, rr.email, rr.cells, rr.fs
	status := schema.SevWarning
	for _, f := range fs {
		if f.Severity() == schema.SevError {
			status = schema.SevError
		}
	}
	if r.jsonl != nil {
		if err := r.jsonl.Encode(jsonlRow{Row: row, Email: email, Status: status, Findings: fs}); err != nil {
			return &ReportError{Path: r.path, Err: err}
		}
		return nil
	}
	msgs := make([]string, len(fs))
	var notes []sheet.CellNote
	for i, f := range fs {
		msgs[i] = string(f.Rule) + ": " + f.Message
		if col := slices.Index(r.headers, f.Column); col >= 0 && f.Column != "" {
			notes = append(notes, sheet.CellNote{Col: col, Text: string(f.Rule) + ": " + f.Message})
		}
	}
	out := make([]string, 0, len(cells)+3)
	out = append(out, cells...)
	out = append(out, strconv.Itoa(row), string(status), strings.Join(msgs, " | "))
	if err := r.sheet.WriteRow(out, notes); err != nil {
		return &ReportError{Path: r.path, Err: err}
	}
	return nil
}

// Commit finishes the report, syncs it to disk and moves it into place.
func (r *reportWriter) Commit() error {
	if err := r.stop(); err != nil {
		r.Abort()
		return err
	}
	if r.sheet != nil {
		err := r.sheet.Close()
		r.sheet = nil
		if err != nil {
			r.out.Abort()
			return &ReportError{Path: r.path, Err: err}
		}
	}
	if err := r.out.Commit(); err != nil {
		return &ReportError{Path: r.path, Err: err}
	}
	return nil
}

// Abort removes the unfinished report.
func (r *reportWriter) Abort() {
	_ = r.stop()
	if r.sheet != nil {
		_ = r.sheet.Close()
		r.sheet = nil
	}
	r.out.Abort()
}
