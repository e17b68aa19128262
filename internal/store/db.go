package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNoDatabase is returned when no database was named.
var ErrNoDatabase = errors.New("no database named: pass --db URL or set DATABASE_URL (for example postgres://user@localhost/ccbulk?sslmode=disable)")

// Querier runs queries on a pool, a connection or a transaction.
type Querier interface {
	sqlx.QueryerContext
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Open connects to the database at url; an empty url falls back to the
// libpq PG* variables when PGHOST or PGDATABASE is set.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	if url == "" && os.Getenv("PGHOST") == "" && os.Getenv("PGDATABASE") == "" {
		return nil, ErrNoDatabase
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, Explain(err)
	}
	return db, nil
}

// Explain adds what to do to the connection errors people meet most.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SSL is not enabled on the server"):
		return fmt.Errorf("cannot connect to the database: %w; add sslmode=disable to the URL (…?sslmode=disable) for a local server without SSL", err)
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such file or directory"):
		return fmt.Errorf("cannot connect to the database: %w; is PostgreSQL running, and do --db/DATABASE_URL name the right host and port?", err)
	case strings.Contains(msg, "does not exist") && strings.Contains(msg, "database"):
		return fmt.Errorf("cannot connect to the database: %w; create it first (createdb NAME)", err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "08" {
		return fmt.Errorf("the database connection failed: %w", err)
	}
	return err
}

// WithTx runs fn in a transaction on conn, committing when fn returns nil
// and rolling back otherwise.
func WithTx(ctx context.Context, conn *sqlx.Conn, fn func(tx *sqlx.Tx) error) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return Explain(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return Explain(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// isUniqueViolation reports a unique_violation, optionally on one constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && (constraint == "" || pqErr.Constraint == constraint)
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
