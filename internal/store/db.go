package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrBadConfig is wrapped when the connection settings do not parse (a
// malformed --db URL, or a PG* variable with a wrong value). Its message
// never holds the password.
var ErrBadConfig = errors.New("the database connection settings do not parse")

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

// Open connects to the database at url with DefaultSettings; see OpenWith.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, DefaultSettings)
}

// ApplicationName is the application_name ccbulk's sessions carry unless
// the URL or PGAPPNAME names another, so that operators can find ccbulk in
// pg_stat_activity.
const ApplicationName = "ccbulk"

// ConnectionCheckInterval is how often the server checks, during a long
// statement, that ccbulk is still connected (client_connection_check_interval,
// PostgreSQL 14 and later): a run killed in the middle of a statement then
// loses its session, and its advisory lock, within about that time rather
// than when the statement ends.
const ConnectionCheckInterval = time.Second

// OpenWith connects to the database at url as psql would: an empty url
// falls back to libpq's PG* variables, PGSERVICE and ~/.pgpass, and, with
// no host named anywhere, to the local server's socket; without an
// sslmode in the URL or PGSSLMODE, TLS is tried first and a plain
// connection used when the server has no TLS (libpq's "prefer"). Every
// connection of the pool starts with statement_timeout and lock_timeout
// set from s, client_connection_check_interval set to
// ConnectionCheckInterval, and application_name ApplicationName unless the
// URL or PGAPPNAME names one. No error it returns holds the password.
// The pool is returned as a DB, through which every query goes.
func OpenWith(ctx context.Context, url string, s Settings) (*DB, error) {
	cfg, err := ConnConfig(url, s)
	if err != nil {
		return nil, err
	}
	db, err := connect(ctx, cfg)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && strings.Contains(pqErr.Message, "client_connection_check_interval") {
		// A server before PostgreSQL 14, or one on a system without the
		// check: connect without it.
		delete(cfg.Runtime, "client_connection_check_interval")
		db, err = connect(ctx, cfg)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = redact(connectError(err), secrets(url))
		if url == "" {
			err = fmt.Errorf("%w\n(no --db or DATABASE_URL was given, so ccbulk connected as psql would: with the PG* variables, PGSERVICE and ~/.pgpass, or to the local server; pass --db URL or set DATABASE_URL, for example postgres://ccbulk@db.example/ccbulk?sslmode=verify-full)", err)
		}
		return nil, err
	}
	return New(db), nil
}

