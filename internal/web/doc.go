// Package web is ccbulk's web front end: server-rendered pages on the same
// database as the command line. New returns its http.Handler, which a
// server mounts at "/".
//
// Signing in is by a one-time link ('ccbulk serve link') or OpenID Connect
// (authorization code with PKCE, state and nonce); the provider's verified
// email is the person, and what the person may do is read again from the
// users table on every request (docs/REFERENCE.md §3). Sessions live in PostgreSQL
// (migration 0013): a random id in an HttpOnly, SameSite=Lax cookie, only
// its SHA-256 stored, an idle and an absolute limit, and an anti-forgery
// token that every form that changes anything carries.
//
// Every page is an html/template of templates/ (embedded), so every value
// from a sheet or the database is escaped; no page needs JavaScript, and
// the Content-Security-Policy allows none inline.
package web
