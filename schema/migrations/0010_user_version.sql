-- The Version column of an export (docs/REFERENCE.md §2, R-STALE): which state of a user
-- a row was exported from.
--
-- users.version is the id of the transaction that last wrote the user's
-- row (pg_current_xact_id(), a 64-bit id that never wraps round). A new
-- row takes it from the column's default, which also covers COPY; an
-- update takes it from the trigger below, so that a change made with
-- plain SQL moves the version as a batch's does. ccbulk's own updates (the
-- merge of an import, --sync, an undo) set it themselves, which spares the
-- trigger's function a call per row: the trigger's WHEN clause lets those
-- through without calling it. Rows that exist now get the id of this
-- migration's transaction.
ALTER TABLE users
    ADD COLUMN version bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint;

CREATE FUNCTION ccbulk_user_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;
-- Every stored column of a user but the bookkeeping ones (created_at,
-- updated_at) and version itself: a WHEN clause cannot compare the whole
-- row, since the table has a generated column (username_key).
CREATE TRIGGER users_version BEFORE UPDATE ON users
    FOR EACH ROW
    WHEN ((OLD.tenant_id, OLD.email, OLD.first_name, OLD.last_name, OLD.display_name, OLD.username, OLD.pbx,
           OLD.status, OLD.home_org, OLD.premium, OLD.standard, OLD.admin_role, OLD.cc_role, OLD.is_primary)
          IS DISTINCT FROM
          (NEW.tenant_id, NEW.email, NEW.first_name, NEW.last_name, NEW.display_name, NEW.username, NEW.pbx,
           NEW.status, NEW.home_org, NEW.premium, NEW.standard, NEW.admin_role, NEW.cc_role, NEW.is_primary)
          AND NEW.version IS NOT DISTINCT FROM OLD.version)
    EXECUTE FUNCTION ccbulk_user_version();

-- batches.xact: the transaction that applied the batch (set when it is
-- recorded applied, in the transaction that wrote its users), so that a
-- user's version names the batch that last changed it. NULL for batches
-- that did not apply and for those recorded before this migration.
ALTER TABLE batches
    ADD COLUMN xact bigint,
    ADD CONSTRAINT batches_xact_of_applied CHECK (xact IS NULL OR status = 'applied');
CREATE UNIQUE INDEX batches_xact ON batches (tenant_id, xact) WHERE xact IS NOT NULL;
