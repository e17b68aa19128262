// Package rules holds every rule of docs/REFERENCE.md (§3, Who may do what,
// and §4, The rules) as plain functions over a parsed row, the state the
// earlier rows left, and the acting administrator. It does no I/O: the
// importer feeds it rows and database snapshots and applies what it
// accepts.
//
// The permission table of docs/REFERENCE.md §3, Who may do what, is data
// (permissions.go); each finding carries a rule id from schema and a
// message that says how to fix the row.
package rules
