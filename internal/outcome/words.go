package outcome

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
)

// Worded is an error a front end has put in its own words (its flags, its
// commands, its query parameters): Message says it as it is, and
// errors.Is and errors.As still reach the data beneath (Err).
type Worded struct {
	Text string
	Err  error
}

func (e *Worded) Error() string { return e.Text }

func (e *Worded) Unwrap() error { return e.Err }

// Reword returns err with the message of inner, an error in err's chain,
// replaced by text in err's message: what wraps inner keeps its words.
func Reword(err, inner error, text string) error {
	return &Worded{Text: strings.Replace(err.Error(), inner.Error(), text, 1), Err: err}
}

// ServerWords puts the errors the lower layers return with data (a limit,
// a batch, a timeout) into the words of the HTTP API and the web pages,
// which name the API's query parameters and no command; any other error
// is returned as it is. The command line has its own (internal/cli).
func ServerWords(err error) error {
	var (
		worded  *Worded
		sync    *importer.SyncLimitError
		many    *importer.MaxRejectedError
		atomic  *importer.AtomicError
		report  *importer.ReportError
		undo    *importer.UndoRefusedError
		timeout *store.TimeoutError
		schema  *store.SchemaError
	)
	switch {
	case err == nil, errors.As(err, &worded):
		return err
	case errors.As(err, &sync):
		return Reword(err, sync, fmt.Sprintf("the sync would deactivate %d users, over the limit of %d (max_deactivate %s); nothing was applied: check that the sheet is complete, or raise max_deactivate", sync.Would, sync.Limit, sync.Max)+sync.Listed())
	case errors.As(err, &many):
		return Reword(err, many, fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (max_rejected %s); nothing was applied: fix the rows the report lists, or raise max_rejected", many.Rejected, many.Rows, many.Limit, many.Max))
	case errors.As(err, &atomic):
		return Reword(err, atomic, "atomic=true: "+atomic.RowsRejected()+"; nothing was applied")
	case errors.As(err, &report):
		return Reword(err, report, fmt.Sprintf("the report could not be kept (%s); nothing was applied: try again later", report.Cause()))
	case errors.As(err, &undo) && undo.NotFound:
		return Reword(err, undo, undo.Message+"; the organization's history lists its batches")
	case errors.As(err, &timeout):
		return Reword(err, timeout, timeout.Error()+"; try again when the database is less busy")
	case errors.As(err, &schema):
		return Reword(err, schema, schema.Error()+"; the server's database needs its migrations applied")
	}
	return err
}
