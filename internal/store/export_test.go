package store

// UndoDriftQuery and UndoLaterQuery are the conflict check of an undo, for
// their plans to be examined.
const (
	UndoDriftQuery = undoDriftQuery
	UndoLaterQuery = undoLaterQuery
)

// CopyRows and CopyLine are the COPY writer of the batch's new users.
var CopyRows = copyRows

type CopyLine = copyLine
