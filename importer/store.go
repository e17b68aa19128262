package importer

import (
	"context"
	"time"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// Store is all the importer (an import, a saved plan's apply, an undo)
// asks of the database: the pool. internal/pgimporter's New(store.New(db))
// is the one of a PostgreSQL database; tests give their own to reach what
// a real database does only under faults (a lock refused, a connection lost
// at COMMIT).
//
// Its methods are named noun first, take and return the domain types and
// records of package schema, and name no type of an internal package, so
// that another module can implement it. A run holds one Conn (the tenant's lock is the
// connection's) and, on it, one Tx: everything the transaction writes,
// COPY included, goes through that Tx.
type Store interface {
	Queries
	// PlanKey returns the installation's key that seals saved plans.
	PlanKey(ctx context.Context) ([]byte, error)
	// ConnOpen takes a connection of the pool for a run.
	ConnOpen(ctx context.Context) (Conn, error)
	// SnapshotOpen opens a read-only transaction, on a connection of its
	// own, that sees the database as it is now (store.Snapshot).
	SnapshotOpen(ctx context.Context) (Snapshot, error)
}

// Queries are what the importer runs on any handle: the pool, its
// connection, its transaction or a snapshot.
type Queries interface {
	tenant.Store
	// SchemaCheck returns an error when the schema is missing or older
	// than this build.
	SchemaCheck(ctx context.Context) error

	// UserCountUpTo counts the users of a tenant, stopping at limit.
	UserCountUpTo(ctx context.Context, tenant string, limit int) (int, error)
	// UserEach calls fn for every user of a tenant.
	UserEach(ctx context.Context, tenant string, fn func(*schema.User) error) error
	// UserFetchByEmails returns the users of a tenant with these emails.
	UserFetchByEmails(ctx context.Context, tenant string, emails []string) (map[string]*schema.User, error)
	// UsernameHolderFetch returns the users holding usernames in PBXes.
	UsernameHolderFetch(ctx context.Context, p schema.UsernameHolderParams) ([]schema.UsernameHolder, error)
	// VersionOriginFetch returns what changed users whose Version is stale.
	VersionOriginFetch(ctx context.Context, tenant string, users []schema.StaleUser) (map[string]schema.VersionOrigin, error)
	// OrgStateGet returns the state of a tenant a saved plan records.
	OrgStateGet(ctx context.Context, tenant string) (schema.OrgState, error)
	// OrgStateGetSeatsCounted returns the state of a tenant but for the
	// seats in use, which the caller counted already.
	OrgStateGetSeatsCounted(ctx context.Context, tenant string, premiumUsed, standardUsed int) (schema.OrgState, error)

	// SyncCandidateCount counts the active members and those a --sync
	// deactivates (into the transaction's ccbulk_missing).
	SyncCandidateCount(ctx context.Context, tenant string) (active, missing int, err error)
	// MissingEmailList returns up to limit emails of ccbulk_missing.
	MissingEmailList(ctx context.Context, limit int) ([]string, error)
	// MissingEach calls fn for each user of ccbulk_missing.
	MissingEach(ctx context.Context, tenant string, fn func(u *schema.User) error) error

	// BatchStart records b as running and sets its ID.
	BatchStart(ctx context.Context, b *schema.Batch) error
	// BatchFinish records the end of b.
	BatchFinish(ctx context.Context, b *schema.Batch) error
	// BatchFinishIfRunning records the end of b if it is still running,
	// and reports whether it was.
	BatchFinishIfRunning(ctx context.Context, b *schema.Batch) (bool, error)
	// BatchDiscard removes a running batch that applied nothing.
	BatchDiscard(ctx context.Context, tenant string, id int64) error
	// BatchStatusGet returns the status of a batch.
	BatchStatusGet(ctx context.Context, tenant string, id int64) (string, error)
	// BatchGet returns a batch (schema.ErrNotFound when none).
	BatchGet(ctx context.Context, id int64) (schema.Batch, error)

	// PlanAppliedBy returns the batch that applied a saved plan (0: none).
	PlanAppliedBy(ctx context.Context, tenant, sha string) (int64, error)
	// PlanRecord records the saved plan a batch applies.
	PlanRecord(ctx context.Context, p schema.PlanRecordParams) error

	// ChangeEach calls fn for each user a batch changed.
	ChangeEach(ctx context.Context, tenant string, batch int64, fn func(schema.UserChange) error) error
	// ChangeEachWithHome is ChangeEach with each user's Home Organization.
	ChangeEachWithHome(ctx context.Context, tenant string, batch int64, fn func(schema.UserChange) error) error
	// ActivationPendingCount counts the activation requests of a batch
	// an undo withdraws and those already sent.
	ActivationPendingCount(ctx context.Context, tenant string, batch int64) (withdraw, sent int, err error)
	// UndoConflictList returns the users changed since a batch.
	UndoConflictList(ctx context.Context, p schema.UndoConflictParams) ([]schema.UndoConflict, int, error)
}

// Conn is the connection a run holds: its tenant's lock, its batch, and
// its one transaction.
type Conn interface {
	Queries
	// TenantLock takes the tenant's lock, waiting up to wait
	// (*schema.LockedError when another run holds it).
	TenantLock(ctx context.Context, tenant string, wait time.Duration) error
	// TenantUnlock releases it.
	TenantUnlock(ctx context.Context, tenant string) error
	// TxBegin begins the connection's transaction; until it ends, the
	// connection is written through it only.
	TxBegin(ctx context.Context) (Tx, error)
	// Close returns the connection to the pool.
	Close() error
}

// Tx is a run's transaction.
type Tx interface {
	Queries
	// Commit commits; its error wraps schema.ErrCommit, and
	// schema.ErrConnectionLost when the outcome is unknown.
	Commit() error
	// Rollback rolls back; after Commit it does nothing.
	Rollback() error

	// StagingCreate creates the temporary staging tables.
	StagingCreate(ctx context.Context) error
	// UserCreate copies new users in (COPY, streamed).
	UserCreate(ctx context.Context, p schema.UserCreateParams) error
	// UserStage copies users that exist into the staging table.
	UserStage(ctx context.Context, rows []schema.Staged) error
	// ListedStage copies the emails a --sync sheet lists.
	ListedStage(ctx context.Context, emails []string) error
	// DeactivationStage copies the emails a saved plan deactivates.
	DeactivationStage(ctx context.Context, emails []string) error
	// UserMerge writes the staged users with their audit rows.
	UserMerge(ctx context.Context, tenant string, batch int64) (int64, error)
	// UserDeactivate sets the users of ccbulk_missing inactive.
	UserDeactivate(ctx context.Context, tenant string, batch int64) ([]string, error)
	// UsernameCheck checks the deferred username constraint now
	// (schema.ErrUsernameTaken).
	UsernameCheck(ctx context.Context) error
	// UserStateLock locks users (FOR UPDATE) and returns their states by email.
	UserStateLock(ctx context.Context, tenant string, emails []string) (map[string]string, error)
	// UndoApply reverts a batch.
	UndoApply(ctx context.Context, p schema.UndoApplyParams) (schema.UndoCounts, error)
}

// Snapshot is a read-only transaction on a connection of its own.
type Snapshot interface {
	Queries
	// Close ends it; it may be called again.
	Close()
}

// withTx runs fn in a transaction on conn, committing when fn returns nil
// and rolling back otherwise.
func withTx(ctx context.Context, conn Conn, fn func(tx Tx) error) error {
	tx, err := conn.TxBegin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
