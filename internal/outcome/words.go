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

// Reworded returns err in a front end's words: the message of the first
// error of its chain (outermost first) for which words has words (ok) is
// replaced by them (Reword). An error worded already (*Worded), or with
// nothing words knows, is returned as it is.
func Reworded(err error, words func(error) (text string, ok bool)) error {
	var worded *Worded
	if err == nil || errors.As(err, &worded) {
		return err
	}
	var inner error
	var text string
	walk(err, func(e error) bool {
		t, ok := words(e)
		if ok {
			inner, text = e, t
		}
		return ok
	})
	if inner == nil {
		return err
	}
	return Reword(err, inner, text)
}

// walk calls f for err and each error it wraps, outermost first, until f
// returns true; it reports whether f did.
func walk(err error, f func(error) bool) bool {
	for err != nil {
		if f(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, f) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

// ServerWords puts the errors the lower layers return with data (a limit,
// a batch, a timeout) into the words of the HTTP API and the web pages,
// which name the API's query parameters and no command; any other error
// is returned as it is. The command line has its own (internal/cli).
func ServerWords(err error) error { return Reworded(err, serverText) }

// serverText is the HTTP API's and the web pages' words for err.
func serverText(err error) (string, bool) {
	switch e := err.(type) {
	case *importer.SyncLimitError:
		return fmt.Sprintf("the sync would deactivate %d users, over the limit of %d (max_deactivate %s); nothing was applied: check that the sheet is complete, or raise max_deactivate", e.Would, e.Limit, e.Max) + e.Listed(), true
	case *importer.MaxRejectedError:
		return fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (max_rejected %s); nothing was applied: fix the rows the report lists, or raise max_rejected", e.Rejected, e.Rows, e.Limit, e.Max), true
	case *importer.AtomicError:
		return "atomic=true: " + e.RowsRejected() + "; nothing was applied", true
	case *importer.ReportError:
		return fmt.Sprintf("the report could not be kept (%s); nothing was applied: try again later", e.Cause()), true
	case *importer.UndoRefusedError:
		return e.Message + "; the organization's history lists its batches", e.NotFound
	case *store.TimeoutError:
		return e.Error() + "; try again when the database is less busy", true
	case *store.SchemaError:
		return e.Error() + "; the server's database needs its migrations applied", true
	}
	return "", false
}
