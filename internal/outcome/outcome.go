// Package outcome is the one place where the result of a run becomes what
// a front end answers: an exit code of docs/REFERENCE.md §5 for the command line, an
// HTTP status of docs/REFERENCE.md §6 for the server, and the --json object both print.
package outcome

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/version"
	"github.com/ccbulk/ccbulk/schema"
)

// Exit codes of docs/REFERENCE.md §5.
const (
	ExitOK       = 0
	ExitFatal    = 1 // a file-level or fatal error
	ExitUsage    = 2 // wrong usage
	ExitRejected = 3 // done, some rows rejected
	ExitRefused  = 4 // another run holds the lock, a limit would be crossed, an undo would overwrite later changes
)

// ExitCoder is an error that knows its own exit code (wrong usage, an
// error met after the run's batch was committed).
type ExitCoder interface {
	error
	ExitCode() int
}

// ErrUsage is wrapped by errors of wrong usage (exit 2).
var ErrUsage = errors.New("wrong usage")

// ExitCode maps the error that ended a run to its exit code: nil is 0; an
// error that carries its own code (ExitCoder) gives it; a refusal that
// changed nothing (another run holds the lock, --sync or --max-rejected
// over its limit, an undo that would overwrite later changes) is 4; wrong
// usage (an import option refused by Options.Validate included) is 2; anything else, a file-level finding included, is 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		coder ExitCoder
		sync  *importer.SyncLimitError
		many  *importer.MaxRejectedError
		taken *store.LockedError
		later *importer.UndoConflictError
		opt   *importer.OptionError
	)
	switch {
	case errors.As(err, &coder):
		return coder.ExitCode()
	case errors.Is(err, ErrUsage), errors.Is(err, store.ErrBadConfig), errors.As(err, &opt):
		return ExitUsage
	case errors.As(err, &taken), errors.As(err, &sync), errors.As(err, &many), errors.As(err, &later),
		errors.Is(err, importer.ErrPlanDrift), errors.Is(err, importer.ErrPlanApplied):
		return ExitRefused
	}
	return ExitFatal
}

// Rule returns the rule id of a file-level error (F-…), "" for none.
func Rule(err error) schema.RuleID {
	var fe *schema.FileError
	if errors.As(err, &fe) {
		return fe.Rule
	}
	return ""
}

// HTTPStatus maps the error that ended a run to the HTTP status of docs/REFERENCE.md §6,
// derived from its exit code: 200 for exit 0 or 3 (rows rejected is not a
// failure of the request), 403 for F-ACTOR, 409 for a refusal (exit 4),
// 400 for wrong usage or a file-level finding, 503 for a run stopped by
// the server's shutdown, 404 for F-ORG (no such organization), 500 for anything else.
func HTTPStatus(err error) int {
	var undo *importer.UndoRefusedError
	switch code := ExitCode(err); {
	case code == ExitOK || code == ExitRejected:
		return http.StatusOK
	case code == ExitRefused:
		return http.StatusConflict
	case Rule(err) == schema.FActor:
		return http.StatusForbidden
	case Rule(err) == schema.FOrg:
		return http.StatusNotFound
	case code == ExitUsage, Rule(err) != "", errors.As(err, &undo):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Message is the message of the error that ended a run, as standard error
// and the JSON object say it: an error a front end has worded (*Worded) as
// it is, any other in the server's words (ServerWords).
func Message(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted: the run stopped and nothing of it was applied"
	}
	return ServerWords(err).Error()
}

// Error is the error that ended a run: its file-level rule, if it has one,
// and its message.
type Error struct {
	ID      *string `json:"id"`
	Message string  `json:"message"`
}

// ErrorOf describes the error that ended a run, nil for none.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	j := &Error{Message: Message(err)}
	if rule := Rule(err); rule != "" {
		id := string(rule)
		j.ID = &id
	}
	return j
}

// Import is the --json object of docs/REFERENCE.md §5; the key order is fixed. The
// server adds ReportURL and PlanID.
type Import struct {
	BatchID *int64 `json:"batch_id"`
	Org     string `json:"org"`
	DryRun  bool   `json:"dry_run"`
	Applied bool   `json:"applied"`
	importer.Counts
	IgnoredColumns   []string       `json:"ignored_columns"`
	Report           *string        `json:"report"`
	ActivationEmails int            `json:"activation_emails"`
	FindingsByRule   map[string]int `json:"findings_by_rule"`
	StartedAt        string         `json:"started_at"`
	FinishedAt       string         `json:"finished_at"`
	Version          string         `json:"version"`
	Error            *Error         `json:"error"`
	// SyncLimit is present only on a run the --sync limit refused.
	SyncLimit *SyncLimit `json:"sync_limit,omitempty"`
	// ReportURL is where the server serves the run's report (null when
	// none was written); only the HTTP API sets it.
	ReportURL *string `json:"report_url,omitempty"`
	// PlanID names a dry run's plan on the server; only the HTTP API
	// sets it.
	PlanID *string `json:"plan_id,omitempty"`
}

