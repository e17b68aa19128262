-- The ccbulk schema. Every key and unique index of tenant data starts with
-- tenant_id, so the schema can later be distributed by tenant. The database
-- itself refuses what must never be stored: two admin roles on one user (one
-- column), two users with one email in a tenant (lower-case key), one
-- username twice in a PBX, two primary administrators in a tenant, and one
-- user holding both agent tiers.

CREATE TABLE tenants (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    name           text NOT NULL CHECK (name <> ''),
    premium_seats  integer CHECK (premium_seats >= 0),  -- NULL: no limit
    standard_seats integer CHECK (standard_seats >= 0), -- NULL: no limit
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Organizations whose users may administer tenants. They are registered once
-- and shared by all tenants, so they are not keyed by tenant.
CREATE TABLE external_orgs (
    id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name       text NOT NULL CHECK (name <> ''),
    kind       text NOT NULL CHECK (kind IN ('partner', 'other')),
    cc_enabled boolean NOT NULL DEFAULT false
);

CREATE TABLE pbxes (
    tenant_id text NOT NULL REFERENCES tenants (id),
    name      text NOT NULL CHECK (name <> ''),
    position  integer NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE cc_roles (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL CHECK (name <> ''),
    permissions text[] NOT NULL CHECK (permissions <@ ARRAY['view', 'write', 'create', 'modify']),
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE users (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    email        text NOT NULL CHECK (email <> '' AND email = lower(email) AND email = btrim(email)),
    first_name   text NOT NULL DEFAULT '',
    last_name    text NOT NULL DEFAULT '',
    display_name text NOT NULL DEFAULT '',
    username     text NOT NULL CHECK (username <> ''),
    pbx          text NOT NULL,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    home_org     text REFERENCES external_orgs (id), -- NULL: a member of the tenant
    premium      boolean NOT NULL DEFAULT false,
    standard     boolean NOT NULL DEFAULT false,
    admin_role   text CHECK (admin_role IN ('full', 'cc_service', 'readonly')), -- NULL: none
    cc_role      text,
    is_primary   boolean NOT NULL DEFAULT false,
    username_key text GENERATED ALWAYS AS (lower(username)) STORED,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, email),
    FOREIGN KEY (tenant_id, pbx) REFERENCES pbxes (tenant_id, name),
    FOREIGN KEY (tenant_id, cc_role) REFERENCES cc_roles (tenant_id, name),
    CONSTRAINT users_one_agent_tier CHECK (NOT (premium AND standard)),
    CONSTRAINT users_primary_is_active_full_member
        CHECK (NOT is_primary OR (admin_role = 'full' AND status = 'active' AND home_org IS NULL))
);

-- Deferrable, so that one batch can hand a username from one user to another
-- whatever the order its rows are merged in; checked at commit.
ALTER TABLE users ADD CONSTRAINT users_username_per_pbx
    UNIQUE (tenant_id, pbx, username_key) DEFERRABLE INITIALLY IMMEDIATE;
CREATE UNIQUE INDEX users_one_primary ON users (tenant_id) WHERE is_primary;

-- One run of import or undo.
CREATE TABLE batches (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          bigint GENERATED ALWAYS AS IDENTITY,
    kind        text NOT NULL CHECK (kind IN ('import', 'undo')),
    actor       text NOT NULL,
    file_name   text NOT NULL DEFAULT '',
    file_sha256 text NOT NULL DEFAULT '',
    mode        text NOT NULL DEFAULT '',
    undo_of     bigint,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows        integer NOT NULL DEFAULT 0,
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0,
    deactivated integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    warnings    integer NOT NULL DEFAULT 0,
    status      text NOT NULL CHECK (status IN ('running', 'applied', 'aborted', 'failed')),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX batches_id ON batches (id);

-- Every applied field change, so that a batch can be audited and undone.
-- old_value NULL: the user did not exist; new_value is never NULL.
CREATE TABLE changes (
    tenant_id text NOT NULL,
    batch_id  bigint NOT NULL,
    email     text NOT NULL,
    field     text NOT NULL,
    old_value text,
    new_value text,
    PRIMARY KEY (tenant_id, batch_id, email, field),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
);
CREATE INDEX changes_by_user ON changes (tenant_id, email, batch_id);

-- Requests to send an activation email; another system delivers them.
CREATE TABLE activation_outbox (
    tenant_id    text NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    email        text NOT NULL,
    batch_id     bigint NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
);
CREATE INDEX activation_outbox_pending ON activation_outbox (tenant_id, email) WHERE sent_at IS NULL;
