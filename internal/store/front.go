package store

import (
	"context"
	"time"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The reads of the front ends (the command line's and the web pages'
// history, the web front end's sessions), named noun first over the
// functions of this package that hold the SQL.

// BatchListRecent returns the tenant's batches newest first: the limit
// most recent, or all for limit 0 (see RecentBatches).
func (s Queries) BatchListRecent(ctx context.Context, tenant string, limit int) ([]schema.Batch, error) {
	return RecentBatches(ctx, s.q, tenant, limit)
}

// ActivationEach calls fn for each activation request of a batch (see
// EachActivation).
func (s Queries) ActivationEach(ctx context.Context, tenant string, batch int64, fn func(schema.Activation) error) error {
	return EachActivation(ctx, s.q, tenant, batch, fn)
}

// WithdrawalEach calls fn with the email of each unsent activation request
// an undo of the batch would withdraw (see EachWithdrawal).
func (s Queries) WithdrawalEach(ctx context.Context, tenant string, batch int64, fn func(email string) error) error {
	return EachWithdrawal(ctx, s.q, tenant, batch, fn)
}

// PlanLinksByBatch returns, by batch, the id of the plan kept by the
// server that each of these batches of the tenant applied (or applies
// now); batches no kept plan applied are left out.
func (s Queries) PlanLinksByBatch(ctx context.Context, tenant string, batches []int64) (map[int64]string, error) {
	var links []struct {
		Batch int64  `db:"batch_id"`
		Plan  string `db:"id"`
	}
	if err := sqlx.SelectContext(ctx, s.q, &links, `SELECT batch_id, id FROM plans WHERE tenant_id = $1 AND batch_id = ANY($2)`,
		tenant, pq.Array(batches)); err != nil {
		return nil, Explain(err)
	}
	plans := make(map[int64]string, len(links))
	for _, l := range links {
		plans[l.Batch] = l.Plan
	}
	return plans, nil
}

// SignInLinkParams are a one-time sign-in link to record: the SHA-256 of
// its token, to which tenant and for whom, valid for TTL from now.
type SignInLinkParams struct {
	TokenHash []byte
	Tenant    string
	Email     string
	TTL       time.Duration
}

// SignInLinkCreate records a one-time sign-in link and returns when it
// expires (see CreateSignInLink).
func (s Queries) SignInLinkCreate(ctx context.Context, p SignInLinkParams) (time.Time, error) {
	return CreateSignInLink(ctx, s.q, p.TokenHash, p.Tenant, p.Email, p.TTL)
}

// SignInLinkUse marks a sign-in link used and returns its tenant and
// email (see UseSignInLink).
func (s Queries) SignInLinkUse(ctx context.Context, tokenHash []byte) (tenant, email string, err error) {
	return UseSignInLink(ctx, s.q, tokenHash)
}

// SessionParams are a new web session: the SHA-256 of its id, the
// session, and the limits past which sessions are removed.
type SessionParams struct {
	IDHash         []byte
	Session        WebSession
	Idle, Absolute time.Duration
}

// SessionCreate records a new session (see CreateSession).
func (s Queries) SessionCreate(ctx context.Context, p SessionParams) error {
	return CreateSession(ctx, s.q, p.IDHash, p.Session, p.Idle, p.Absolute)
}

// SessionTouch returns a session within its limits and records that it was
// seen now (see TouchSession).
func (s Queries) SessionTouch(ctx context.Context, idHash []byte, idle, absolute time.Duration) (WebSession, error) {
	return TouchSession(ctx, s.q, idHash, idle, absolute)
}

// SessionTenantSet records the organization a session chose.
func (s Queries) SessionTenantSet(ctx context.Context, idHash []byte, tenant string) error {
	return SetSessionTenant(ctx, s.q, idHash, tenant)
}

// SessionDelete ends a session.
func (s Queries) SessionDelete(ctx context.Context, idHash []byte) error {
	return DeleteSession(ctx, s.q, idHash)
}

// AdminTenantList returns, by id, the organizations in which email is an
// active administrator (see AdminTenants).
func (s Queries) AdminTenantList(ctx context.Context, email string) ([]string, error) {
	return AdminTenants(ctx, s.q, email)
}

// OIDCLoginParams are an OpenID Connect sign-in under way: the SHA-256 of
// its state, its nonce and PKCE verifier, kept for TTL.
type OIDCLoginParams struct {
	StateHash       []byte
	Nonce, Verifier string
	TTL             time.Duration
}

// OIDCLoginCreate records an OpenID Connect sign-in under way (see
// CreateOIDCLogin).
func (s Queries) OIDCLoginCreate(ctx context.Context, p OIDCLoginParams) error {
	return CreateOIDCLogin(ctx, s.q, p.StateHash, p.Nonce, p.Verifier, p.TTL)
}

// OIDCLoginUse takes a sign-in under way and returns its nonce and PKCE
// verifier (see UseOIDCLogin).
func (s Queries) OIDCLoginUse(ctx context.Context, stateHash []byte) (nonce, verifier string, err error) {
	return UseOIDCLogin(ctx, s.q, stateHash)
}
