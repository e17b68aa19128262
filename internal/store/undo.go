package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// How an undo works. The audit row of a batch for a user says the values of
// the fields it changed before (old_values) and after (new_values);
// old_values NULL means the batch created the user, new_values NULL means
// the batch deleted it (migration 0004). An undo applies the old values: it deletes
// the users the batch created, re-creates the users it deleted (fields it
// did not record take their defaults, as a created user's do), and sets the
// changed fields back. Its own audit rows are the batch's rows with old and
// new swapped, so that undoing an undo redoes the batch.

// userValues lists each stored field of the users row u as text, as the
// audit trail writes them.
const userValues = `(VALUES
	('first_name', u.first_name),
	('last_name', u.last_name),
	('display_name', u.display_name),
	('username', u.username),
	('pbx', u.pbx),
	('status', u.status),
	('home_org', coalesce(u.home_org, '')),
	('premium', u.premium::text),
	('standard', u.standard::text),
	('admin_role', coalesce(u.admin_role, '')),
	('cc_role', coalesce(u.cc_role, ''))
) AS v(field, value)`

// UndoConflict is a user an undo would reverse that has changed since the
// batch: Batches lists the later batches that changed the user; when it is
// empty, the user was changed outside ccbulk.
type UndoConflict struct {
	Email   string        `db:"email" json:"email"`
	Batches pq.Int64Array `db:"batches" json:"batches"`
}

// undoConflictsQuery lists the users of batch $2 of tenant $1 that a later
// batch changed, with those batches, and those changed outside ccbulk.
//
// The later batches are found by grouping the audit rows from the batch on
// by user, one pass over them, never by joining the audit trail to itself:
// right after a large batch its statistics are stale, and the planner then
// took the join for a few rows and read the trail once per user.
const undoConflictsQuery = `
		WITH mine AS (
			SELECT email, old_values IS NULL AS created, new_values IS NULL AS deleted,
				coalesce(new_values, '{}')::jsonb AS after
			FROM user_changes WHERE tenant_id = $1 AND batch_id = $2),
		later AS (
			SELECT email, array_agg(DISTINCT batch_id ORDER BY batch_id) FILTER (WHERE batch_id > $2) AS batches
			FROM user_changes WHERE tenant_id = $1 AND batch_id >= $2
			GROUP BY email
			HAVING bool_or(batch_id = $2) AND bool_or(batch_id > $2)),
		drifted AS (
			SELECT m.email FROM mine m
			LEFT JOIN users u ON u.tenant_id = $1 AND u.email = m.email
			WHERE CASE
				WHEN m.deleted THEN u.email IS NOT NULL
				WHEN u.email IS NULL THEN true
				ELSE EXISTS (SELECT 1 FROM ` + userValues + `
					WHERE (m.after ? v.field AND m.after ->> v.field IS DISTINCT FROM v.value)
					   OR (m.created AND NOT m.after ? v.field AND v.value NOT IN ('', 'false')))
			END)
		SELECT coalesce(l.email, d.email) AS email, coalesce(l.batches, '{}') AS batches
		FROM later l FULL JOIN drifted d ON d.email = l.email
		ORDER BY 1`

// UndoConflicts returns, in email order, the users of the batch that a
// later batch changed, or whose current values differ from those the batch
// left (changed outside ccbulk): undoing the batch would overwrite changes
// made since. It returns at most limit of them, and how many there are.
func UndoConflicts(ctx context.Context, q Querier, tenant string, batch int64, limit int) ([]UndoConflict, int, error) {
	var rows []UndoConflict
	err := sqlx.SelectContext(ctx, q, &rows, undoConflictsQuery, tenant, batch)
	if err != nil {
		return nil, 0, Explain(err)
	}
	n := len(rows)
	if n > limit {
		rows = rows[:limit]
	}
	return rows, n, nil
}

