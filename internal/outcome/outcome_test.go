package outcome

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

type coded struct{ code int }

func (c coded) Error() string { return "coded" }
func (c coded) ExitCode() int { return c.code }

// TestExitCodeAndHTTPStatus: the exit code of docs/REFERENCE.md §5 and the HTTP status
// of docs/REFERENCE.md §6 of every kind of outcome, from the one classifier.
func TestExitCodeAndHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		exit   int
		status int
	}{
		{"done", nil, ExitOK, http.StatusOK},
		{"rows rejected", coded{ExitRejected}, ExitRejected, http.StatusOK},
		{"applied, then an error", fmt.Errorf("x: %w", coded{ExitOK}), ExitOK, http.StatusOK},
		{"file-level finding", &schema.FileError{Rule: schema.FFormat, Message: "bad"}, ExitFatal, http.StatusBadRequest},
		{"F-ACTOR", fmt.Errorf("wrapped: %w", &schema.FileError{Rule: schema.FActor, Message: "no"}), ExitFatal, http.StatusForbidden},
		{"lock", &store.LockedError{Tenant: "acme", Batch: 7}, ExitRefused, http.StatusConflict},
		{"sync limit", &importer.SyncLimitError{Would: 9, Limit: 1}, ExitRefused, http.StatusConflict},
		{"max rejected", &importer.MaxRejectedError{Rejected: 9, Rows: 10, Limit: 1}, ExitRefused, http.StatusConflict},
		{"undo conflict", &importer.UndoConflictError{Batch: 3}, ExitRefused, http.StatusConflict},
		{"undo refused", &importer.UndoRefusedError{Message: "not applied"}, ExitFatal, http.StatusBadRequest},
		{"usage", fmt.Errorf("flag: %w", ErrUsage), ExitUsage, http.StatusBadRequest},
		{"bad configuration", store.ErrBadConfig, ExitUsage, http.StatusBadRequest},
		{"interrupted", context.Canceled, ExitFatal, http.StatusServiceUnavailable},
		{"database gone", errors.New("connection refused"), ExitFatal, http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.exit {
				t.Errorf("ExitCode = %d, want %d", got, tc.exit)
			}
			if got := HTTPStatus(tc.err); got != tc.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tc.status)
			}
		})
	}
}

func TestErrorOf(t *testing.T) {
	if ErrorOf(nil) != nil {
		t.Fatal("ErrorOf(nil) is not nil")
	}
	e := ErrorOf(&schema.FileError{Rule: schema.FActor, Message: "may not"})
	if e.ID == nil || *e.ID != "F-ACTOR" {
		t.Errorf("id = %v, want F-ACTOR", e.ID)
	}
	if e := ErrorOf(context.Canceled); e.ID != nil || e.Message != "interrupted: the run stopped and nothing of it was applied" {
		t.Errorf("ErrorOf(canceled) = %+v", e)
	}
}