// connect opens a pool with cfg and checks that it reaches the server.
func connect(ctx context.Context, cfg pq.Config) (*sqlx.DB, error) {
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ConnConfig returns the connection settings OpenWith uses for url (see
// there), read from url, the environment and the service file.
func ConnConfig(url string, s Settings) (pq.Config, error) {
	if (strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")) && strings.Contains(url, "#") {
		return pq.Config{}, parseError(url, errFragment)
	}
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return pq.Config{}, parseError(url, err)
	}
	if !hostNamed(url) {
		for _, dir := range DefaultSocketDirs {
			if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", cfg.Port))); err == nil {
				cfg.Host = dir
				break
			}
		}
	}
	switch {
	case filepath.IsAbs(cfg.Host) || strings.HasPrefix(cfg.Host, "@"):
		cfg.SSLMode = pq.SSLModeDisable // no TLS over a local socket
	case cfg.SSLMode == "":
		cfg.SSLMode = pq.SSLModePrefer // neither the URL nor PGSSLMODE chose one
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = ApplicationName
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	cfg.Runtime["statement_timeout"] = millis(s.StatementTimeout)
	cfg.Runtime["lock_timeout"] = millis(s.LockTimeout)
	if _, ok := cfg.Runtime["client_connection_check_interval"]; !ok {
		cfg.Runtime["client_connection_check_interval"] = millis(ConnectionCheckInterval)
	}
	return cfg, nil
}

// DefaultSocketDirs are where psql looks for the local server's socket when
// no host is named: Debian's and PostgreSQL's own default.
var DefaultSocketDirs = []string{"/var/run/postgresql", "/tmp"}

// hostNamed reports whether url, PGHOST, PGHOSTADDR or a service names the
// server's host; when none does, psql uses the local socket.
func hostNamed(dsn string) bool {
	if os.Getenv("PGHOST") != "" || os.Getenv("PGHOSTADDR") != "" || os.Getenv("PGSERVICE") != "" {
		return true
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := neturl.Parse(dsn)
		if err != nil {
			return true
		}
		q := u.Query()
		return u.Hostname() != "" || q.Has("host") || q.Has("hostaddr") || q.Has("service")
	}
	return kvKey.MatchString(dsn)
}

// kvKey finds a key=value connection string's keys that name the host.
var kvKey = regexp.MustCompile(`(^|\s)(host|hostaddr|service)\s*=`)

// parseError says that the connection settings do not parse, without the
// password: url.Parse's errors quote the whole URL, and its pieces (an
// invalid escape, a port) may be pieces of the password.
func parseError(dsn string, err error) error {
	if errors.Is(err, errFragment) {
		return &badConfigError{`the database URL (--db or DATABASE_URL) holds a "#", which would end it there; percent-encode it as %23 (and % as %25, @ as %40, : as %3A, / as %2F, ? as %3F in the user name and password)`}
	}
	var uerr *neturl.Error
	if errors.As(err, &uerr) {
		var (
			what    string
			escErr  neturl.EscapeError
			hostErr neturl.InvalidHostError
		)
		switch {
		case errors.As(uerr.Err, &escErr) && isHexEscape(string(escErr)):
			what = "the host holds an escape (a socket directory goes in ?host=/path, not before the database name)"
		case errors.As(uerr.Err, &escErr):
			what = `a "%" is not followed by two hexadecimal digits`
		case errors.As(uerr.Err, &hostErr):
			what = "the host is not valid"
		case strings.Contains(uerr.Err.Error(), "port"):
			what = "the port is not a number"
		default:
			what = "it is malformed"
		}
		return &badConfigError{fmt.Sprintf("the database URL (--db or DATABASE_URL) does not parse as a URL: %s; "+
			"percent-encode special characters in the user name and password (%% as %%25, @ as %%40, : as %%3A, / as %%2F, ? as %%3F, # as %%23)", what)}
	}
	if strings.HasPrefix(err.Error(), `missing "=" after`) {
		// The word it quotes may be the second word of a password.
		return &badConfigError{"the database connection string (--db or DATABASE_URL) has a word without \"=\"; quote a value that holds spaces (password='two words')"}
	}
	return &badConfigError{fmt.Sprintf("%v: %v", ErrBadConfig, redact(err, secrets(dsn)))}
}

// badConfigError is ErrBadConfig with a message of its own.
type badConfigError struct{ msg string }

func (e *badConfigError) Error() string        { return e.msg }
func (e *badConfigError) Is(target error) bool { return target == ErrBadConfig }

// errFragment is a URL with a "#": a database URL has no fragment, so the
// "#" is in a password and would cut it (and make the rest a host name).
var errFragment = errors.New("a # in the URL")

// isHexEscape reports whether s is a well-formed %XX escape.
func isHexEscape(s string) bool {
	_, err := neturl.PathUnescape(s)
	return len(s) == 3 && err == nil
}

// secrets returns the forms the password takes in dsn, longest first: as
// written and decoded, and the words of a password with spaces.
func secrets(dsn string) []string {
	var found []string
	add := func(s string) {
		if s == "" {
			return
		}
		found = append(found, s)
		if d, err := neturl.PathUnescape(s); err == nil && d != s {
			found = append(found, d)
		}
		if d, err := neturl.QueryUnescape(s); err == nil && d != s {
			found = append(found, d)
		}
		for _, w := range strings.Fields(s) {
			if len(w) >= 3 {
				found = append(found, w)
			}
		}
	}
	if rest, ok := strings.CutPrefix(dsn, "postgres://"); ok || strings.HasPrefix(dsn, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(dsn, "postgresql://")
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
			}
		}
	}
	for _, m := range passwordValue.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		if strings.HasPrefix(v, "'") {
			v = strings.Trim(v, "'")
			add(strings.ReplaceAll(v, `\`, ""))
		}
		add(v)
	}
	if pw := os.Getenv("PGPASSWORD"); pw != "" {
		add(pw)
	}
	slices.SortFunc(found, func(a, b string) int { return len(b) - len(a) })
	return found
}

// passwordValue finds a password in a URL's query or a key=value string.
var passwordValue = regexp.MustCompile(`(^|[\s?&])password\s*=\s*('(?:[^'\\]|\\.)*'?|[^\s&]*)`)

// redactedError is an error whose message had the password taken out; it
// still wraps the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact takes every form of the password out of err's message.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		clean = strings.ReplaceAll(clean, s, "xxxxx")
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// connectError says that the server could not be reached or refused the
// session, and what to do about it.
func connectError(err error) error {
	if errors.Is(err, ErrCannotConnect) {
		return err
	}
	if hint, ok := connectHint(err); ok {
		return fmt.Errorf("%w: %w%s", ErrCannotConnect, err, hint)
	}
	return fmt.Errorf("%w: %w", ErrCannotConnect, err)
}

// connectHint recognises the errors of opening a session and says what to
// do about each; ok is false for other errors.
func connectHint(err error) (hint string, ok bool) {
	var (
		pqErr  *pq.Error
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &pqErr) && (pqErr.Code == "28P01" || pqErr.Code == "28000"):
		return "; check the password (in the URL, percent-encoded; PGPASSWORD; or ~/.pgpass, PGPASSFILE) and that the server's pg_hba.conf lets this user in from here", true
	case errors.As(err, &pqErr) && pqErr.Code == "3D000":
		return "; create it first (createdb NAME), or name another database", true
	case errors.Is(err, pq.ErrSSLNotSupported), strings.Contains(msg, "SSL is not enabled on the server"):
		return "; the server offers no TLS: without sslmode ccbulk tries TLS and falls back to a plain connection as psql does, and sslmode=disable (…?sslmode=disable) is for a local server without SSL", true
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("; the host %q does not resolve: check the host name in --db/DATABASE_URL or PGHOST", dnsErr.Name), true
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such file or directory"):
		return "; is PostgreSQL running, and do --db/DATABASE_URL (or PGHOST and PGPORT) name the right host and port?", true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "; check the host and port in --db/DATABASE_URL (or PGHOST and PGPORT), and that the server is reachable from here", true
	}
	return "", false
}

// ErrCannotConnect is wrapped when ccbulk could not open a session: the
// server could not be reached, or refused it.
var ErrCannotConnect = errors.New("cannot connect to the database")

// millis writes a duration as PostgreSQL's milliseconds; 0 disables the limit.
func millis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return fmt.Sprint(max(d.Milliseconds(), 1))
}

