package importer

import (
	"io"

	"github.com/ccbulk/ccbulk/internal/outfile"
)

// SetReportOutput puts fn between the report writer and its file, until the
// returned function restores the default.
func SetReportOutput(fn func(io.Writer) io.Writer) (restore func()) {
	old := reportOutput
	reportOutput = func(o *outfile.File) io.Writer { return fn(o) }
	return func() { reportOutput = old }
}
