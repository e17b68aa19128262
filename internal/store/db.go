package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

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

// Settings are the session settings of every connection a run opens.
type Settings struct {
	// StatementTimeout cancels any one statement that runs longer (0: no
	// limit). The merge of a large sheet is one statement.
	StatementTimeout time.Duration
	// LockTimeout cancels a statement that waits longer for a row or table
	// lock held by another session (0: wait for ever). The organization's
	// advisory lock is not affected: --lock-wait governs it.
	LockTimeout time.Duration
}

// DefaultSettings are the settings a run uses unless told otherwise.
var DefaultSettings = Settings{StatementTimeout: 30 * time.Minute, LockTimeout: 30 * time.Second}

// settings is what the current process runs with; Explain names them.
var settings = DefaultSettings

// Open connects to the database at url with DefaultSettings; an empty url
// falls back to the libpq PG* variables when PGHOST or PGDATABASE is set.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	return OpenWith(ctx, url, DefaultSettings)
}

// OpenWith connects to the database at url; every connection of the pool
// starts with statement_timeout and lock_timeout set from s, and
// application_name "ccbulk" unless the URL names one (so that operators can
// find ccbulk in pg_stat_activity).
func OpenWith(ctx context.Context, url string, s Settings) (*sqlx.DB, error) {
	if url == "" && os.Getenv("PGHOST") == "" && os.Getenv("PGDATABASE") == "" {
		return nil, ErrNoDatabase
	}
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	cfg.Runtime["statement_timeout"] = millis(s.StatementTimeout)
	cfg.Runtime["lock_timeout"] = millis(s.LockTimeout)
	if _, ok := cfg.Runtime["application_name"]; !ok {
		cfg.Runtime["application_name"] = "ccbulk"
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	settings = s
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, Explain(err)
	}
	return db, nil
}

// millis writes a duration as PostgreSQL's milliseconds; 0 disables the limit.
func millis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return fmt.Sprint(max(d.Milliseconds(), 1))
}

// ErrConnectionLost is wrapped when the database connection broke mid-run:
// the server went away, was restarted, or ended the session.
var ErrConnectionLost = errors.New("the database connection was lost")

// ErrCommit is wrapped when COMMIT itself failed: when the connection broke
// there, the server may or may not have committed.
var ErrCommit = errors.New("commit")

// ErrTimeout is wrapped when a statement hit statement_timeout or lock_timeout.
var ErrTimeout = errors.New("a database time limit was reached")

// lostConnection reports errors that mean the session is gone.
func lostConnection(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		// 08: connection exception; 57P01-57P03: the server terminated
		// the session or is shutting down or restarting.
		return pqErr.Code.Class() == "08" || pqErr.Code == "57P01" || pqErr.Code == "57P02" || pqErr.Code == "57P03"
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr):
		return true
	}
	return false
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
	if errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrTimeout) {
		return err
	}
	if lostConnection(err) {
		return fmt.Errorf("%w (%v)", ErrConnectionLost, err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code == "57014" && strings.Contains(pqErr.Message, "statement timeout"):
			return fmt.Errorf("%w: a statement ran longer than the statement timeout (%s): %v; raise --statement-timeout (0 for no limit) if the database is just slow", ErrTimeout, settings.StatementTimeout, err)
		case pqErr.Code == "55P03":
			return fmt.Errorf("%w: waited longer than the lock timeout (%s) for a lock another session holds: %v; find it in pg_stat_activity, or raise --lock-timeout", ErrTimeout, settings.LockTimeout, err)
		}
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
		return Explain(fmt.Errorf("%w: %w", ErrCommit, err))
	}
	return nil
}

// isUniqueViolation reports a unique_violation, optionally on one constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && (constraint == "" || pqErr.Constraint == constraint)
}

// Snapshot is a read-only transaction, on a connection of its own, that
// sees the database as it was when it was opened. An import opens one
// before its own transaction writes anything, and looks up there the state
// its rules check (the users as they were before the batch), while its
// transaction writes the new users at the same time.
type Snapshot struct {
	*sqlx.Tx
	conn *sqlx.Conn
}

// OpenSnapshot opens a Snapshot on a connection of db.
func OpenSnapshot(ctx context.Context, db *sqlx.DB) (*Snapshot, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, Explain(err)
	}
	tx, err := conn.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		conn.Close()
		return nil, Explain(err)
	}
	// A repeatable-read transaction takes its snapshot at its first query.
	// The look-ups made here find a few thousand rows by key: each must be
	// an index probe. While the batch writes, the table grows far past what
	// its statistics say (a first import fills an empty one); the planner,
	// trusting them, would read all the tenant's rows for every chunk
	// instead, and a million-row import would take quadratic time.
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
		SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SELECT 1`); err != nil {
		tx.Rollback()
		conn.Close()
		return nil, Explain(err)
	}
	return &Snapshot{Tx: tx, conn: conn}, nil
}

// Close ends the snapshot and returns its connection to the pool; it may
// be called again.
func (s *Snapshot) Close() {
	if s.conn == nil {
		return
	}
	_ = s.Tx.Rollback()
	_ = s.conn.Close()
	s.conn = nil
}