// ErrConnectionLost is wrapped when the database connection broke mid-run:
// the server went away, was restarted, or ended the session
// (schema.ErrConnectionLost).
var ErrConnectionLost = schema.ErrConnectionLost

// ErrCommit is wrapped when COMMIT itself failed: when the connection broke
// there, the server may or may not have committed (schema.ErrCommit).
var ErrCommit = schema.ErrCommit

// ErrTimeout is wrapped when a statement hit statement_timeout or lock_timeout.
var ErrTimeout = errors.New("a database time limit was reached")

// TimeoutError is a statement that hit the statement timeout, or (Lock)
// waited longer than the lock timeout; it wraps ErrTimeout. Its message
// names no setting: each front end says how its timeouts are raised.
type TimeoutError struct {
	Lock bool
	Err  error // the server's error
}

func (e *TimeoutError) Error() string {
	if e.Lock {
		return fmt.Sprintf("%v: waited longer than the lock timeout for a lock another session holds: %v; find it in pg_stat_activity", ErrTimeout, e.Err)
	}
	return fmt.Sprintf("%v: a statement ran longer than the statement timeout: %v", ErrTimeout, e.Err)
}

func (e *TimeoutError) Unwrap() error { return ErrTimeout }

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

// Explain adds what to do to the connection errors people meet most. An
// error of opening a session (a host that does not resolve or refuses, a
// failed password) wraps ErrCannotConnect, not ErrConnectionLost.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrCannotConnect) {
		return err
	}
	if hint, ok := connectHint(err); ok {
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) && lostConnection(err) {
			// A new session of the pool could not be opened in the
			// middle of a run: the run has lost its database too.
			return fmt.Errorf("%w (%w): %w%s", ErrCannotConnect, ErrConnectionLost, err, hint)
		}
		return fmt.Errorf("%w: %w%s", ErrCannotConnect, err, hint)
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
			return &TimeoutError{Err: err}
		case pqErr.Code == "55P03":
			return &TimeoutError{Lock: true, Err: err}
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
	Queries
	tx   *sqlx.Tx
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
		_ = tx.Rollback()
		_ = conn.Close()
		return nil, Explain(err)
	}
	return &Snapshot{Queries: Queries{q: tx}, tx: tx, conn: conn}, nil
}

// Close ends the snapshot and returns its connection to the pool; it may
// be called again.
func (s *Snapshot) Close() {
	if s.conn == nil {
		return
	}
	_ = s.tx.Rollback()
	_ = s.conn.Close()
	s.conn = nil
}
