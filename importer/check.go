package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// ErrSyncLimit is wrapped when --sync would deactivate more users than allowed.
var ErrSyncLimit = errors.New("sync safety limit")

// SyncLimitListed bounds how many of the users a refused --sync would have
// deactivated a SyncLimitError carries: the first ones in email order. The
// count is always the full one.
const SyncLimitListed = 100

// syncLimitShown is how many of them the error's message names.
const syncLimitShown = 20

// SyncLimitError says how many users a refused --sync would have
// deactivated, and who: Emails holds the first SyncLimitListed of them, in
// email order. Its message names no option: each front end words the
// remedy with its own names for the limit (Listed gives the users named).
type SyncLimitError struct {
	Would, Limit int
	Max          MaxDeactivate
	Emails       []string
}

// More is how many of the users it would have deactivated Emails leaves out.
func (e *SyncLimitError) More() int { return e.Would - len(e.Emails) }

func (e *SyncLimitError) Error() string {
	return fmt.Sprintf("the sync would deactivate %d users, over the limit of %d (%s); nothing was applied: check that the sheet is complete, or raise the limit", e.Would, e.Limit, e.Max) + e.Listed()
}

// Listed is the end of the message that names the users the sync would
// have deactivated ("; it would deactivate a, b … and 3 more"), "" when
// Emails is empty.
func (e *SyncLimitError) Listed() string {
	if len(e.Emails) == 0 {
		return ""
	}
	shown := e.Emails[:min(len(e.Emails), syncLimitShown)]
	msg := "; it would deactivate " + strings.Join(shown, ", ")
	if more := e.Would - len(shown); more > 0 {
		msg += fmt.Sprintf(" … and %d more", more)
	}
	return msg
}

func (e *SyncLimitError) Unwrap() error { return ErrSyncLimit }

// ErrMaxRejected is wrapped when more rows were rejected than --max-rejected allows.
var ErrMaxRejected = errors.New("too many rows rejected")

// MaxRejectedError says how many rows a run refused by --max-rejected
// rejected, against its limit. Its message names no option: each front
// end words the remedy with its own name for the limit.
type MaxRejectedError struct {
	Rejected, Rows, Limit int
	Max                   Threshold
}

func (e *MaxRejectedError) Error() string {
	return fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (%s); nothing was applied: fix the rows the report lists, or raise the limit", e.Rejected, e.Rows, e.Limit, e.Max)
}

func (e *MaxRejectedError) Unwrap() error { return ErrMaxRejected }

// isRefusal reports the errors of a run refused by a limit (--sync's,
// --max-rejected's): nothing was applied, but the run read and checked
// every row, so its report stands.
func isRefusal(err error) bool {
	return errors.Is(err, ErrSyncLimit) || errors.Is(err, ErrMaxRejected) || errors.Is(err, ErrPlanDrift) || errors.Is(err, ErrPlanApplied)
}

// checkMaxRejected refuses the run when more rows were rejected than
// --max-rejected allows.
func (r *run) checkMaxRejected() error {
	m := r.opts.MaxRejected
	if m == nil {
		return nil
	}
	if limit := m.Limit(r.res.Rows); r.res.Rejected > limit {
		return &MaxRejectedError{Rejected: r.res.Rejected, Rows: r.res.Rows, Limit: limit, Max: *m}
	}
	return nil
}

// check validates one row, counts it and reports its findings.
func (r *run) check(cr *chunkRow, snap *rules.Snapshot) (rules.Outcome, error) {
	out := r.validator.Check(cr.in, cr.findings, snap)
	if r.opts.NoActivationEmails {
		out.SendActivation = false
	}
	res := r.res
	switch out.Kind {
	case rules.Rejected:
		res.Rejected++
	case rules.Created:
		res.Created++
	case rules.Updated:
		res.Updated++
	case rules.Unchanged:
		res.Unchanged++
	}
	if out.SendActivation {
		res.Activations++
	}
	if len(out.Findings) == 0 {
		return out, nil
	}
	for _, f := range out.Findings {
		if f.Severity() == schema.SevWarning {
			res.Warnings++
			break
		}
	}
	if res.FindingsByRule == nil {
		res.FindingsByRule = map[schema.RuleID]int{}
	}
	for _, f := range out.Findings {
		res.FindingsByRule[f.Rule]++
		if len(res.Findings) < MaxKeptFindings {
			res.Findings = append(res.Findings, f)
		} else {
			res.MoreFindings++
		}
	}
	if r.report == nil {
		var dialect sheet.Dialect
		if d, ok := r.src.(sheet.DialectReader); ok {
			dialect = d.Dialect()
		}
		w, err := newReportWriter(r.opts.ReportSink, r.reportPath, r.reportFormat, r.layout.OriginalHeaders(), dialect)
		if err != nil {
			return out, err
		}
		r.report = w
	}
	email := cr.in.Email
	if email == "" {
		email = strings.TrimSpace(r.cellOf(cr, schema.ColEmail))
	}
	return out, r.report.Write(cr.row, email, cr.cells, out.Findings)
}

func (r *run) cellOf(cr *chunkRow, c schema.Column) string {
	h := cr.in.Headers[c]
	for i, oh := range r.layout.OriginalHeaders() {
		if oh == h && i < len(cr.cells) {
			return cr.cells[i]
		}
	}
	return ""
}

func (r *run) checkSyncLimit(ctx context.Context, q Queries) error {
	active, missing, err := q.SyncCandidateCount(ctx, r.env.Org.ID)
	if err != nil {
		return err
	}
	// A percentage is of the active members before the batch: the new
	// ones are in users already.
	active -= r.createdMembers
	if limit := r.opts.MaxDeactivate.Limit(active); missing > limit {
		emails, err := q.MissingEmailList(ctx, SyncLimitListed)
		if err != nil {
			return err
		}
		return &SyncLimitError{Would: missing, Limit: limit, Max: *r.opts.MaxDeactivate, Emails: emails}
	}
	return nil
}
