package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/schema"
)

// migrationLock is the advisory lock key that serializes migrations.
const migrationLock = 0x6363_62756c6b // "ccbulk"

// Migrate applies the embedded migrations not yet applied, in name order,
// each in its own transaction, and returns the names it applied. It is safe
// to run again and from several processes at once.
func Migrate(ctx context.Context, db *sqlx.DB) ([]string, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, Explain(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, Explain(err)
	}
	// The lock ends with the connection anyway: an error unlocking changes nothing.
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, Explain(err)
	}
	var done []string
	if err := conn.SelectContext(ctx, &done, `SELECT name FROM schema_migrations`); err != nil {
		return nil, Explain(err)
	}
	names, err := fs.Glob(schema.Migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var applied []string
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		if slices.Contains(done, name) {
			continue
		}
		body, err := fs.ReadFile(schema.Migrations, path)
		if err != nil {
			return applied, err
		}
		err = WithTx(ctx, conn, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "P0001" {
			// A migration refused the data it found (RAISE EXCEPTION): its
			// message says what to change.
			return applied, &MigrationRefusedError{Migration: name, Reason: pqErr.Message, Applied: applied, Err: err}
		}
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w (applied before it: %v)", name, err, applied)
		}
		applied = append(applied, name)
	}
	return applied, nil
}

// MigrationRefusedError is a migration that refused to run on the data the
// database holds; nothing of it was applied.
type MigrationRefusedError struct {
	Migration string   // its name, such as 0008_names_unique_without_case
	Reason    string   // what it found and what to do, as the migration says it
	Applied   []string // the migrations applied before it in this run
	Err       error    // the server's error
}

func (e *MigrationRefusedError) Error() string {
	msg := fmt.Sprintf("migration %s refused to run: %s", e.Migration, e.Reason)
	if len(e.Applied) > 0 {
		msg += fmt.Sprintf(" (applied before it: %s)", strings.Join(e.Applied, ", "))
	}
	return msg
}

func (e *MigrationRefusedError) Unwrap() error { return e.Err }

// SchemaError says the database's schema is missing (Missing ""), or older
// than this ccbulk (Missing names the first migration not applied). Its
// message names no command: each front end says how migrations are run.
type SchemaError struct{ Missing string }

func (e *SchemaError) Error() string {
	if e.Missing == "" {
		return "the database has no ccbulk schema"
	}
	return fmt.Sprintf("the database schema is older than this ccbulk (migration %s is not applied)", e.Missing)
}

// CheckSchema returns a *SchemaError when the schema is missing or older
// than this ccbulk.
func CheckSchema(ctx context.Context, q Querier) error {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT to_regclass('users') IS NOT NULL AND to_regclass('schema_migrations') IS NOT NULL`); err != nil {
		return Explain(err)
	}
	if !ok {
		return &SchemaError{}
	}
	var done []string
	if err := sqlx.SelectContext(ctx, q, &done, `SELECT name FROM schema_migrations`); err != nil {
		return Explain(err)
	}
	names, err := fs.Glob(schema.Migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	for _, path := range names {
		if name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql"); !slices.Contains(done, name) {
			return &SchemaError{Missing: name}
		}
	}
	return nil
}
