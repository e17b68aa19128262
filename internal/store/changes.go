package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/jmoiron/sqlx"
)

// changesQuery reads the audit rows of batch $2 of tenant $1 in email
// order.
const changesQuery = `
		SELECT email, old_values IS NULL AS created, new_values IS NULL AS deleted,
			coalesce(old_values::text, '{}') AS old, coalesce(new_values::text, '{}') AS new, '' AS home
		FROM user_changes WHERE tenant_id = $1 AND batch_id = $2 ORDER BY email`

// changesHomeQuery is changesQuery with each user's home organization now.
const changesHomeQuery = `
		SELECT c.email, c.old_values IS NULL AS created, c.new_values IS NULL AS deleted,
			coalesce(c.old_values::text, '{}') AS old, coalesce(c.new_values::text, '{}') AS new,
			coalesce(u.home_org, '') AS home
		FROM user_changes c LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.email = c.email
		WHERE c.tenant_id = $1 AND c.batch_id = $2 ORDER BY c.email`

// EachChange calls fn with each user batch changed, in email order. Rows
// are read from the server one at a time as fn consumes them: a batch of a
// million users is never held in memory. An error of fn stops the
// iteration and is returned as it is.
func EachChange(ctx context.Context, q Querier, tenant string, batch int64, fn func(schema.UserChange) error) error {
	return eachChange(ctx, q, false, tenant, batch, fn)
}

// EachChangeWithHome is EachChange with UserChange.HomeNow filled in.
func EachChangeWithHome(ctx context.Context, q Querier, tenant string, batch int64, fn func(schema.UserChange) error) error {
	return eachChange(ctx, q, true, tenant, batch, fn)
}

func eachChange(ctx context.Context, q Querier, home bool, tenant string, batch int64, fn func(schema.UserChange) error) error {
	var rows *sqlx.Rows
	var err error
	if home {
		rows, err = q.QueryxContext(ctx, changesHomeQuery, tenant, batch)
	} else {
		rows, err = q.QueryxContext(ctx, changesQuery, tenant, batch)
	}
	if err != nil {
		return Explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r struct {
			Email   string `db:"email"`
			Created bool   `db:"created"`
			Deleted bool   `db:"deleted"`
			Old     string `db:"old"`
			New     string `db:"new"`
			Home    string `db:"home"`
		}
		if err := rows.StructScan(&r); err != nil {
			return Explain(err)
		}
		c := schema.UserChange{Email: r.Email, Created: r.Created, Deleted: r.Deleted, HomeNow: r.Home}
		if c.Old, err = auditValues(r.Old); err != nil {
			return fmt.Errorf("batch %d, %s: %w", batch, r.Email, err)
		}
		if c.New, err = auditValues(r.New); err != nil {
			return fmt.Errorf("batch %d, %s: %w", batch, r.Email, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return Explain(rows.Err())
}

// EachActivation calls fn with each activation request of batch that is
// on record (an undo withdraws unsent ones), in email order, reading them
// one at a time.
func EachActivation(ctx context.Context, q Querier, tenant string, batch int64, fn func(schema.Activation) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT email, sent_at FROM activation_outbox
		WHERE tenant_id = $1 AND batch_id = $2 ORDER BY email, id`, tenant, batch)
	if err != nil {
		return Explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a schema.Activation
		var sent sql.NullTime
		if err := rows.Scan(&a.Email, &sent); err != nil {
			return Explain(err)
		}
		if sent.Valid {
			sent.Time = sent.Time.In(time.UTC)
		}
		a.SentAt = sent
		if err := fn(a); err != nil {
			return err
		}
	}
	return Explain(rows.Err())
}

// PendingActivations counts the unsent activation requests an undo of
// batch would withdraw (the batch's own, and those of the users it
// created), and the batch's requests already sent.
func PendingActivations(ctx context.Context, q Querier, tenant string, batch int64) (withdraw, sent int, err error) {
	var n struct {
		W int `db:"w"`
		S int `db:"s"`
	}
	err = sqlx.GetContext(ctx, q, &n, `SELECT
			(SELECT count(*) FROM activation_outbox o WHERE o.tenant_id = $1 AND o.sent_at IS NULL
				AND (o.batch_id = $2 OR o.email IN (SELECT email FROM user_changes
					WHERE tenant_id = $1 AND batch_id = $2 AND old_values IS NULL))) AS w,
			(SELECT count(*) FROM activation_outbox WHERE tenant_id = $1 AND batch_id = $2 AND sent_at IS NOT NULL) AS s`,
		tenant, batch)
	return n.W, n.S, Explain(err)
}

// RecentBatches returns the tenant's batches newest first: the limit most
// recent, or all for limit 0.
func RecentBatches(ctx context.Context, q Querier, tenant string, limit int) ([]schema.Batch, error) {
	var bs []schema.Batch
	lim := sql.NullInt64{Int64: int64(limit), Valid: limit > 0}
	err := sqlx.SelectContext(ctx, q, &bs, `SELECT `+batchColumns+` FROM batches b WHERE b.tenant_id = $1 ORDER BY b.id DESC LIMIT $2`, tenant, lim)
	return bs, Explain(err)
}

// EachWithdrawal calls fn, in email order, with the email of each unsent
// activation request an undo of batch would withdraw: the batch's own, and
// those of the users it created.
func EachWithdrawal(ctx context.Context, q Querier, tenant string, batch int64, fn func(email string) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT o.email FROM activation_outbox o
		WHERE o.tenant_id = $1 AND o.sent_at IS NULL
		  AND (o.batch_id = $2 OR o.email IN (SELECT email FROM user_changes
			WHERE tenant_id = $1 AND batch_id = $2 AND old_values IS NULL))
		ORDER BY o.email, o.id`, tenant, batch)
	if err != nil {
		return Explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var email string
		if err := rows.Scan(&email); err != nil {
			return Explain(err)
		}
		if err := fn(email); err != nil {
			return err
		}
	}
	return Explain(rows.Err())
}
