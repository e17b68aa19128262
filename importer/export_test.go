package importer

import (
	"io"
)

// SetReportOutput puts fn between the report writer and its file, until the
// returned function restores the default.
func SetReportOutput(fn func(io.Writer) io.Writer) (restore func()) {
	old := reportOutput
	reportOutput = func(o ReportFile) io.Writer { return fn(o) }
	return func() { reportOutput = old }
}
