// Package schema holds ccbulk's domain types: users, organizations and roles,
// the catalogue of sheet columns, findings and their rule ids, and the SQL
// migrations that create the database. It imports the standard library only,
// so every other package may depend on it.
package schema
