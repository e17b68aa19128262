// Package pgimporter gives the importer its database: New turns
// internal/store's handles (the pool, a run's connection, its transaction,
// a snapshot) into the interfaces the importer declares (importer.Store,
// Conn, Tx, Snapshot).
//
// internal/store's handles have every method of those interfaces, but Go
// has no covariant results: DB.ConnOpen returns a *store.Conn, where
// importer.Store's returns an importer.Conn. This package is the one place
// that knows both sides, so that neither the importer's exported API names
// an internal type nor internal/store imports the importer (whose tests
// import internal/store).
package pgimporter

import (
	"context"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
)

// New is the importer's Store of a PostgreSQL database, internal/store's
// DB (store.New of the pool).
func New(db *store.DB) importer.Store { return pool{db} }

type pool struct{ *store.DB }

func (p pool) ConnOpen(ctx context.Context) (importer.Conn, error) {
	c, err := p.DB.ConnOpen(ctx)
	if err != nil {
		return nil, err
	}
	return conn{c}, nil
}

func (p pool) SnapshotOpen(ctx context.Context) (importer.Snapshot, error) {
	s, err := p.DB.SnapshotOpen(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

type conn struct{ *store.Conn }

func (c conn) TxBegin(ctx context.Context) (importer.Tx, error) {
	tx, err := c.Conn.TxBegin(ctx)
	if err != nil {
		return nil, err
	}
	return tx, nil
}
