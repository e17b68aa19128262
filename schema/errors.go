package schema

import (
	"errors"
	"fmt"
)

// The errors a store returns through the interfaces the pipeline declares
// (importer.Store, exporter.Store, tenant.Store, app.Store), on which the
// pipeline decides what happened: here, in a package other modules may
// import, so that a store of theirs can return them too. internal/store
// returns these values (its own names for them are the same values).

// ErrNotFound is wrapped when an organization, role, user or batch does not
// exist.
var ErrNotFound = errors.New("not found")

// ErrLocked is wrapped when another run holds the tenant's lock.
var ErrLocked = errors.New("another run holds the organization's lock")

// LockedError says which batch holds a tenant's lock.
type LockedError struct {
	Tenant string
	Batch  int64 // 0 when the holder has not started a batch yet
}

func (e *LockedError) Error() string {
	if e.Batch > 0 {
		return fmt.Sprintf("batch %d holds the lock of %s: one import or undo at a time per organization; try again when it has finished", e.Batch, e.Tenant)
	}
	return fmt.Sprintf("another run holds the lock of %s: one import or undo at a time per organization; try again when it has finished", e.Tenant)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// ErrConnectionLost is wrapped when the database connection broke mid-run:
// the server went away, was restarted, or ended the session.
var ErrConnectionLost = errors.New("the database connection was lost")

// ErrCommit is wrapped when COMMIT itself failed: when the connection broke
// there, the server may or may not have committed.
var ErrCommit = errors.New("commit")

// ErrUsernameTaken is wrapped when a username a batch gives is held by
// another user.
var ErrUsernameTaken = errors.New("a username is held by another user")

// ErrPlanApplied is returned when the database refuses a second applied
// batch of one plan.
var ErrPlanApplied = errors.New("the plan was applied already")

// ErrUndoBreaksRule is wrapped when the state the undo would restore breaks
// a rule today (a username taken since, seats used since).
var ErrUndoBreaksRule = errors.New("the undo would break a rule")
