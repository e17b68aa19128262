-- A plan's apply under way (migration 0014's apply_state 'running') shows
-- how far it has got and holds a lease, so that any serve process can show
-- its progress and tell a run whose process died.
--
-- items is how many changes the plan holds (set by the dry run; NULL for
-- plans kept before this migration). While the apply runs, its process
-- writes, about once a second, apply_heartbeat (the database's clock),
-- apply_stage (queued, reading, writing, committing) and apply_done (the
-- plan's changes read so far). apply_run names the apply that holds the
-- lease: a run whose lease expired and that was marked failed meanwhile
-- does not write over the one that took the plan after it. A serve process
-- marks failed, at start and then periodically, every running apply whose
-- heartbeat is older than its lease: its process died, its transaction was
-- rolled back, so nothing of it was applied and the plan can be applied
-- again.
ALTER TABLE plans
    ADD COLUMN items           integer CHECK (items >= 0),
    ADD COLUMN apply_run       text,
    ADD COLUMN apply_heartbeat timestamptz,
    ADD COLUMN apply_stage     text,
    ADD COLUMN apply_done      integer;
-- An apply running when this migration ran gets a lease from now.
UPDATE plans SET apply_heartbeat = now() WHERE apply_state = 'running';
CREATE INDEX plans_running ON plans (apply_heartbeat) WHERE apply_state = 'running';
-- The batch lists find the plan a batch applied.
CREATE INDEX plans_batch ON plans (batch_id) WHERE batch_id IS NOT NULL;
-- Every serve process looks for batches left running by a process that
-- died (their organization's lock is free) every ten seconds.
CREATE INDEX batches_running ON batches (tenant_id) WHERE status = 'running';
