-- The least privileges ccbulk needs, for two roles:
--
--   ccbulk_owner  owns the database and the tables: runs 'ccbulk migrate' and
--                 the set-up commands ('org create', 'org external',
--                 'role create').
--   ccbulk_app    runs the day-to-day commands: import (with --dry-run,
--                 --atomic, --sync, --plan-out), apply, undo, export,
--                 template and batches.
--                 --atomic, --sync), undo, export, template and batches,
--                 and the web front end ('serve', 'serve link').
--
-- Create the roles and the database first, as a superuser or a role with
-- CREATEROLE and CREATEDB:
--
--   CREATE ROLE ccbulk_owner LOGIN PASSWORD '...';
--   CREATE ROLE ccbulk_app LOGIN PASSWORD '...';
--   CREATE DATABASE ccbulk OWNER ccbulk_owner;
--
-- then run 'ccbulk migrate' as ccbulk_owner, then this file as ccbulk_owner
-- in the ccbulk database (psql -d ccbulk -U ccbulk_owner -f ccbulk-roles.sql).
-- Run it again after a migration that adds a table.
-- internal/cli's TestLeastPrivilegeRoles runs this file and then every
-- day-to-day command as ccbulk_app.

-- Connect, and create the temporary staging tables of a run (TEMPORARY).
-- PostgreSQL grants both to PUBLIC by default: take them back, so that only
-- the roles named here reach the database.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO ccbulk_app', current_database());
END
$$;

-- Read the schema's objects; create nothing in it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ccbulk_app;

-- Every command first checks that the schema is the one it was built for.
GRANT SELECT ON schema_migrations TO ccbulk_app;

-- The organization's set-up is read, never written, by the day-to-day role.
GRANT SELECT ON tenants, pbxes, cc_roles, external_orgs TO ccbulk_app;

-- Users are looked up, created and changed (INSERT ... ON CONFLICT DO UPDATE,
-- and --sync's UPDATE); undo deletes the users the batch it reverses created.
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO ccbulk_app;

-- A run records its batch at once (INSERT), finishes it (UPDATE), marks
-- batches cut off by a crash as failed (UPDATE), and removes its own batch
-- when it refuses the file part-way through (DELETE). The grants cannot say
-- which rows, so the trigger batches_final (migration 0009) does, for every
-- role: a batch is inserted as running, with the server's time, database
-- user (session_user) and client address whatever the client sends; while
-- it runs only its outcome may be written (status, end, counts, digest,
-- error), never who ran it, on which tenant, file and mode, or when; once
-- finished (applied, aborted, failed) nothing of it changes, so an applied
-- batch can be neither rewritten nor marked failed, and a failed one never
-- runs again; only a running or failed batch with no audit rows may be
-- deleted. An undo is recorded on its own batch (undo_of): the batch it
-- reverses is not written again.
GRANT SELECT, INSERT, UPDATE, DELETE ON batches TO ccbulk_app;

-- The audit trail is appended to, never changed (an undo is new rows):
-- user_changes holds it, one row per user and batch; changes is the view of
-- it with one row per field. No UPDATE or DELETE is granted, and the
-- trigger user_changes_append_only refuses UPDATE, DELETE and TRUNCATE from
-- every role even where a grant would allow them (as batches_no_truncate
-- does TRUNCATE of batches).
GRANT SELECT, INSERT ON user_changes TO ccbulk_app;
GRANT SELECT ON changes TO ccbulk_app;

-- Activation requests are queued; undo withdraws the unsent ones of the
-- batch it reverses.
GRANT SELECT, INSERT, DELETE ON activation_outbox TO ccbulk_app;

-- Saved plans (migration 0011) are sealed with the installation's key: the
-- first plan creates it (INSERT ... ON CONFLICT DO NOTHING), every plan and
-- apply reads it. Whoever reads it can forge a plan: grant it to no one else.
GRANT SELECT, INSERT ON plan_key TO ccbulk_app;
-- ccbulk serve (migration 0012): API tokens are created, used (their last
-- use recorded) and revoked, never deleted; a dry run's plan and the
-- reports of runs made through the server are kept.
GRANT SELECT, INSERT, UPDATE ON api_tokens TO ccbulk_app;
GRANT SELECT, INSERT ON plans, reports TO ccbulk_app;
-- A kept plan's apply (migration 0014): its state, message and batch are
-- written on the plan's row; nothing else of a plan is ever changed.
GRANT UPDATE (apply_state, apply_message, apply_actor, applied_at, batch_id) ON plans TO ccbulk_app;
-- An apply under way (migration 0015) holds a lease: its run, heartbeat and
-- progress are written on the plan's row, and any serve process marks
-- failed an apply whose heartbeat stopped (the columns above).
GRANT UPDATE (apply_run, apply_heartbeat, apply_stage, apply_done) ON plans TO ccbulk_app;
-- The web front end (migration 0013): 'ccbulk serve link' records a sign-in
-- link, which its use marks used; sessions are created, touched on every
-- request, given their organization and deleted (sign-out, expiry); an
-- OpenID Connect sign-in under way is recorded and taken (DELETE) at its
-- callback.
GRANT SELECT, INSERT, UPDATE ON web_sign_in_links TO ccbulk_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessions TO ccbulk_app;
GRANT SELECT, INSERT, DELETE ON web_oidc_logins TO ccbulk_app;

-- Not needed, on purpose:
-- * the identity sequences of batches and activation_outbox: an identity
--   column takes its next value with the table's INSERT privilege;
-- * advisory locks (pg_try_advisory_lock, pg_advisory_unlock): PostgreSQL
--   lets every role call them; the tenant's lock and the migration lock are
--   keys of their own;
-- * SET CONSTRAINTS and ANALYZE of the staging tables: they belong to the
--   session that created them.
