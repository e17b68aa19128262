-- A batch's record is the truth about one run: who ran it, from where,
-- with which ccbulk, what it applied, and why it ended.
--
-- Who and from where. db_user is the login that opened the session
-- (session_user: SET ROLE cannot change it) and client_addr the address
-- the server sees it connect from (NULL over a Unix socket); the trigger
-- below sets both on every insert, whatever the client sends. client_host
-- (the host name of the machine running ccbulk) and ccbulk_version are
-- what that machine says. Batches recorded before this migration have
-- none of them (NULL: not known).
ALTER TABLE batches
    ADD COLUMN db_user        text,
    ADD COLUMN client_addr    inet,
    ADD COLUMN client_host    text,
    ADD COLUMN ccbulk_version text,
    ADD COLUMN error          text; -- why a batch that did not apply ended
ALTER TABLE batches
    ALTER COLUMN db_user SET DEFAULT session_user,
    ALTER COLUMN client_addr SET DEFAULT inet_client_addr();

-- What a batch applied. A batch that did not apply (aborted, failed)
-- created, changed, deactivated and deleted nobody: its counts of those
-- are zero (before, a refused --atomic run recorded what it would have
-- done). The rows it read, rejected and found unchanged stay.
UPDATE batches SET created = 0, updated = 0, deactivated = 0, deleted = 0, withdrawn = 0
WHERE status IN ('aborted', 'failed');
ALTER TABLE batches
    ADD CONSTRAINT batches_unapplied_apply_nothing
        CHECK (status = 'applied' OR (created = 0 AND updated = 0 AND deactivated = 0 AND deleted = 0 AND withdrawn = 0)),
    ADD CONSTRAINT batches_error_of_unapplied
        CHECK (error IS NULL OR status IN ('aborted', 'failed'));

-- Once finished, a batch is final. The day-to-day role records a batch as
-- running, finishes it once (applied, aborted or failed), and removes its
-- own batch when it refuses the file part-way through; nothing else:
--   * a batch is inserted as running, with the server's time, user and
--     client address;
--   * while running, only its outcome may be written (status, end, counts,
--     the digest of standard input, the error); who ran it, on which
--     tenant and file, in which mode, when, and what it undoes never change;
--   * once it is no longer running nothing of it changes: not its actor,
--     not its status (an applied batch cannot be marked failed, a failed
--     one cannot run again). An undo is recorded on the undo's own batch
--     (undo_of), so the undone batch is never written again;
--   * only a running or failed batch with no audit rows may be deleted
--     (store.DiscardBatch): an applied or aborted one stays in the history.
-- The triggers act on every role, the owner's included: a later migration
-- that must rewrite the history disables them around the rewrite
-- (ALTER TABLE ... DISABLE TRIGGER, which only the owner may run).
DROP TRIGGER batches_keep_applied ON batches;
DROP FUNCTION ccbulk_keep_applied_batches();

CREATE FUNCTION ccbulk_batches_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'running' OR NEW.finished_at IS NOT NULL OR NEW.error IS NOT NULL THEN
            RAISE EXCEPTION 'a batch is recorded as running when its run starts, not as %', NEW.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        NEW.started_at := now();
        NEW.db_user := session_user;
        NEW.client_addr := inet_client_addr();
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status NOT IN ('running', 'failed') OR EXISTS (
                SELECT 1 FROM user_changes c WHERE c.tenant_id = OLD.tenant_id AND c.batch_id = OLD.id) THEN
            RAISE EXCEPTION 'batch % of % is %: it is kept in the history, so it cannot be deleted (only a batch that wrote nothing and did not finish can be removed)',
                OLD.id, OLD.tenant_id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    -- UPDATE
    IF OLD.status <> 'running' THEN
        RAISE EXCEPTION 'batch % of % is %: a finished batch is kept as it was recorded, so it cannot be changed',
            OLD.id, OLD.tenant_id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.tenant_id, NEW.id, NEW.kind, NEW.actor, NEW.file_name, NEW.mode, NEW.undo_of, NEW.started_at,
            NEW.db_user, NEW.client_addr, NEW.client_host, NEW.ccbulk_version)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.id, OLD.kind, OLD.actor, OLD.file_name, OLD.mode, OLD.undo_of, OLD.started_at,
            OLD.db_user, OLD.client_addr, OLD.client_host, OLD.ccbulk_version) THEN
        RAISE EXCEPTION 'batch % of %: who ran a batch, where, on which file, in which mode and when are recorded once, when it starts; only its outcome may be written',
            OLD.id, OLD.tenant_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER batches_final BEFORE INSERT OR UPDATE OR DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION ccbulk_batches_final();

-- The audit trail only grows: no role updates, deletes or truncates it,
-- whatever it was granted. Statement triggers: they cost an insert nothing.
CREATE FUNCTION ccbulk_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: the history of ccbulk''s batches is appended to, never changed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER user_changes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON user_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ccbulk_history_append_only();
CREATE TRIGGER batches_no_truncate BEFORE TRUNCATE ON batches
    FOR EACH STATEMENT EXECUTE FUNCTION ccbulk_history_append_only();
