package store

// UndoConflictsQuery is the conflict check of an undo, for its plan to be
// examined.
const UndoConflictsQuery = undoConflictsQuery

// CopyRows and CopyLine are the COPY writer of the batch's new users.
var CopyRows = copyRows

type CopyLine = copyLine
