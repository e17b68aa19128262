package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/jsontext"
	"github.com/ccbulk/ccbulk/internal/version"
	"github.com/ccbulk/ccbulk/schema"
)

// RunEndedMessage is the error recorded for a batch found still running by the
// next run on its tenant: its process stopped, or lost its connection,
// before it could record an outcome, and its transaction was rolled back.
const RunEndedMessage = "its run ended before recording an outcome (the process stopped or lost its connection); its transaction was rolled back, so nothing of it was applied"

// ErrLocked is wrapped when another run holds the tenant's lock
// (schema.ErrLocked).
var ErrLocked = schema.ErrLocked

// LockedError says which batch holds a tenant's lock (schema.LockedError).
type LockedError = schema.LockedError

// Lock takes the tenant's advisory lock on conn, a connection held for the
// whole run (a lock taken through the pool could be released silently when
// the pool closes its connection). It waits up to wait, then fails with a
// *LockedError naming the batch that holds the lock. The lock ends with
// Unlock or with the connection (a killed process releases it).
//
// Once it holds the lock it marks failed the tenant's batches still
// recorded as running: their process died before it could say so.
func Lock(ctx context.Context, conn *sqlx.Conn, tenant string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	// The holder records its running batch just after taking the lock: give
	// it a moment so that the refusal can name the batch.
	naming := time.Time{}
	for {
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock(hashtextextended('ccbulk:' || $1, 0))`, tenant); err != nil {
			return Explain(err)
		}
		if ok {
			_, err := conn.ExecContext(ctx, `UPDATE batches SET status = 'failed', finished_at = now(), error = $2
				WHERE tenant_id = $1 AND status = 'running'`, tenant, RunEndedMessage)
			return Explain(err)
		}
		pause := 200 * time.Millisecond
		if now := time.Now(); now.After(deadline) {
			var id sql.NullInt64
			if err := conn.GetContext(ctx, &id, `SELECT max(id) FROM batches WHERE tenant_id = $1 AND status = 'running'`, tenant); err != nil {
				return Explain(err)
			}
			if naming.IsZero() {
				naming = now.Add(2 * time.Second)
			}
			if id.Valid || now.After(naming) {
				return &LockedError{Tenant: tenant, Batch: id.Int64}
			}
			pause = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// Unlock releases the tenant's advisory lock.
func Unlock(ctx context.Context, conn *sqlx.Conn, tenant string) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtextextended('ccbulk:' || $1, 0))`, tenant)
	return err
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// NullText is s as a JSON value: nil (null) when it is NULL.
func NullText(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// StartBatch records a running batch, committed at once so that a second
// run can name it, and returns its id. It records the host name of this
// machine and ccbulk's version unless b names them; the server records
// the database user and the client's address itself.
func StartBatch(ctx context.Context, q Querier, b *schema.Batch) error {
	if !b.ClientHost.Valid {
		if host, err := os.Hostname(); err == nil {
			b.ClientHost = sql.NullString{String: host, Valid: true}
		}
	}
	if !b.Version.Valid {
		b.Version = sql.NullString{String: version.String(), Valid: true}
	}
	err := sqlx.GetContext(ctx, q, b, `INSERT INTO batches (tenant_id, kind, actor, file_name, file_sha256, mode, undo_of, status, client_host, ccbulk_version, origin_kind, origin_ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10, $11) RETURNING id, started_at, db_user, host(client_addr) AS client_addr`,
		b.Tenant, b.Kind, b.Actor, b.FileName, b.FileSHA256, b.Mode, b.UndoOf, b.ClientHost, b.Version, nullable(b.Origin.Kind), nullable(b.Ref))
	if err == nil {
		b.Status = "running"
	}
	return Explain(err)
}

// maxErrorLen bounds the error a batch records (bytes).
const maxErrorLen = 2000

// outcome returns what a finished batch records: a batch that did not
// apply created, changed, deactivated, deleted and withdrew nothing,
// whatever its run had counted (the rows it read, rejected and found
// unchanged stay), and only such a batch records an error, at most
// maxErrorLen bytes of valid UTF-8.
func outcome(b *schema.Batch) (schema.Batch, sql.NullString) {
	o := *b
	if o.Status == "applied" {
		return o, sql.NullString{}
	}
	o.Created, o.Updated, o.Deactivated, o.Deleted, o.Withdrawn = 0, 0, 0, 0, 0
	msg := strings.ToValidUTF8(strings.TrimSpace(b.Error.String), "\uFFFD")
	if len(msg) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return o, sql.NullString{String: msg, Valid: b.Error.Valid && msg != ""}
}

// FinishBatch records a batch's counts, file digest and final status, and
// for a batch that did not apply the error that ended it (see outcome); an
// applied batch is finished in the transaction that applied it. It
// fails when the batch is no longer recorded (removed while it ran), so
// that a transaction it is part of never commits changes without their
// batch.
func FinishBatch(ctx context.Context, q Querier, b *schema.Batch) error {
	o, msg := outcome(b)
	// An applied batch records the transaction that applied it (its
	// caller's: FinishBatch runs in the transaction that wrote the users),
	// the version it gave the users it wrote (migration 0010).
	res, err := q.ExecContext(ctx, `UPDATE batches SET status = $3, finished_at = now(), rows = $4, created = $5, updated = $6,
		unchanged = $7, deactivated = $8, rejected = $9, warnings = $10, file_sha256 = $11, deleted = $12, withdrawn = $13, error = $14,
		xact = CASE WHEN $3 = 'applied' THEN pg_current_xact_id()::text::bigint END
		WHERE tenant_id = $1 AND id = $2`,
		o.Tenant, o.ID, o.Status, o.Rows, o.Created, o.Updated, o.Unchanged, o.Deactivated, o.Rejected, o.Warnings, o.FileSHA256, o.Deleted, o.Withdrawn, msg)
	if err != nil {
		return Explain(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("batch %d of %s is no longer recorded, so its outcome cannot be; nothing of it was applied", o.ID, o.Tenant)
	}
	return nil
}

// DiscardBatch removes a batch that applied nothing (running or failed, no
// audit rows): a run that refused its file part-way through leaves no
// trace. An applied batch is never removed (nor, migration 0009, an
// aborted one, or one with audit rows).
func DiscardBatch(ctx context.Context, q Querier, tenant string, id int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM batches b WHERE b.tenant_id = $1 AND b.id = $2 AND b.status IN ('running', 'failed')
		AND NOT EXISTS (SELECT 1 FROM user_changes c WHERE c.tenant_id = $1 AND c.batch_id = $2)`, tenant, id)
	return Explain(err)
}

// FinishBatchIfRunning is FinishBatch for a run that did not apply
// (aborted or failed): it records the outcome only while the batch is
// still recorded as running, so that it can be called on a fresh
// connection after the run's own connection broke (when the commit's
// outcome is unknown, a committed batch stays applied). It reports whether
// it recorded the outcome.
func FinishBatchIfRunning(ctx context.Context, q Querier, b *schema.Batch) (bool, error) {
	o, msg := outcome(b)
	res, err := q.ExecContext(ctx, `UPDATE batches SET status = $3, finished_at = now(), rows = $4, created = $5, updated = $6,
		unchanged = $7, deactivated = $8, rejected = $9, warnings = $10, file_sha256 = $11, deleted = $12, withdrawn = $13, error = $14
		WHERE tenant_id = $1 AND id = $2 AND status = 'running'`,
		o.Tenant, o.ID, o.Status, o.Rows, o.Created, o.Updated, o.Unchanged, o.Deactivated, o.Rejected, o.Warnings, o.FileSHA256, o.Deleted, o.Withdrawn, msg)
	if err != nil {
		return false, Explain(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// BatchStatus returns the recorded status of a batch.
func BatchStatus(ctx context.Context, q Querier, tenant string, id int64) (string, error) {
	var status string
	err := sqlx.GetContext(ctx, q, &status, `SELECT status FROM batches WHERE tenant_id = $1 AND id = $2`, tenant, id)
	return status, Explain(err)
}

const batchColumns = `b.id, b.tenant_id, b.kind, b.actor, b.file_name, b.file_sha256, b.mode, b.undo_of, b.started_at,
	b.finished_at, b.rows, b.created, b.updated, b.unchanged, b.deactivated, b.rejected, b.warnings, b.deleted, b.withdrawn, b.status,
	b.db_user, host(b.client_addr) AS client_addr, b.client_host, b.ccbulk_version, b.error, b.plan_sha256, b.plan_actor,
	coalesce(b.origin_kind, '') AS origin_kind, coalesce(b.origin_ref, '') AS origin_ref,
	(SELECT u.id FROM batches u WHERE u.tenant_id = b.tenant_id AND u.undo_of = b.id AND u.status = 'applied') AS undone_by`

// GetBatch returns a batch by id (batch ids are unique over all tenants).
func GetBatch(ctx context.Context, q Querier, id int64) (schema.Batch, error) {
	var b schema.Batch
	err := sqlx.GetContext(ctx, q, &b, `SELECT `+batchColumns+` FROM batches b WHERE b.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("batch %d: %w", id, ErrNotFound)
	}
	return b, Explain(err)
}

// stagingColumns are the columns of the staging table, in COPY order: the
// row, the activation flag, then the user's fields as copyLine.user writes
// them.
var stagingColumns = []string{"row", "send_activation", "email", "first_name", "last_name", "display_name",
	"username", "pbx", "status", "home_org", "premium", "standard", "admin_role", "cc_role"}

// createColumns are the columns Create copies into users: the tenant, then
// the user's fields as copyLine.user writes them.
var createColumns = []string{"tenant_id", "email", "first_name", "last_name", "display_name", "username", "pbx",
	"status", "home_org", "premium", "standard", "admin_role", "cc_role"}

// CreateStaging creates the transaction's staging tables.
func CreateStaging(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TEMP TABLE ccbulk_staging (
			row integer NOT NULL, send_activation boolean NOT NULL,
			email text COLLATE "C" NOT NULL, first_name text NOT NULL, last_name text NOT NULL, display_name text NOT NULL,
			username text NOT NULL, pbx text NOT NULL, status text NOT NULL, home_org text NOT NULL,
			premium boolean NOT NULL, standard boolean NOT NULL, admin_role text NOT NULL, cc_role text NOT NULL
		) ON COMMIT DROP;
		CREATE TEMP TABLE ccbulk_listed (email text COLLATE "C" NOT NULL) ON COMMIT DROP;
		SET CONSTRAINTS users_username_per_pbx DEFERRED;`)
	return Explain(err)
}

// Stage copies a chunk of staged users into the staging table with COPY,
// on conn, the connection of the batch's transaction.
func Stage(ctx context.Context, conn *sqlx.Conn, rows []schema.Staged) error {
	err := copyRows(ctx, conn, pq.CopyIn("ccbulk_staging", stagingColumns...), len(rows), func(l *copyLine, i int) error {
		l.Int(int64(rows[i].Row))
		l.Bool(rows[i].SendActivation)
		l.user(&rows[i].User, l.Text) // a blank field is '' in the staging table
		return nil
	})
	return Explain(err)
}

// mergeByEmail returns the users of every chunk in email order (among
// equal emails, an earlier chunk's first).
func mergeByEmail(chunks []schema.NewUsers) []*schema.Staged {
	total := 0
	for _, c := range chunks {
		total += c.Len()
	}
	merged := make([]*schema.Staged, 0, total)
	next := make([]int, len(chunks)) // each chunk's next user, in its order
	head := func(c int) *schema.Staged { return chunks[c].At(next[c]) }
	for len(merged) < total {
		first := -1
		for c := range chunks {
			if next[c] < chunks[c].Len() && (first < 0 || head(c).User.Email < head(first).User.Email) {
				first = c
			}
		}
		merged = append(merged, head(first))
		next[first]++
	}
	return merged
}

// Create inserts new users with COPY, straight into users, with their
// audit rows and activation requests, on conn, the connection of the
// batch's transaction: nothing in the database needs to be compared for a
// user that did not exist, so the server writes them while the client
// reads and checks the next rows. The caller's look-ups must not see these
// rows (they read the state before the batch: see OpenSnapshot); the
// validator knows them as rows of the file. A new user's activation request
// is queued as it is: none can be pending for a user that did not exist (an
// undo withdraws those of the users it deletes).
//
// The users of every chunk are written together, in email order: so the
// inserts walk the indexes on email once instead of jumping about them (a
// tenth less server time for a million new users). Each chunk comes
// sorted (SortNewUsers, by the goroutine that checks it); they are merged
// here.
func Create(ctx context.Context, conn *sqlx.Conn, tenant string, batch int64, chunks []schema.NewUsers) error {
	rows := mergeByEmail(chunks)
	err := copyRows(ctx, conn, pq.CopyIn("users", createColumns...), len(rows), func(l *copyLine, i int) error {
		l.Text(tenant)
		l.user(&rows[i].User, l.TextOrNull) // a blank field is NULL in users
		return nil
	})
	if err != nil {
		return explainMerge(err)
	}
	var values []byte
	err = copyRows(ctx, conn, pq.CopyIn("user_changes", "tenant_id", "batch_id", "email", "new_values"), len(rows), func(l *copyLine, i int) error {
		u := &rows[i].User
		values = appendCreatedValues(values[:0], u)
		l.Text(tenant)
		l.Int(batch)
		l.Text(u.Email)
		l.TextBytes(values)
		return nil
	})
	if err != nil {
		return Explain(fmt.Errorf("audit: %w", err))
	}
	activate := slices.DeleteFunc(rows, func(s *schema.Staged) bool { return !s.SendActivation })
	err = copyRows(ctx, conn, pq.CopyIn("activation_outbox", "tenant_id", "email", "batch_id"), len(activate), func(l *copyLine, i int) error {
		l.Text(tenant)
		l.Text(activate[i].User.Email)
		l.Int(batch)
		return nil
	})
	if err != nil {
		return Explain(fmt.Errorf("activation outbox: %w", err))
	}
	return nil
}

// appendCreatedValues appends the audit record of a new user, a JSON
// object of its fields that are not blank or false, as text, by name (as
// auditQuery writes them; the trail stores the text as it is: migration
// 0007).
func appendCreatedValues(dst []byte, u *schema.User) []byte {
	flag := func(b bool) string {
		if b {
			return "true"
		}
		return ""
	}
	dst = append(dst, '{')
	for _, f := range [...]struct{ key, value string }{
		{"admin_role", string(u.AdminRole)},
		{"cc_role", u.CCRole},
		{"display_name", u.DisplayName},
		{"first_name", u.FirstName},
		{"home_org", u.HomeOrg},
		{"last_name", u.LastName},
		{"pbx", u.PBX},
		{"premium", flag(u.Premium)},
		{"standard", flag(u.Standard)},
		{"status", string(u.Status)},
		{"username", u.Username},
	} {
		if f.value == "" {
			continue
		}
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = jsontext.AppendString(dst, f.key)
		dst = append(dst, ':')
		dst = jsontext.AppendString(dst, f.value)
	}
	return append(dst, '}')
}

// StageListed copies emails the sheet lists (for --sync) into a staging
// table, on conn, the connection of the batch's transaction.
func StageListed(ctx context.Context, conn *sqlx.Conn, emails []string) error {
	err := copyRows(ctx, conn, pq.CopyIn("ccbulk_listed", "email"), len(emails), func(l *copyLine, i int) error {
		l.Text(emails[i])
		return nil
	})
	return Explain(err)
}

// auditQuery writes the audit rows of the staged users, one per user (see
// migration 0004): for a user that exists, the fields that change, before
// and after; for a new one, the fields that are not blank or false (fields
// as text: rules.Values writes them alike), by name, as appendCreatedValues
// writes them (the trail keeps the JSON text as it is: migration 0007). The
// staged users are joined to their current row once, in email order.
const auditQuery = `WITH j AS MATERIALIZED (
		SELECT s.email, u.email IS NULL AS is_new,
			coalesce(u.admin_role, '') AS old_admin_role, s.admin_role AS new_admin_role,
			coalesce(u.cc_role, '') AS old_cc_role, s.cc_role AS new_cc_role,
			u.display_name AS old_display_name, s.display_name AS new_display_name,
			u.first_name AS old_first_name, s.first_name AS new_first_name,
			coalesce(u.home_org, '') AS old_home_org, s.home_org AS new_home_org,
			u.last_name AS old_last_name, s.last_name AS new_last_name,
			u.pbx AS old_pbx, s.pbx AS new_pbx,
			u.premium::text AS old_premium, s.premium::text AS new_premium,
			u.standard::text AS old_standard, s.standard::text AS new_standard,
			u.status AS old_status, s.status AS new_status,
			u.username AS old_username, s.username AS new_username
		FROM ccbulk_staging s
		LEFT JOIN users u ON u.tenant_id = $1 AND u.email = s.email
		ORDER BY s.email),
	changed AS (
		SELECT j.email, j.is_new, v.field, v.old_value, v.new_value
		FROM j CROSS JOIN LATERAL (VALUES
			('admin_role', j.old_admin_role, j.new_admin_role),
			('cc_role', j.old_cc_role, j.new_cc_role),
			('display_name', j.old_display_name, j.new_display_name),
			('first_name', j.old_first_name, j.new_first_name),
			('home_org', j.old_home_org, j.new_home_org),
			('last_name', j.old_last_name, j.new_last_name),
			('pbx', j.old_pbx, j.new_pbx),
			('premium', j.old_premium, j.new_premium),
			('standard', j.old_standard, j.new_standard),
			('status', j.old_status, j.new_status),
			('username', j.old_username, j.new_username)
		) AS v(field, old_value, new_value)
		WHERE CASE WHEN j.is_new THEN v.new_value NOT IN ('', 'false')
		           ELSE v.old_value IS DISTINCT FROM v.new_value END)
	INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
	SELECT $1, $2, email, CASE WHEN bool_or(is_new) THEN NULL ELSE json_object_agg(field, old_value ORDER BY field) END,
		json_object_agg(field, new_value ORDER BY field)
	FROM changed GROUP BY email ORDER BY email`

// Merge applies the staging table to the tenant's users: the audit rows
// first (old values), then one upsert ordered by key that skips unchanged
// rows, then the activation requests. It returns the users it wrote.
func Merge(ctx context.Context, tx *sqlx.Tx, tenant string, batch int64) (int64, error) {
	// Memory for the sorts by key of a large batch (for this transaction only).
	_, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'; ANALYZE ccbulk_staging`)
	if err != nil {
		return 0, Explain(err)
	}
	_, err = tx.ExecContext(ctx, auditQuery, tenant, batch)
	if err != nil {
		return 0, Explain(fmt.Errorf("audit: %w", err))
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users AS u (tenant_id, email, first_name, last_name, display_name, username, pbx,
			status, home_org, premium, standard, admin_role, cc_role)
		SELECT $1, email, first_name, last_name, display_name, username, pbx, status, nullif(home_org, ''),
			premium, standard, nullif(admin_role, ''), nullif(cc_role, '')
		FROM ccbulk_staging ORDER BY email
		ON CONFLICT (tenant_id, email) DO UPDATE SET
			first_name = excluded.first_name, last_name = excluded.last_name, display_name = excluded.display_name,
			username = excluded.username, pbx = excluded.pbx, status = excluded.status, home_org = excluded.home_org,
			premium = excluded.premium, standard = excluded.standard, admin_role = excluded.admin_role,
			cc_role = excluded.cc_role, updated_at = now(), version = pg_current_xact_id()::text::bigint
		WHERE (u.first_name, u.last_name, u.display_name, u.username, u.pbx, u.status, u.home_org, u.premium, u.standard, u.admin_role, u.cc_role)
		   IS DISTINCT FROM (excluded.first_name, excluded.last_name, excluded.display_name, excluded.username, excluded.pbx,
		   excluded.status, excluded.home_org, excluded.premium, excluded.standard, excluded.admin_role, excluded.cc_role)`, tenant)
	if err != nil {
		return 0, explainMerge(err)
	}
	n, _ := res.RowsAffected()
	// The pending requests are not indexed by email (migration 0006): they
	// are matched to the staged users as a set, never one scan per user.
	_, err = execAsSets(ctx, tx, `INSERT INTO activation_outbox (tenant_id, email, batch_id)
		SELECT $1, s.email, $2 FROM ccbulk_staging s
		WHERE s.send_activation AND NOT EXISTS (
			SELECT 1 FROM activation_outbox o WHERE o.tenant_id = $1 AND o.email = s.email AND o.sent_at IS NULL)
		ORDER BY s.row`, tenant, batch)
	if err != nil {
		return n, Explain(fmt.Errorf("activation outbox: %w", err))
	}
	return n, nil
}

// execAsSets runs one statement with nested loops off, so that its joins
// are hash or merge joins whatever the planner makes of statistics that a
// batch has left stale (a nested loop over a table it thinks tiny reads
// that table once per row of the other). The setting is back to the
// server's own afterwards.
func execAsSets(ctx context.Context, q Querier, query string, args ...any) (sql.Result, error) {
	if _, err := q.ExecContext(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return nil, err
	}
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	_, err = q.ExecContext(ctx, `SET LOCAL enable_nestloop TO DEFAULT`)
	return res, err
}

func explainMerge(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "23" {
		return fmt.Errorf("the database refused the batch (%s: %s %s); nothing was applied", pqErr.Constraint, pqErr.Message, pqErr.Detail)
	}
	return Explain(fmt.Errorf("merge: %w", err))
}

// SyncCandidates counts the active members of the tenant, and those of them
// that --sync would deactivate: not listed, not the primary administrator.
// It keeps the latter in the temporary table ccbulk_missing for
// Deactivate.
//
// The members are matched to the listed emails once, as a set (a hash
// anti join, see execAsSets), without an index on the list, whose building
// cost a million-user sync more than the match itself. work_mem is raised
// for the rest of the transaction, as the merge does, so that the hash of
// a million emails stays in memory.
func SyncCandidates(ctx context.Context, q Querier, tenant string) (active, missing int, err error) {
	if _, err := q.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return 0, 0, Explain(err)
	}
	_, err = execAsSets(ctx, q, `CREATE TEMP TABLE ccbulk_missing ON COMMIT DROP AS
		SELECT u.email FROM users u
		WHERE u.tenant_id = $1 AND u.status = 'active' AND u.home_org IS NULL AND NOT u.is_primary
		  AND NOT EXISTS (SELECT 1 FROM ccbulk_listed l WHERE l.email = u.email)`, tenant)
	if err != nil {
		return 0, 0, Explain(err)
	}
	var row struct {
		Active  int `db:"active"`
		Missing int `db:"missing"`
	}
	err = sqlx.GetContext(ctx, q, &row, `SELECT
			(SELECT count(*) FROM users u WHERE u.tenant_id = $1 AND u.status = 'active' AND u.home_org IS NULL) AS active,
			(SELECT count(*) FROM ccbulk_missing) AS missing`, tenant)
	return row.Active, row.Missing, Explain(err)
}

// MissingEmails returns the first limit emails, in email order, of the
// members SyncCandidates found that --sync would deactivate.
func MissingEmails(ctx context.Context, q Querier, limit int) ([]string, error) {
	var emails []string
	err := sqlx.SelectContext(ctx, q, &emails, `SELECT email FROM ccbulk_missing ORDER BY email LIMIT $1`, limit)
	return emails, Explain(err)
}

// Deactivate sets Inactive the active members the sheet does not list
// (never the primary administrator, never external users), found by
// SyncCandidates, with audit rows, and returns their emails in order. A dry
// run passes batch 0: it writes no audit rows (there is no batch for them
// to refer to), and rolls back.
func Deactivate(ctx context.Context, tx *sqlx.Tx, tenant string, batch int64) ([]string, error) {
	var emails []string
	err := tx.SelectContext(ctx, &emails, `WITH gone AS (
			UPDATE users u SET status = 'inactive', updated_at = now(), version = pg_current_xact_id()::text::bigint
			FROM ccbulk_missing m
			WHERE u.tenant_id = $1 AND u.email = m.email
			  AND u.status = 'active' AND u.home_org IS NULL AND NOT u.is_primary
			RETURNING u.email),
		audit AS (
			INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
			SELECT $1, $2, email, '{"status": "active"}', '{"status": "inactive"}' FROM gone WHERE $2::bigint <> 0)
		SELECT email FROM gone ORDER BY email`, tenant, batch)
	return emails, Explain(err)
}
