-- The HTTP API (ccbulk serve): tokens, where a run came from, and the
-- reports and dry-run plans the server keeps so that any serve process
-- can answer for them.

-- An API token acts for one administrator (actor) of one organization.
-- Only the SHA-256 of the token is kept; the token itself is shown once,
-- when it is created. The actor's role is read again on every request, so
-- a token is no more than what its actor may do at that moment.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    actor        text NOT NULL CHECK (actor <> ''),
    name         text NOT NULL DEFAULT '',
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz, -- NULL: does not expire
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);

-- Where a batch came from: the command line, the HTTP API (origin_ref is
-- the token's id) or the web pages (the session's id). NULL for batches
-- recorded before this migration, and for those of the command line.
ALTER TABLE batches
    ADD COLUMN origin_kind text CHECK (origin_kind IN ('cli', 'api', 'web')),
    ADD COLUMN origin_ref  text;

-- A dry run made through the server: its id (random text), who made it,
-- with which options, its JSON answer, and the saved plan (body, filled
-- once saved plans are stored here).
CREATE TABLE plans (
    id         text PRIMARY KEY CHECK (id <> ''),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    actor      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    options    jsonb NOT NULL DEFAULT '{}',
    result     jsonb,
    body       bytea
);
CREATE INDEX plans_tenant ON plans (tenant_id, created_at);

-- The report of a run made through the server, stored whole so that any
-- serve process can serve it: of a batch, or of a dry run's plan.
CREATE TABLE reports (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    batch_id   bigint UNIQUE,
    plan_id    text UNIQUE REFERENCES plans (id) ON DELETE CASCADE,
    format     text NOT NULL CHECK (format IN ('csv', 'xlsx', 'jsonl')),
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((batch_id IS NULL) <> (plan_id IS NULL))
);
