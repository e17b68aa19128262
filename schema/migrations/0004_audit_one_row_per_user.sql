-- The audit trail, one row per user a batch changed instead of one per
-- field. A million new users were 6.8 million rows with two B-tree entries
-- and a foreign-key check each, which cost the server more than twice a
-- plain COPY of the users; they are now a million rows appended to the heap.
--
-- user_changes: the fields a batch changed on one user, as JSON objects
-- from field name to value as text (rules.Values writes them alike):
--   old_values NULL: the batch created the user (new_values: its fields
--                    that are not blank or false);
--   new_values NULL: the batch deleted the user (an undo of its creation;
--                    old_values: every field it had);
--   otherwise both hold the same fields, before and after.
-- A batch writes at most one row per user (a user is on one row of a sheet:
-- R-DUP-EMAIL), in its own transaction.
--
-- Rows are read by batch: a BRIN index on batch_id, which only grows, costs
-- next to nothing to keep and finds a batch's rows in the block ranges it
-- was written to.
CREATE TABLE user_changes (
    tenant_id  text NOT NULL,
    batch_id   bigint NOT NULL,
    email      text COLLATE "C" NOT NULL, -- as users.email (0005)
    old_values jsonb CHECK (jsonb_typeof(old_values) = 'object'),
    new_values jsonb CHECK (jsonb_typeof(new_values) = 'object'),
    CHECK (old_values IS NOT NULL OR new_values IS NOT NULL)
);
CREATE INDEX user_changes_batch ON user_changes USING brin (batch_id);

INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values)
SELECT tenant_id, batch_id, email,
    CASE WHEN bool_or(old_value IS NULL) THEN NULL ELSE jsonb_object_agg(field, old_value) END,
    CASE WHEN bool_or(new_value IS NULL) THEN NULL ELSE jsonb_object_agg(field, new_value) END
FROM changes
GROUP BY tenant_id, batch_id, email
ORDER BY batch_id, email;

DROP TABLE changes;

-- The audit trail as docs/REFERENCE.md words it: one row per field change (batch, user,
-- field, old value, new value); old_value NULL where the batch created the
-- user, new_value NULL where it deleted it.
CREATE VIEW changes AS
SELECT c.tenant_id, c.batch_id, c.email, f.field,
    c.old_values ->> f.field AS old_value, c.new_values ->> f.field AS new_value
FROM user_changes c
CROSS JOIN LATERAL jsonb_object_keys(coalesce(c.new_values, c.old_values)) AS f(field);

-- The activation requests of a batch are written by the batch's own
-- transaction, after the batch is recorded: the foreign key checked each
-- of them (a million for a first import) for nothing. The trigger below
-- keeps what the foreign keys gave: an applied batch is never deleted.
ALTER TABLE activation_outbox DROP CONSTRAINT activation_outbox_tenant_id_batch_id_fkey;

CREATE FUNCTION ccbulk_keep_applied_batches() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'batch % of % is applied: its audit trail is kept, so it cannot be deleted', OLD.id, OLD.tenant_id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER batches_keep_applied BEFORE DELETE ON batches
    FOR EACH ROW WHEN (OLD.status = 'applied') EXECUTE FUNCTION ccbulk_keep_applied_batches();