// UndoForbidden returns, in email order, the external users whose Contact
// Center Service Administrator role the batch granted or revoked: only a
// Full Administrator of the customer organization may change that back.
func UndoForbidden(ctx context.Context, q Querier, tenant string, batch int64) ([]string, error) {
	var emails []string
	err := sqlx.SelectContext(ctx, q, &emails, `
		SELECT c.email FROM user_changes c
		LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.email = c.email
		WHERE c.tenant_id = $1 AND c.batch_id = $2
		  AND 'cc_service' IN (c.old_values ->> 'admin_role', c.new_values ->> 'admin_role')
		  AND (u.home_org IS NOT NULL
		    OR coalesce(c.old_values ->> 'home_org', '') || coalesce(c.new_values ->> 'home_org', '') <> '')
		ORDER BY c.email`, tenant, batch)
	return emails, Explain(err)
}

// UndoCounts says what an undo did.
type UndoCounts struct {
	Users     int // users the undone batch changed
	Deleted   int // users it created, now deleted
	Recreated int // users it deleted, now re-created
	Restored  int // users whose changed fields were set back
	Withdrawn int // unsent activation requests withdrawn
	Sent      int // activation requests of the batch already sent (cannot be withdrawn)
}

// ErrUndoBreaksRule is wrapped when the state the undo would restore breaks
// a rule today (a username taken since, seats used since).
var ErrUndoBreaksRule = errors.New("the undo would break a rule")

