package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/schema"
)

// This file is the implementation of the interfaces through which the
// importer, the exporter and tenant reach the database (each declares its
// own: importer.Store, exporter.Store, tenant.Store; the importer's through
// internal/pgimporter). Its methods are named noun first and call the
// functions of this package, which hold the SQL; they take parameter
// structs where a call has more than three values, and return the domain
// types and records of package schema, which the interfaces name.
//
// Four values carry them, one for each kind of handle: DB (the pool),
// Conn (one connection, held by a run for its lock), Tx (the one
// transaction of a Conn, through which everything the transaction
// writes goes, COPY included) and Snapshot (a read-only transaction on a
// connection of its own). Every one runs the read queries of Queries.

// Queries are the statements that run on any handle: the pool, a
// connection, a transaction or a snapshot.
type Queries struct{ q Querier }

// SchemaCheck returns an error that says to run 'ccbulk migrate' when the
// schema is missing or older than this build.
func (s Queries) SchemaCheck(ctx context.Context) error { return CheckSchema(ctx, s.q) }

// OrgGet returns a tenant named in any letter case (ErrNotFound when none).
func (s Queries) OrgGet(ctx context.Context, id string) (schema.Org, error) {
	return LoadOrg(ctx, s.q, id)
}

// ExternalGetAll returns the external organizations by NameKey.
func (s Queries) ExternalGetAll(ctx context.Context) (map[string]schema.ExternalOrg, error) {
	return LoadExternals(ctx, s.q)
}

// RoleGetAll returns the names of a tenant's CC roles by NameKey.
func (s Queries) RoleGetAll(ctx context.Context, tenant string) (map[string]string, error) {
	return LoadRoles(ctx, s.q, tenant)
}

// UserGet returns one user of a tenant (ErrNotFound when none).
func (s Queries) UserGet(ctx context.Context, tenant, email string) (schema.User, error) {
	return GetUser(ctx, s.q, tenant, email)
}

// SeatsUsed counts the active users of a tenant holding each license.
func (s Queries) SeatsUsed(ctx context.Context, tenant string) (premium, standard int, err error) {
	return SeatsUsed(ctx, s.q, tenant)
}

// UserCountUpTo counts the users of a tenant, stopping at limit.
func (s Queries) UserCountUpTo(ctx context.Context, tenant string, limit int) (int, error) {
	return CountUsersUpTo(ctx, s.q, tenant, limit)
}

// UserEach calls fn for every user of a tenant, by email.
func (s Queries) UserEach(ctx context.Context, tenant string, fn func(*schema.User) error) error {
	return EachUser(ctx, s.q, tenant, fn)
}

// UserEachWhere calls fn for every user of a tenant the filter keeps, by email.
func (s Queries) UserEachWhere(ctx context.Context, tenant string, f schema.UserFilter, fn func(*schema.User) error) error {
	return EachUserWhere(ctx, s.q, tenant, f, fn)
}

// UserFetchByEmails returns the users of a tenant with these emails, by email.
func (s Queries) UserFetchByEmails(ctx context.Context, tenant string, emails []string) (map[string]*schema.User, error) {
	return FetchUsers(ctx, s.q, tenant, emails)
}

// UsernameHolderFetch returns the users holding any of the usernames.
func (s Queries) UsernameHolderFetch(ctx context.Context, p schema.UsernameHolderParams) ([]schema.UsernameHolder, error) {
	return FetchUsernameHolders(ctx, s.q, p.Tenant, p.PBXes, p.Usernames)
}

// VersionOriginFetch returns, for users whose Version is stale, what
// changed them since (see VersionOrigins).
func (s Queries) VersionOriginFetch(ctx context.Context, tenant string, users []schema.StaleUser) (map[string]schema.VersionOrigin, error) {
	return VersionOrigins(ctx, s.q, tenant, users)
}

// OrgStateGet returns the state of a tenant a saved plan records.
func (s Queries) OrgStateGet(ctx context.Context, tenant string) (schema.OrgState, error) {
	return LoadOrgState(ctx, s.q, tenant)
}

// OrgStateGetSeatsCounted returns the state of a tenant but for the seats
// in use, which the caller counted already (OrgStateWithSeatsUsed).
func (s Queries) OrgStateGetSeatsCounted(ctx context.Context, tenant string, premiumUsed, standardUsed int) (schema.OrgState, error) {
	return OrgStateWithSeatsUsed(ctx, s.q, tenant, premiumUsed, standardUsed)
}

