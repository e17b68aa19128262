-- The web front end's server-side state: sessions, one-time sign-in links
-- and OpenID Connect sign-ins under way. Secrets (session ids, link tokens,
-- sign-in states) are stored only as their SHA-256: reading this table does
-- not let anyone sign in.

-- A signed-in person. tenant_id is the organization chosen (NULL until the
-- person chooses one); what the person may do there is read again from
-- users on every request. csrf_token is the anti-forgery token of every
-- form of the session.
CREATE TABLE web_sessions (
    id_hash    bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    email      text NOT NULL CHECK (email <> '' AND email = lower(email)),
    tenant_id  text REFERENCES tenants (id) ON DELETE CASCADE,
    csrf_token text NOT NULL CHECK (length(csrf_token) >= 32),
    via        text NOT NULL CHECK (via IN ('link', 'oidc')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);

-- A one-time sign-in link ('ccbulk serve link'): usable once (used_at),
-- before expires_at.
CREATE TABLE web_sign_in_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email      text NOT NULL CHECK (email <> '' AND email = lower(email)),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- An OpenID Connect sign-in under way: the state sent to the provider (its
-- hash), the nonce the ID token must carry and the PKCE verifier. Used once.
CREATE TABLE web_oidc_logins (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce      text NOT NULL,
    verifier   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
