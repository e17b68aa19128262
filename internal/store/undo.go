package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ccbulk/ccbulk/schema"
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

// undoDriftQuery lists, in email order, at most $3 users of batch $2 of
// tenant $1 whose current row differs from what the batch left, with how
// many there are in all: a user the batch left in place that is gone, or
// one it deleted that is back, or the fields (with their values now) that
// differ from those it wrote (for a user it created, a field it left blank
// or false that is not so now). Later batches whose changes were undone
// since, so that the user holds again what the batch left, do not count:
// only the values do.
//
// It reads the batch's own audit rows and looks each of their users up by
// key, never joining the audit trail to itself: right after a large batch
// the trail's statistics are stale, and the planner then took such a join
// for a few rows and read the trail once per user.
const undoDriftQuery = `
		WITH mine AS (
			SELECT email, old_values IS NULL AS created, new_values IS NULL AS deleted,
				coalesce(new_values, '{}')::jsonb AS after
			FROM user_changes WHERE tenant_id = $1 AND batch_id = $2),
		drift AS (
			SELECT m.email, m.deleted, u.email IS NOT NULL AS present,
				CASE WHEN m.deleted OR u.email IS NULL THEN '{}'::jsonb
				ELSE (SELECT coalesce(jsonb_object_agg(v.field, v.value), '{}') FROM ` + userValues + `
					WHERE (m.after ? v.field AND m.after ->> v.field IS DISTINCT FROM v.value)
					   OR (m.created AND NOT m.after ? v.field AND v.value NOT IN ('', 'false')))
				END AS now
			FROM mine m LEFT JOIN users u ON u.tenant_id = $1 AND u.email = m.email)
		SELECT email, deleted, present, now::text AS now, count(*) OVER () AS total
		FROM drift WHERE deleted = present OR now <> '{}'
		ORDER BY email LIMIT $3`

// undoLaterQuery returns the audit rows of the batches after batch $2 of
// tenant $1 for the users $3, each user's newest first: one pass over the
// block ranges of the trail from the batch on (its BRIN index).
const undoLaterQuery = `
		SELECT email, batch_id, old_values IS NULL AS created, new_values IS NULL AS deleted,
			coalesce(new_values::text, '{}') AS after
		FROM user_changes WHERE tenant_id = $1 AND batch_id > $2 AND email = ANY($3)
		ORDER BY email, batch_id DESC`

// UndoConflicts returns, in email order, the users of the batch whose
// values differ now from those the batch left: undoing the batch would
// overwrite changes made since. For each it names the later batches whose
// changes stand, or says the user was changed outside ccbulk. It returns
// at most limit of them, and how many there are.
func UndoConflicts(ctx context.Context, q Querier, tenant string, batch int64, limit int) ([]schema.UndoConflict, int, error) {
	var drifted []struct {
		Email   string `db:"email"`
		Deleted bool   `db:"deleted"` // the batch deleted the user
		Present bool   `db:"present"` // the user exists now
		Now     string `db:"now"`     // the fields that differ, with their values now
		Total   int    `db:"total"`
	}
	// At least one row, which carries the total.
	if err := sqlx.SelectContext(ctx, q, &drifted, undoDriftQuery, tenant, batch, max(limit, 1)); err != nil {
		return nil, 0, Explain(err)
	}
	if len(drifted) == 0 {
		return nil, 0, nil
	}
	total := drifted[0].Total
	drifted = drifted[:min(len(drifted), max(limit, 0))]
	emails := make([]string, len(drifted))
	for i, d := range drifted {
		emails[i] = d.Email
	}
	var later []struct {
		Email   string `db:"email"`
		Batch   int64  `db:"batch_id"`
		Created bool   `db:"created"`
		Deleted bool   `db:"deleted"`
		After   string `db:"after"`
	}
	if err := sqlx.SelectContext(ctx, q, &later, undoLaterQuery, tenant, batch, pq.StringArray(emails)); err != nil {
		return nil, 0, Explain(err)
	}
	conflicts := make([]schema.UndoConflict, len(drifted))
	j := 0 // the first of later's rows not yet looked at
	for i, d := range drifted {
		var rows []laterChange // the user's, newest first
		for j < len(later) && later[j].Email < d.Email {
			j++
		}
		for ; j < len(later) && later[j].Email == d.Email; j++ {
			l := later[j]
			after, err := auditValues(l.After)
			if err != nil {
				return nil, 0, fmt.Errorf("batch %d, %s: %w", l.Batch, l.Email, err)
			}
			rows = append(rows, laterChange{batch: l.Batch, created: l.Created, deleted: l.Deleted, after: after})
		}
		now, err := auditValues(d.Now)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", d.Email, err)
		}
		c := schema.UndoConflict{Email: d.Email}
		blame := func(b int64, ok bool) {
			if !ok {
				c.Outside = true
			} else if !slices.Contains(c.Batches, b) {
				c.Batches = append(c.Batches, b)
			}
		}
		switch d.Deleted {
		case d.Present: // gone, or back
			blame(existedBy(rows, d.Present))
		default:
			for _, f := range slices.Sorted(maps.Keys(now)) {
				blame(fieldBy(rows, f, now[f]))
			}
		}
		slices.Sort(c.Batches)
		conflicts[i] = c
	}
	return conflicts, total, nil
}

// laterChange is a later batch's audit row of a user.
type laterChange struct {
	batch            int64
	created, deleted bool
	after            map[string]string
}

// existedBy returns the batch whose change left the user present (or gone)
// as it is now: the latest later batch to touch the user, if it re-created
// (or deleted) it.
func existedBy(rows []laterChange, present bool) (int64, bool) {
	if len(rows) == 0 {
		return 0, false
	}
	r := rows[0]
	return r.batch, present && r.created || !present && r.deleted
}

// fieldBy returns the batch that gave the user's field the value it holds
// now: the latest later batch to set the field, if it set that value.
func fieldBy(rows []laterChange, field, value string) (int64, bool) {
	for _, r := range rows {
		switch {
		case r.deleted:
			return 0, false // the user was re-created since, outside ccbulk
		case r.created:
			v, ok := r.after[field]
			if !ok && (field == "premium" || field == "standard") {
				v = "false" // a created user's record leaves out what is blank or false
			}
			return r.batch, v == value
		}
		if v, ok := r.after[field]; ok {
			return r.batch, v == value
		}
	}
	return 0, false
}

// auditValues reads an audit record, a JSON object of field values as text.
func auditValues(s string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("reading the audit trail: %w", err)
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case nil:
			m[k] = ""
		case string:
			m[k] = v
		default:
			m[k] = fmt.Sprint(v)
		}
	}
	return m, nil
}

// ErrUndoBreaksRule is wrapped when the state the undo would restore breaks
// a rule today (a username taken since, seats used since;
// schema.ErrUndoBreaksRule).
var ErrUndoBreaksRule = schema.ErrUndoBreaksRule

// ApplyUndo reverses batch in tx as batch undo (see the comment at the top
// of this file), withdraws the batch's unsent activation requests and those
// of the users it deletes, and checks the seats of the tenant. The caller
// holds the tenant's lock and has checked UndoConflicts.
func ApplyUndo(ctx context.Context, tx *sqlx.Tx, tenant string, batch, undo int64) (schema.UndoCounts, error) {
	var n schema.UndoCounts
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
			updated_at = now(), version = pg_current_xact_id()::text::bigint
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
