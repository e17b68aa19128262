package store

// UndoConflictsQuery is the conflict check of an undo, for its plan to be
// examined.
const UndoConflictsQuery = undoConflictsQuery