// ApplyUndo reverses batch in tx as batch undo (see the comment at the top
// of this file), withdraws the batch's unsent activation requests and those
// of the users it deletes, and checks the seats of the tenant. The caller
// holds the tenant's lock and has checked UndoConflicts.
func ApplyUndo(ctx context.Context, tx *sqlx.Tx, tenant string, batch, undo int64) (UndoCounts, error) {
	var n UndoCounts
	var before struct {
		P int `db:"p"`
		S int `db:"s"`
	}
	if err := tx.GetContext(ctx, &before, `SELECT count(*) FILTER (WHERE premium) AS p, count(*) FILTER (WHERE standard) AS s FROM users WHERE tenant_id = $1`, tenant); err != nil {
		return n, Explain(err)
	}
	_, err := tx.ExecContext(ctx, `SET CONSTRAINTS users_username_per_pbx DEFERRED;
		CREATE TEMP TABLE ccbulk_undo (
			email text COLLATE "C" PRIMARY KEY, created boolean NOT NULL, deleted boolean NOT NULL,
			first_name text, last_name text, display_name text, username text, pbx text, status text,
			home_org text, premium boolean, standard boolean, admin_role text, cc_role text
		) ON COMMIT DROP`)
	if err != nil {
		return n, Explain(fmt.Errorf("undo: %w", err))
	}
	// The old value of each field the batch changed; NULL where it changed
	// nothing.
	_, err = tx.ExecContext(ctx, `INSERT INTO ccbulk_undo
		SELECT email, old_values IS NULL, new_values IS NULL,
			old_values ->> 'first_name', old_values ->> 'last_name', old_values ->> 'display_name',
			old_values ->> 'username', old_values ->> 'pbx', old_values ->> 'status', old_values ->> 'home_org',
			(old_values ->> 'premium')::boolean, (old_values ->> 'standard')::boolean,
			old_values ->> 'admin_role', old_values ->> 'cc_role'
		FROM user_changes WHERE tenant_id = $1 AND batch_id = $2`, tenant, batch)
	if err != nil {
		return n, Explain(fmt.Errorf("undo: %w", err))
	}
	if _, err := tx.ExecContext(ctx, `ANALYZE ccbulk_undo`); err != nil {
		return n, Explain(err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
		SELECT tenant_id, $3, email, new_values, old_values FROM user_changes WHERE tenant_id = $1 AND batch_id = $2`, tenant, batch, undo)
	if err != nil {
		return n, Explain(fmt.Errorf("undo audit: %w", err))
	}
	// The activation requests first: the users they name may be deleted.
	res, err := tx.ExecContext(ctx, `DELETE FROM activation_outbox o WHERE o.tenant_id = $1 AND o.sent_at IS NULL
		AND (o.batch_id = $2 OR o.email IN (SELECT email FROM ccbulk_undo WHERE created))`, tenant, batch)
	if err != nil {
		return n, Explain(fmt.Errorf("undo: withdrawing activation requests: %w", err))
	}
	n.Withdrawn = rowsAffected(res)
	if err := tx.GetContext(ctx, &n.Sent, `SELECT count(*) FROM activation_outbox WHERE tenant_id = $1 AND batch_id = $2`, tenant, batch); err != nil {
		return n, Explain(err)
	}
	if err := tx.GetContext(ctx, &n.Users, `SELECT count(*) FROM ccbulk_undo`); err != nil {
		return n, Explain(err)
	}
	res, err = tx.ExecContext(ctx, `DELETE FROM users u USING ccbulk_undo x WHERE u.tenant_id = $1 AND u.email = x.email AND x.created`, tenant)
	if err != nil {
		return n, explainUndo(err)
	}
	n.Deleted = rowsAffected(res)
	res, err = tx.ExecContext(ctx, `INSERT INTO users (tenant_id, email, first_name, last_name, display_name, username, pbx,
			status, home_org, premium, standard, admin_role, cc_role)
		SELECT $1, email, coalesce(first_name, ''), coalesce(last_name, ''), coalesce(display_name, ''), username, pbx,
			coalesce(status, 'active'), nullif(home_org, ''), coalesce(premium, false), coalesce(standard, false),
			nullif(admin_role, ''), nullif(cc_role, '')
		FROM ccbulk_undo WHERE deleted AND NOT created ORDER BY email`, tenant)
	if err != nil {
		return n, explainUndo(err)
	}
	n.Recreated = rowsAffected(res)
	res, err = tx.ExecContext(ctx, `UPDATE users u SET
			first_name = coalesce(x.first_name, u.first_name),
			last_name = coalesce(x.last_name, u.last_name),
			display_name = coalesce(x.display_name, u.display_name),
			username = coalesce(x.username, u.username),
			pbx = coalesce(x.pbx, u.pbx),
			status = coalesce(x.status, u.status),
			home_org = CASE WHEN x.home_org IS NULL THEN u.home_org ELSE nullif(x.home_org, '') END,
			premium = coalesce(x.premium, u.premium),
			standard = coalesce(x.standard, u.standard),
			admin_role = CASE WHEN x.admin_role IS NULL THEN u.admin_role ELSE nullif(x.admin_role, '') END,
			cc_role = CASE WHEN x.cc_role IS NULL THEN u.cc_role ELSE nullif(x.cc_role, '') END,
			updated_at = now()
		FROM ccbulk_undo x WHERE u.tenant_id = $1 AND u.email = x.email AND NOT x.created AND NOT x.deleted`, tenant)
	if err != nil {
		return n, explainUndo(err)
	}
	n.Restored = rowsAffected(res)
	if _, err := tx.ExecContext(ctx, `SET CONSTRAINTS users_username_per_pbx IMMEDIATE`); err != nil {
		return n, explainUndo(err)
	}
	var seats struct {
		P      int  `db:"p"`
		S      int  `db:"s"`
		PLimit *int `db:"premium_seats"`
		SLimit *int `db:"standard_seats"`
	}
	err = tx.GetContext(ctx, &seats, `SELECT count(*) FILTER (WHERE u.premium) AS p, count(*) FILTER (WHERE u.standard) AS s,
			t.premium_seats, t.standard_seats
		FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id WHERE t.id = $1 GROUP BY t.id`, tenant)
	if err != nil {
		return n, Explain(err)
	}
	if seats.PLimit != nil && seats.P > *seats.PLimit && seats.P > before.P {
		return n, fmt.Errorf("%w: it would give Contact Center Premium back to users, and %s would use %d Premium seats of %d (other users took them since)", ErrUndoBreaksRule, tenant, seats.P, *seats.PLimit)
	}
	if seats.SLimit != nil && seats.S > *seats.SLimit && seats.S > before.S {
		return n, fmt.Errorf("%w: it would give Contact Center Standard back to users, and %s would use %d Standard seats of %d (other users took them since)", ErrUndoBreaksRule, tenant, seats.S, *seats.SLimit)
	}
	return n, nil
}

func explainUndo(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "23" {
		what := pqErr.Message
		if pqErr.Constraint == "users_username_per_pbx" {
			what = "a username it would give back is held by another user now"
		}
		return fmt.Errorf("%w: %s (%s)", ErrUndoBreaksRule, what, pqErr.Detail)
	}
	return Explain(fmt.Errorf("undo: %w", err))
}

func rowsAffected(res interface{ RowsAffected() (int64, error) }) int {
	n, _ := res.RowsAffected()
	return int(n)
}
