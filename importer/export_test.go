package importer

import (
	"context"
	"io"

	"github.com/ccbulk/ccbulk/schema"
)

// SetReportOutput puts fn between the report writer and its file, until the
// returned function restores the default.
func SetReportOutput(fn func(io.Writer) io.Writer) (restore func()) {
	old := reportOutput
	reportOutput = func(o ReportFile) io.Writer { return fn(o) }
	return func() { reportOutput = old }
}

// BatchEndFailed ends b, a batch started on conn, as a run whose
// transaction failed with runErr ends it (recorded failed, its error worded):
// name and again are how the run's messages call the batch and what to do
// once the database is back. It returns how the run ends.
func BatchEndFailed(ctx context.Context, db Store, conn Conn, name, again string, b schema.Batch, runErr error) (applied, commitUnknown bool, err error) {
	e := &batchEnd{db: db, conn: conn, name: name, again: again}
	b.Status, b.Error = "failed", batchError(ctx, nil, runErr)
	end := e.failed(ctx, b, runErr)
	return end.Applied, end.CommitUnknown, end.Err
}
