-- Saved plans: 'ccbulk import --dry-run --plan-out PLAN' writes a plan,
-- 'ccbulk apply PLAN' applies exactly its changes as one batch.
--
-- A batch applied from a plan records the plan's SHA-256 (of the whole
-- file) and the administrator who made the plan (plan_actor) beside the one
-- who applied it (actor): the four eyes. Both are written while the batch
-- runs (migration 0009's trigger lets a running batch's outcome be
-- written), and a plan is applied at most once per tenant: the unique
-- index below refuses a second applied batch of the same plan even if two
-- runs raced past the check ccbulk makes under the tenant's lock.
ALTER TABLE batches
    ADD COLUMN plan_sha256 text CHECK (plan_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN plan_actor  text;
CREATE UNIQUE INDEX batches_plan_applied_once ON batches (tenant_id, plan_sha256)
    WHERE status = 'applied' AND plan_sha256 IS NOT NULL;

-- The installation's secret for saved plans: each plan ends with an
-- HMAC-SHA256 of its content keyed with it, so that a plan that was edited
-- or truncated is refused. One row, created by the first plan (a random
-- key from the client's crypto/rand, inserted if absent); whoever can read
-- it can forge a plan, so only ccbulk's roles read it.
CREATE TABLE plan_key (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    key        bytea NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
