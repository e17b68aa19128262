package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// TestExitCodeAfterCommit: an error met after the run's batch was
// committed never makes the exit code claim less than what happened: 0,
// or 3 with rejected rows, whatever the error; before the commit the
// error keeps its own code.
func TestExitCodeAfterCommit(t *testing.T) {
	errs := []struct {
		name string
		err  error
		own  int
	}{
		{"report not moved into place", errors.New("report: rename: no space left on device"), ExitFatal},
		{"stopped just after the commit", context.Canceled, ExitFatal},
		{"a file error", &schema.FileError{Rule: schema.FFormat, Message: "x"}, ExitFatal},
		{"a refusal", &store.LockedError{}, ExitRefused},
		{"a sync limit", &importer.SyncLimitError{}, ExitRefused},
		{"a usage error", usagef("x"), ExitUsage},
		{"bad connection settings", store.ErrBadConfig, ExitUsage},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			if got := exitCode(afterCommit(false, 7, 2, e.err)); got != e.own {
				t.Errorf("not applied: exit %d, want %d", got, e.own)
			}
			if got := exitCode(afterCommit(true, 7, 0, e.err)); got != ExitOK {
				t.Errorf("applied: exit %d, want 0", got)
			}
			if got := exitCode(afterCommit(true, 7, 2, e.err)); got != ExitRejected {
				t.Errorf("applied with rejected rows: exit %d, want 3", got)
			}
		})
	}
}

// TestAfterCommitMessage: an error after the commit reads as a warning
// naming the applied batch, never as "interrupted" or "nothing applied".
func TestAfterCommitMessage(t *testing.T) {
	err := afterCommit(true, 7, 2, errors.New("report: rename: no space left on device"))
	want := "warning: batch 7 was applied, but then: report: rename: no space left on device"
	if got := err.Error(); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if err := afterCommit(true, 7, 0, nil); err != nil {
		t.Errorf("no error after the commit: %v, want nil", err)
	}
}
