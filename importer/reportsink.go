package importer

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccbulk/ccbulk/internal/outfile"
	"github.com/ccbulk/ccbulk/sheet"
)

// ReportSink is where a run's report goes instead of a file
// (Options.ReportSink): a server keeps reports where it wants them. The
// run calls Create when the first row with a finding needs the report, and
// then exactly one of the file's Commit (complete and kept: inside the
// run's transaction, before its COMMIT, so that a report that cannot be
// kept applies nothing) or Abort (nothing kept).
type ReportSink interface {
	Create(format string) (ReportFile, error)
}

// ReportFile is one report being written; *outfile.File is one.
type ReportFile interface {
	io.Writer
	// Commit completes the report and keeps it.
	Commit() error
	// Abort, before Commit, drops what was written.
	Abort()
}

// ReportWithdrawer is a ReportFile that can withdraw a committed report: a
// run whose COMMIT fails after its report was committed withdraws it (a
// report must not describe a run that did not happen).
type ReportWithdrawer interface {
	Withdraw()
}

// commitReport completes the report (flushed, synced, in place). An import
// calls it inside its transaction, just before COMMIT, so that a report that
// cannot be completed (a full disk) rolls the run back.
func (r *run) commitReport() error {
	if r.report == nil {
		return nil
	}
	out, isFile := r.report.out.(*outfile.File)
	if isFile && r.replacesInput && !out.InPlace() {
		// The report replaces the input: keep the input under a second
		// name until the run has committed, so that a run whose COMMIT
		// then fails gives it back.
		backup := filepath.Join(filepath.Dir(out.Path()), "."+filepath.Base(out.Path())+".ccbulk-"+strconv.Itoa(os.Getpid())+"-input")
		os.Remove(backup)
		if os.Link(out.Path(), backup) == nil {
			r.inputBackup = backup
		}
	}
	sunk := r.report.out
	err := r.report.Commit()
	r.report = nil
	if err == nil {
		r.res.Report = r.reportPath
		switch {
		case !isFile:
			r.reportSunk = sunk
		case !out.InPlace():
			r.reportPlaced = out.Path()
		}
	}
	return err
}

// withdrawReport removes a report already in place when the run then failed
// without applying (its COMMIT failed): a report must not describe a run
// that did not happen. When the COMMIT's outcome is unknown (the connection
// broke during it) the report stays: its rows are right if the batch was
// applied, and they still need fixing if it was not.
func (r *run) withdrawReport() {
	if r.res.Report == "" || r.res.Applied || r.commitUnknown {
		return
	}
	switch {
	case r.reportSunk != nil:
		// A report given to Options.ReportSink: withdrawn there, when
		// the sink can withdraw what it has committed.
		if w, ok := r.reportSunk.(ReportWithdrawer); ok {
			w.Withdraw()
		}
		r.reportSunk = nil
	case r.reportPlaced != "" && r.inputBackup != "":
		// The report replaced the input: the input comes back.
		if os.Rename(r.inputBackup, r.reportPlaced) == nil {
			r.inputBackup = ""
		}
		r.reportPlaced = ""
	case r.reportPlaced != "" && !r.replacesInput: // never a device or FIFO written in place, never the input
		os.Remove(r.reportPlaced)
		r.reportPlaced = ""
	}
	r.res.Report = ""
}

// dropInputBackup removes the second name of an input that the run's report
// replaced.
func (r *run) dropInputBackup() {
	if r.inputBackup != "" {
		os.Remove(r.inputBackup)
		r.inputBackup = ""
	}
}

func (r *run) abortReport() {
	if r.report != nil {
		r.report.Abort()
		r.report = nil
	}
}

// reportTarget returns the report's path and format: --report-format, else
// the extension of --report, else the input's own format (as its content
// shows it, whatever its name).
func reportTarget(opts Options, input sheet.Format) (path, format string) {
	format = opts.ReportFormat
	if format == "" && opts.Report != "" {
		format = strings.ToLower(strings.TrimPrefix(filepath.Ext(opts.Report), "."))
	}
	if format != ReportCSV && format != ReportXLSX && format != ReportJSONL {
		format = string(input)
	}
	path = opts.Report
	if path == "" {
		path = DefaultReportPath(opts.File, format)
	}
	return path, format
}
