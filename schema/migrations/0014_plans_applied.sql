-- A dry run's plan kept by the server (plans.body, migration 0012) and its
-- apply: the plan's SHA-256, and the state of its apply so that any serve
-- process can show it (the apply runs in the background of the process the
-- button was pressed on): running, applied (batch_id), refused (the
-- message says what changed or who applied it) or failed.
ALTER TABLE plans
    ADD COLUMN sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN apply_state   text CHECK (apply_state IN ('running', 'applied', 'refused', 'failed')),
    ADD COLUMN apply_message text,
    ADD COLUMN apply_actor   text,
    ADD COLUMN applied_at    timestamptz,
    ADD COLUMN batch_id      bigint;
