// Package store is ccbulk's only door to PostgreSQL (sqlx over lib/pq): the
// migrations runner, tenant and role set-up, state look-ups in chunks, COPY
// into a staging table and the set-based merge that applies a batch with its
// audit trail, batches, and the per-tenant advisory lock.
package store