// SyncCandidateCount counts a tenant's active members and those of them a
// --sync would deactivate (into the temporary ccbulk_missing).
func (s Queries) SyncCandidateCount(ctx context.Context, tenant string) (active, missing int, err error) {
	return SyncCandidates(ctx, s.q, tenant)
}

// MissingEmailList returns up to limit emails of ccbulk_missing.
func (s Queries) MissingEmailList(ctx context.Context, limit int) ([]string, error) {
	return MissingEmails(ctx, s.q, limit)
}

// MissingEach calls fn for each user of ccbulk_missing.
func (s Queries) MissingEach(ctx context.Context, tenant string, fn func(u *schema.User) error) error {
	return EachMissing(ctx, s.q, tenant, fn)
}

// BatchStart inserts b, running, and sets its ID and start.
func (s Queries) BatchStart(ctx context.Context, b *schema.Batch) error {
	return StartBatch(ctx, s.q, b)
}

// BatchFinish records the end of b (its status, counts and error).
func (s Queries) BatchFinish(ctx context.Context, b *schema.Batch) error {
	return FinishBatch(ctx, s.q, b)
}

// BatchFinishIfRunning records the end of b if it is still running, and
// reports whether it was.
func (s Queries) BatchFinishIfRunning(ctx context.Context, b *schema.Batch) (bool, error) {
	return FinishBatchIfRunning(ctx, s.q, b)
}

// BatchDiscard removes a running batch that applied nothing.
func (s Queries) BatchDiscard(ctx context.Context, tenant string, id int64) error {
	return DiscardBatch(ctx, s.q, tenant, id)
}

// BatchStatusGet returns the status of a batch of a tenant.
func (s Queries) BatchStatusGet(ctx context.Context, tenant string, id int64) (string, error) {
	return BatchStatus(ctx, s.q, tenant, id)
}

// BatchGet returns a batch by id (ErrNotFound when none).
func (s Queries) BatchGet(ctx context.Context, id int64) (schema.Batch, error) {
	return GetBatch(ctx, s.q, id)
}

// PlanAppliedBy returns the batch that applied the saved plan of this
// SHA-256 in a tenant (0 when none).
func (s Queries) PlanAppliedBy(ctx context.Context, tenant, sha string) (int64, error) {
	return PlanAppliedBy(ctx, s.q, tenant, sha)
}

// PlanRecord records the saved plan a batch applies (see RecordPlan).
func (s Queries) PlanRecord(ctx context.Context, p schema.PlanRecordParams) error {
	return RecordPlan(ctx, s.q, p.Tenant, p.Batch, p.Author, p.SHA256)
}

// ChangeEach calls fn for each user a batch changed (the audit trail).
func (s Queries) ChangeEach(ctx context.Context, tenant string, batch int64, fn func(schema.UserChange) error) error {
	return EachChange(ctx, s.q, tenant, batch, fn)
}

// ChangeEachWithHome is ChangeEach with each user's Home Organization.
func (s Queries) ChangeEachWithHome(ctx context.Context, tenant string, batch int64, fn func(schema.UserChange) error) error {
	return EachChangeWithHome(ctx, s.q, tenant, batch, fn)
}

// ActivationPendingCount counts the activation requests of a batch an
// undo withdraws and those already sent.
func (s Queries) ActivationPendingCount(ctx context.Context, tenant string, batch int64) (withdraw, sent int, err error) {
	return PendingActivations(ctx, s.q, tenant, batch)
}

// UndoConflictList returns the users changed since the batch (up to
// Limit) and how many there are.
func (s Queries) UndoConflictList(ctx context.Context, p schema.UndoConflictParams) ([]schema.UndoConflict, int, error) {
	return UndoConflicts(ctx, s.q, p.Tenant, p.Batch, p.Limit)
}

// DB is the pool, as every package but this one reaches it: the importer
// and the exporter through their interfaces, the front ends through its
// methods (pool.go, front.go, runs.go). The pool itself is not exported.
type DB struct {
	Queries
	db *sqlx.DB
}

// New wraps a pool opened elsewhere (the tests' database, internal/testdb);
// Open and OpenWith return one wrapped already.
func New(db *sqlx.DB) *DB { return &DB{Queries: Queries{q: db}, db: db} }

// PlanKey returns the installation's key that seals saved plans.
func (d *DB) PlanKey(ctx context.Context) ([]byte, error) { return PlanKey(ctx, d.db) }

