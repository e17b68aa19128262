package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

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
// not given: next to the input, NAME.report.EXT.
func DefaultReportPath(input, format string) string {
	if input == "-" || input == "" {
		return "stdin.report." + format
	}
	ext := filepath.Ext(input)
	return strings.TrimSuffix(input, ext) + ".report." + format
}

// reportWriter writes the rows that have findings. It writes to a temporary
// file beside the destination and renames it into place on Commit, so a run
// that fails leaves no half-written report.
type reportWriter struct {
	path, format string
	tmp          *os.File
	sheet        sheet.Writer
	jsonl        *json.Encoder
	headers      []string
	rows         int
}

func newReportWriter(path, format string, headers []string) (*reportWriter, error) {
	if format == "" {
		format = strings.TrimPrefix(filepath.Ext(path), ".")
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r := &reportWriter{path: path, format: format, tmp: tmp, headers: headers}
	switch format {
	case ReportJSONL:
		r.jsonl = json.NewEncoder(tmp)
		r.jsonl.SetEscapeHTML(false)
		return r, nil
	case ReportCSV, ReportXLSX:
		r.sheet, err = sheet.NewWriter(sheet.Format(format), tmp, sheet.WriterOptions{BOM: true, SheetName: "Report"})
		if err == nil {
			err = r.sheet.WriteHeader(append(append([]string{}, headers...), schema.ReportHeaders()...))
		}
	default:
		err = fmt.Errorf("unknown report format %q; use csv, xlsx or jsonl", format)
	}
	if err != nil {
		r.Abort()
		return nil, err
	}
	return r, nil
}

type jsonlRow struct {
	Row      int              `json:"row"`
	Email    string           `json:"email"`
	Status   schema.Severity  `json:"status"`
	Findings []schema.Finding `json:"findings"`
}

// Write adds one row: its original cells and its findings.
func (r *reportWriter) Write(row int, email string, cells []string, fs []schema.Finding) error {
	status := schema.SevWarning
	for _, f := range fs {
		if f.Severity() == schema.SevError {
			status = schema.SevError
		}
	}
	r.rows++
	if r.jsonl != nil {
		return r.jsonl.Encode(jsonlRow{Row: row, Email: email, Status: status, Findings: fs})
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
	return r.sheet.WriteRow(out, notes)
}

// Commit finishes the report and moves it into place.
func (r *reportWriter) Commit() error {
	if r.sheet != nil {
		if err := r.sheet.Close(); err != nil {
			r.Abort()
			return fmt.Errorf("report: %w", err)
		}
	}
	if err := r.tmp.Close(); err != nil {
		os.Remove(r.tmp.Name())
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Chmod(r.tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(r.tmp.Name(), r.path); err != nil {
		os.Remove(r.tmp.Name())
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Abort removes the unfinished report.
func (r *reportWriter) Abort() {
	if r.sheet != nil {
		_ = r.sheet.Close()
		r.sheet = nil
	}
	r.tmp.Close()
	os.Remove(r.tmp.Name())
}
