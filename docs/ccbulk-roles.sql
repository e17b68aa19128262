-- The least privileges ccbulk needs, for two roles:
--
--   ccbulk_owner  owns the database and the tables: runs 'ccbulk migrate' and
--                 the set-up commands ('org create', 'org external',
--                 'role create').
--   ccbulk_app    runs the day-to-day commands: import (with --dry-run,
--                 --atomic, --sync), undo, export, template and batches.
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
-- when it refuses the file part-way through (DELETE of a 'running' batch; an
-- applied batch cannot be deleted: the trigger batches_keep_applied refuses).
GRANT SELECT, INSERT, UPDATE, DELETE ON batches TO ccbulk_app;

-- The audit trail is appended to, never changed (an undo is new rows):
-- user_changes holds it, one row per user and batch; changes is the view of
-- it with one row per field.
GRANT SELECT, INSERT ON user_changes TO ccbulk_app;
GRANT SELECT ON changes TO ccbulk_app;

-- Activation requests are queued; undo withdraws the unsent ones of the
-- batch it reverses.
GRANT SELECT, INSERT, DELETE ON activation_outbox TO ccbulk_app;

-- Not needed, on purpose:
-- * the identity sequences of batches and activation_outbox: an identity
--   column takes its next value with the table's INSERT privilege;
-- * advisory locks (pg_try_advisory_lock, pg_advisory_unlock): PostgreSQL
--   lets every role call them; the tenant's lock and the migration lock are
--   keys of their own;
-- * SET CONSTRAINTS and ANALYZE of the staging tables: they belong to the
--   session that created them.