// ConnOpen takes a connection of the pool for a run; Close returns it.
func (d *DB) ConnOpen(ctx context.Context) (*Conn, error) {
	c, err := d.db.Connx(ctx)
	if err != nil {
		return nil, Explain(err)
	}
	return &Conn{Queries: Queries{q: c}, conn: c}, nil
}

// SnapshotOpen opens a Snapshot on a connection of the pool.
func (d *DB) SnapshotOpen(ctx context.Context) (*Snapshot, error) { return OpenSnapshot(ctx, d.db) }

// Conn is one connection of the pool, held by a run: the tenant's lock is
// the connection's.
type Conn struct {
	Queries
	conn *sqlx.Conn
}

// TenantLock takes the tenant's lock, waiting up to wait (*LockedError
// when another run holds it).
func (c *Conn) TenantLock(ctx context.Context, tenant string, wait time.Duration) error {
	return Lock(ctx, c.conn, tenant, wait)
}

// TenantUnlock releases the tenant's lock.
func (c *Conn) TenantUnlock(ctx context.Context, tenant string) error {
	return Unlock(ctx, c.conn, tenant)
}

// TxBegin begins the connection's transaction. Until it ends, the
// connection is written only through the Tx.
func (c *Conn) TxBegin(ctx context.Context) (*Tx, error) {
	tx, err := c.conn.BeginTxx(ctx, nil)
	if err != nil {
		return nil, Explain(err)
	}
	return &Tx{Queries: Queries{q: tx}, tx: tx, conn: c.conn}, nil
}

// Close returns the connection to the pool.
func (c *Conn) Close() error { return c.conn.Close() }

// Tx is the transaction of a Conn: every statement of the transaction,
// its COPYs included (which lib/pq runs on the connection itself), goes
// through it.
type Tx struct {
	Queries
	tx   *sqlx.Tx
	conn *sqlx.Conn
}

// Commit commits; an error wraps ErrCommit (and ErrConnectionLost when
// the connection broke: whether it committed is then unknown).
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return Explain(fmt.Errorf("%w: %w", ErrCommit, err))
	}
	return nil
}

// Rollback rolls back; after a commit it does nothing.
func (t *Tx) Rollback() error { return t.tx.Rollback() }

// StagingCreate creates the transaction's temporary staging tables.
func (t *Tx) StagingCreate(ctx context.Context) error { return CreateStaging(ctx, t.tx) }

// UserCreate copies new users into users with their audit rows and
// activation requests (see Create).
func (t *Tx) UserCreate(ctx context.Context, p schema.UserCreateParams) error {
	return Create(ctx, t.conn, p.Tenant, p.Batch, p.Users)
}

// UserStage copies users that exist into the staging table (see Stage).
func (t *Tx) UserStage(ctx context.Context, rows []schema.Staged) error {
	return Stage(ctx, t.conn, rows)
}

// ListedStage copies the emails a --sync sheet lists (see StageListed).
func (t *Tx) ListedStage(ctx context.Context, emails []string) error {
	return StageListed(ctx, t.conn, emails)
}

// DeactivationStage copies the emails a saved plan deactivates.
func (t *Tx) DeactivationStage(ctx context.Context, emails []string) error {
	return StageDeactivations(ctx, t.conn, emails)
}

// UserMerge writes the staged users with their audit rows (see Merge).
func (t *Tx) UserMerge(ctx context.Context, tenant string, batch int64) (int64, error) {
	return Merge(ctx, t.tx, tenant, batch)
}

// UserDeactivate sets the users of ccbulk_missing inactive (see Deactivate).
func (t *Tx) UserDeactivate(ctx context.Context, tenant string, batch int64) ([]string, error) {
	return Deactivate(ctx, t.tx, tenant, batch)
}

// UsernameCheck checks the deferred username constraint now
// (ErrUsernameTaken).
func (t *Tx) UsernameCheck(ctx context.Context) error { return CheckUsernames(ctx, t.tx) }

// UserStateLock locks the users of a tenant with these emails and returns
// their states (see LockUserStates).
func (t *Tx) UserStateLock(ctx context.Context, tenant string, emails []string) (map[string]string, error) {
	return LockUserStates(ctx, t.tx, tenant, emails)
}

// UndoApply reverts a batch (see ApplyUndo).
func (t *Tx) UndoApply(ctx context.Context, p schema.UndoApplyParams) (schema.UndoCounts, error) {
	return ApplyUndo(ctx, t.tx, p.Tenant, p.Batch, p.Undo)
}
