package runs

import (
	"fmt"
	"io"
	"os"

	"github.com/ccbulk/ccbulk/importer"
)

// reportSpool is the importer's report sink (importer.ReportSink) for a
// run of the server: the report is spooled to a private temporary file as
// it is written, and kept in the reports table (keepReport) once the run
// has recorded its batch or its plan, which the report's row refers to. A
// report the run withdrew (its COMMIT failed) or aborted is not kept.
type reportSpool struct {
	dir    string // the run's private directory
	format string // csv, xlsx or jsonl, as the importer wrote it
	file   *os.File
	kept   bool // committed, and not withdrawn since
}

// Create implements importer.ReportSink.
func (s *reportSpool) Create(format string) (importer.ReportFile, error) {
	f, err := os.CreateTemp(s.dir, "report-*")
	if err != nil {
		return nil, fmt.Errorf("a place for the report: %w", err)
	}
	s.file, s.format, s.kept = f, format, false
	return spooledReport{s}, nil
}

// body is the report kept, nil when none was.
func (s *reportSpool) body() ([]byte, error) {
	if s.file == nil || !s.kept {
		return nil, nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	body, err := io.ReadAll(s.file)
	if err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	return body, nil
}

// close closes the spool's file (the run's directory is removed with it).
func (s *reportSpool) close() {
	if s.file != nil {
		_ = s.file.Close() // a private temporary file, read already
	}
}

// spooledReport is the report being written to a reportSpool.
type spooledReport struct{ s *reportSpool }

func (r spooledReport) Write(p []byte) (int, error) { return r.s.file.Write(p) }

// Commit implements importer.ReportFile: the report is complete.
func (r spooledReport) Commit() error { r.s.kept = true; return nil }

// Abort implements importer.ReportFile: nothing is kept.
func (r spooledReport) Abort() { r.s.kept = false }

// Withdraw implements importer.ReportWithdrawer: the run did not apply
// after all, so its report is not kept.
func (r spooledReport) Withdraw() { r.s.kept = false }