// SyncLimit says who a run refused by the --sync limit would have
// deactivated: the first importer.SyncLimitListed emails in email order,
// and how many more.
type SyncLimit struct {
	WouldDeactivate int      `json:"would_deactivate"`
	Limit           int      `json:"limit"`
	Emails          []string `json:"emails"`
	More            int      `json:"more"`
}

// Run is what the JSON object says of a run besides its result.
type Run struct {
	Started, Finished time.Time
	Err               error
}

// ImportOf builds the --json object of an import.
func ImportOf(r importer.Result, run Run) Import {
	j := Import{Org: r.Org, DryRun: r.DryRun, Applied: r.Applied, Counts: r.Counts,
		IgnoredColumns: slices.Clone(r.IgnoredColumns), ActivationEmails: r.Activations,
		FindingsByRule: map[string]int{}, StartedAt: run.Started.UTC().Format(time.RFC3339),
		FinishedAt: run.Finished.UTC().Format(time.RFC3339), Version: version.String(), Error: ErrorOf(run.Err)}
	if !r.DryRun && !r.Applied {
		// Nothing was applied: what the run would have done is not what
		// it did (its batch records the same zeros).
		j.Created, j.Updated, j.Deactivated, j.ActivationEmails = 0, 0, 0, 0
	}
	for _, letter := range r.UnnamedColumns {
		j.IgnoredColumns = append(j.IgnoredColumns, "column "+letter)
	}
	for rule, n := range r.FindingsByRule {
		j.FindingsByRule[string(rule)] = n
	}
	if n := len(j.IgnoredColumns); n > 0 {
		j.FindingsByRule[string(schema.WUnknownColumn)] = n
	}
	if n := len(r.AliasedColumns); n > 0 {
		j.FindingsByRule[string(schema.WHeaderAlias)] = n
	}
	if r.BatchID != 0 {
		j.BatchID = &r.BatchID
	}
	if r.Report != "" {
		abs, err := filepath.Abs(r.Report)
		if err != nil {
			abs = r.Report
		}
		j.Report = &abs
	}
	if j.IgnoredColumns == nil {
		j.IgnoredColumns = []string{}
	}
	var limit *importer.SyncLimitError
	if errors.As(run.Err, &limit) {
		j.SyncLimit = &SyncLimit{WouldDeactivate: limit.Would, Limit: limit.Limit, Emails: slices.Clone(limit.Emails), More: limit.More()}
		if j.SyncLimit.Emails == nil {
			j.SyncLimit.Emails = []string{}
		}
	}
	return j
}

// Undo is undo's --json object; the key order is fixed.
type Undo struct {
	BatchID   *int64                `json:"batch_id"`
	Org       string                `json:"org"`
	UndoOf    int64                 `json:"undo_of"`
	DryRun    bool                  `json:"dry_run"`
	Applied   bool                  `json:"applied"`
	Users     int                   `json:"users"`
	Deleted   int                   `json:"deleted"`
	Restored  int                   `json:"restored"`
	Recreated int                   `json:"recreated"`
	Withdrawn int                   `json:"activations_withdrawn"`
	Sent      int                   `json:"activations_sent"`
	Conflicts []schema.UndoConflict `json:"conflicts"`
	// As import's: when the run started and ended, which ccbulk ran it,
	// and the error that ended it (null for none).
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	Version    string `json:"version"`
	Error      *Error `json:"error"`
}

// UndoOf builds the --json object of an undo.
func UndoOf(r importer.UndoResult, run Run) Undo {
	n := r.Counts
	j := Undo{Org: r.Org, UndoOf: r.UndoOf, DryRun: r.DryRun, Applied: r.Applied, Users: n.Users, Deleted: n.Deleted,
		Restored: n.Restored, Recreated: n.Recreated, Withdrawn: n.Withdrawn, Sent: n.Sent, Conflicts: r.Conflicts,
		StartedAt: run.Started.UTC().Format(time.RFC3339), FinishedAt: run.Finished.UTC().Format(time.RFC3339),
		Version: version.String(), Error: ErrorOf(run.Err)}
	if r.BatchID != 0 {
		j.BatchID = &r.BatchID
	}
	if j.Conflicts == nil {
		j.Conflicts = []schema.UndoConflict{}
	}
	for i := range j.Conflicts {
		if j.Conflicts[i].Batches == nil {
			j.Conflicts[i].Batches = []int64{}
		}
	}
	return j
}
