package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// The web front end's server-side state (migration 0013). Secrets are
// passed in and stored as their SHA-256 only.

// ErrLinkUsed is a sign-in link used already; ErrLinkExpired one past its
// expiry.
var (
	ErrLinkUsed    = errors.New("this sign-in link was used already")
	ErrLinkExpired = errors.New("this sign-in link has expired")
)

// CreateSignInLink records a one-time sign-in link to tenant for email,
// valid for ttl from now (the database's clock).
func CreateSignInLink(ctx context.Context, q Querier, tokenHash []byte, tenant, email string, ttl time.Duration) (time.Time, error) {
	var expires time.Time
	err := sqlx.GetContext(ctx, q, &expires, `INSERT INTO web_sign_in_links (token_hash, tenant_id, email, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`, tokenHash, tenant, email, ttl.Seconds())
	return expires, Explain(err)
}

// UseSignInLink marks a sign-in link used and returns its tenant and
// email: ErrNotFound when there is no such link, ErrLinkUsed or
// ErrLinkExpired when it cannot be used any more.
func UseSignInLink(ctx context.Context, q Querier, tokenHash []byte) (tenant, email string, err error) {
	var row struct {
		Tenant string `db:"tenant_id"`
		Email  string `db:"email"`
	}
	err = sqlx.GetContext(ctx, q, &row, `UPDATE web_sign_in_links SET used_at = now()
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING tenant_id, email`, tokenHash)
	if err == nil {
		return row.Tenant, row.Email, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", "", Explain(err)
	}
	var used bool
	err = sqlx.GetContext(ctx, q, &used, `SELECT used_at IS NOT NULL FROM web_sign_in_links WHERE token_hash = $1`, tokenHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", ErrNotFound
	case err != nil:
		return "", "", Explain(err)
	case used:
		return "", "", ErrLinkUsed
	}
	return "", "", ErrLinkExpired
}

// WebSession is a signed-in person's session.
type WebSession struct {
	Email     string         `db:"email"`
	Tenant    sql.NullString `db:"tenant_id"` // the organization chosen; NULL until chosen
	CSRFToken string         `db:"csrf_token"`
	Via       string         `db:"via"` // link or oidc
	CreatedAt time.Time      `db:"created_at"`
}

// CreateSession records a new session, and removes the sessions past
// their limits (idle: not seen for that long; absolute: that old).
func CreateSession(ctx context.Context, q Querier, idHash []byte, s WebSession, idle, absolute time.Duration) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM web_sessions
		WHERE last_seen < now() - make_interval(secs => $1) OR created_at < now() - make_interval(secs => $2)`,
		idle.Seconds(), absolute.Seconds()); err != nil {
		return Explain(err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, email, tenant_id, csrf_token, via) VALUES ($1, $2, $3, $4, $5)`,
		idHash, s.Email, s.Tenant, s.CSRFToken, s.Via)
	return Explain(err)
}

// TouchSession returns a session within its limits and records that it was
// seen now; ErrNotFound when there is none (or it is past a limit, and
// then it is deleted).
func TouchSession(ctx context.Context, q Querier, idHash []byte, idle, absolute time.Duration) (WebSession, error) {
	var s WebSession
	err := sqlx.GetContext(ctx, q, &s, `UPDATE web_sessions SET last_seen = now()
		WHERE id_hash = $1 AND last_seen >= now() - make_interval(secs => $2) AND created_at >= now() - make_interval(secs => $3)
		RETURNING email, tenant_id, csrf_token, via, created_at`, idHash, idle.Seconds(), absolute.Seconds())
	if errors.Is(err, sql.ErrNoRows) {
		if err := DeleteSession(ctx, q, idHash); err != nil {
			return s, err
		}
		return s, ErrNotFound
	}
	return s, Explain(err)
}

// SetSessionTenant records the organization a session chose.
func SetSessionTenant(ctx context.Context, q Querier, idHash []byte, tenant string) error {
	_, err := q.ExecContext(ctx, `UPDATE web_sessions SET tenant_id = $2 WHERE id_hash = $1`, idHash, tenant)
	return Explain(err)
}

// DeleteSession ends a session.
func DeleteSession(ctx context.Context, q Querier, idHash []byte) error {
	_, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
	return Explain(err)
}

// AdminTenants returns, by id, the organizations in which email is an
// active user holding an admin role.
func AdminTenants(ctx context.Context, q Querier, email string) ([]string, error) {
	var ids []string
	err := sqlx.SelectContext(ctx, q, &ids, `SELECT tenant_id FROM users
		WHERE email = $1 AND status = 'active' AND admin_role IS NOT NULL ORDER BY tenant_id`, email)
	return ids, Explain(err)
}

// CreateOIDCLogin records an OpenID Connect sign-in under way, for ttl.
func CreateOIDCLogin(ctx context.Context, q Querier, stateHash []byte, nonce, verifier string, ttl time.Duration) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM web_oidc_logins WHERE expires_at < now()`); err != nil {
		return Explain(err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO web_oidc_logins (state_hash, nonce, verifier, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4))`, stateHash, nonce, verifier, ttl.Seconds())
	return Explain(err)
}

// UseOIDCLogin takes (deletes) a sign-in under way and returns its nonce
// and PKCE verifier; ErrNotFound when there is none or it expired.
func UseOIDCLogin(ctx context.Context, q Querier, stateHash []byte) (nonce, verifier string, err error) {
	var row struct {
		Nonce    string `db:"nonce"`
		Verifier string `db:"verifier"`
	}
	err = sqlx.GetContext(ctx, q, &row, `DELETE FROM web_oidc_logins WHERE state_hash = $1 AND expires_at > now() RETURNING nonce, verifier`, stateHash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return row.Nonce, row.Verifier, Explain(err)
}
