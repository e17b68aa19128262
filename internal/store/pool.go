package store

import (
	"context"
	"errors"
)

// The pool's own methods: what a front end (the command line, the server)
// does with the database it opened, besides running the pipeline on it.
// The pool itself stays inside this package: every other package reaches
// the database through DB's methods.

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }

// SetMaxOpenConns bounds the connections the pool opens at once (n <= 0:
// no bound).
func (d *DB) SetMaxOpenConns(n int) { d.db.SetMaxOpenConns(n) }

// Migrate applies the migrations not yet applied and returns their names
// (see Migrate).
func (d *DB) Migrate(ctx context.Context) ([]string, error) { return Migrate(ctx, d.db) }

// Admin returns the implementation of app.Store on the pool.
func (d *DB) Admin() Admin { return Admin{Queries: Queries{q: d.db}, db: d.db} }

// BatchStaleEnd marks failed the tenant's batches left running by a run
// that died (as Lock does once it holds the lock, which is then
// released), when no run holds the tenant's lock; when one does, that run
// did so when it took it, and nothing is done.
func (d *DB) BatchStaleEnd(ctx context.Context, tenant string) error {
	c, err := d.ConnOpen(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.TenantLock(ctx, tenant, 0)
	if errors.Is(err, ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.TenantUnlock(ctx, tenant)
}
