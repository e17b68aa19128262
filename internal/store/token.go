package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/app"
)

const tokenColumns = `id, tenant_id, actor, name, created_at, last_used_at, expires_at, revoked_at`

type tokenRow struct {
	ID         int64        `db:"id"`
	Tenant     string       `db:"tenant_id"`
	Actor      string       `db:"actor"`
	Name       string       `db:"name"`
	CreatedAt  time.Time    `db:"created_at"`
	LastUsedAt sql.NullTime `db:"last_used_at"`
	ExpiresAt  sql.NullTime `db:"expires_at"`
	RevokedAt  sql.NullTime `db:"revoked_at"`
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func (r tokenRow) token() app.Token {
	return app.Token{ID: r.ID, Org: r.Tenant, Actor: r.Actor, Name: r.Name, CreatedAt: r.CreatedAt.UTC(),
		LastUsedAt: nullTime(r.LastUsedAt), ExpiresAt: nullTime(r.ExpiresAt), RevokedAt: nullTime(r.RevokedAt)}
}

// TokenCreate implements app.Store.
func (a Admin) TokenCreate(ctx context.Context, t *app.Token, sha [32]byte) error {
	var r tokenRow
	err := sqlx.GetContext(ctx, a.db, &r, `INSERT INTO api_tokens (tenant_id, actor, name, token_sha256, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+tokenColumns, t.Org, t.Actor, t.Name, sha[:], t.ExpiresAt)
	if err != nil {
		return Explain(err)
	}
	*t = r.token()
	return nil
}

// TokenList implements app.Store.
func (a Admin) TokenList(ctx context.Context, tenant string) ([]app.Token, error) {
	var rows []tokenRow
	if err := sqlx.SelectContext(ctx, a.db, &rows, `SELECT `+tokenColumns+` FROM api_tokens WHERE tenant_id = $1 ORDER BY id`, tenant); err != nil {
		return nil, Explain(err)
	}
	ts := make([]app.Token, len(rows))
	for i, r := range rows {
		ts[i] = r.token()
	}
	return ts, nil
}

// TokenRevoke implements app.Store.
func (a Admin) TokenRevoke(ctx context.Context, id int64) (app.Token, error) {
	var r tokenRow
	err := sqlx.GetContext(ctx, a.db, &r, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING `+tokenColumns, id)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Token{}, &app.NotFoundError{What: "token", Name: fmt.Sprint(id)}
	}
	return r.token(), Explain(err)
}

// TokenUse implements app.Store.
func (a Admin) TokenUse(ctx context.Context, sha [32]byte) (app.Token, error) {
	var r tokenRow
	err := sqlx.GetContext(ctx, a.db, &r, `UPDATE api_tokens SET last_used_at = CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) THEN now() ELSE last_used_at END WHERE token_sha256 = $1 RETURNING `+tokenColumns, sha[:])
	if errors.Is(err, sql.ErrNoRows) {
		return app.Token{}, fmt.Errorf("token: %w", app.ErrNotFound)
	}
	return r.token(), Explain(err)
}
