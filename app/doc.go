// Package app is ccbulk's application layer for administration: creating
// and changing organizations, external organizations, PBXes and CC roles,
// and reading what an organization holds. Every front end (the command
// line, the web server) calls it; none of them reaches the database
// directly.
//
// app talks to the database only through the Store interface it declares
// here (internal/store implements it). Its errors carry data (the
// organization, the seats in use, the users holding a role) and name no
// flag or command: the words a person reads are chosen by the front end.
package app
