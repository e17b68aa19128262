package store

import "github.com/jmoiron/sqlx"

// UndoDriftQuery and UndoLaterQuery are the conflict check of an undo, for
// their plans to be examined.
const (
	UndoDriftQuery = undoDriftQuery
	UndoLaterQuery = undoLaterQuery
)

// CopyRows and CopyLine are the COPY writer of the batch's new users.
var CopyRows = copyRows

type CopyLine = copyLine

// Pool is the pool a DB wraps, for the tests that query it themselves.
func (d *DB) Pool() *sqlx.DB { return d.db }
