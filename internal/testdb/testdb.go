// Package testdb gives tests a real, throwaway PostgreSQL database with the
// ccbulk schema: one database per test, cloned from a migrated template made
// once per test binary. The server is named by DATABASE_URL, which 'make
// test' sets (scripts/pg.sh starts a private cluster when it is unset).
package testdb

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the postgres driver

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

var (
	once     sync.Once
	template string
	onceErr  error
	counter  atomic.Int64
)

// ServerURL returns DATABASE_URL, failing the test when it is unset.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with 'make test', which starts a throwaway PostgreSQL, or point DATABASE_URL at a server where this user may create databases")
	}
	return u
}

// WithDatabase returns the server URL u with its database replaced by name.
func WithDatabase(u, name string) (string, error) {
	if strings.Contains(u, "://") {
		p, err := url.Parse(u)
		if err != nil {
			return "", err
		}
		p.Path = "/" + name
		return p.String(), nil
	}
	return u + " dbname=" + name, nil // key=value form: the last dbname wins
}

// New creates a fresh migrated database for the test, dropped when the test
// ends, and returns a connection pool and its URL.
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	u, drop, err := Create(ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		drop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		drop()
	})
	return db, u
}

// Create makes a fresh migrated database on the server and returns its URL
// and a function that drops it.
func Create(server string) (string, func(), error) {
	once.Do(func() { template, onceErr = makeTemplate(server) })
	if onceErr != nil {
		return "", nil, fmt.Errorf("preparing the template database: %w", onceErr)
	}
	name := fmt.Sprintf("ccbulk_test_%d_%d", os.Getpid(), counter.Add(1))
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	u, err := WithDatabase(server, name)
	if err != nil {
		return "", nil, err
	}
	drop := func() {
		if a, err := sqlx.Open("postgres", server); err == nil {
			_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			a.Close()
		}
	}
	return u, drop, nil
}

func makeTemplate(server string) (string, error) {
	name := fmt.Sprintf("ccbulk_template_%d", os.Getpid())
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", err
	}
	u, err := WithDatabase(server, name)
	if err != nil {
		return "", err
	}
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := store.Migrate(context.Background(), db); err != nil {
		return "", err
	}
	return name, nil
}

// Main runs a package's tests and drops the template database afterwards.
// Call it from TestMain: os.Exit(testdb.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if template != "" {
		if admin, err := sqlx.Open("postgres", os.Getenv("DATABASE_URL")); err == nil {
			_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, template))
			admin.Close()
		}
	}
	return code
}

// Empty creates a fresh database without any schema, dropped when the test
// ends, for tests of the migrations themselves: a database as an earlier
// ccbulk left it is made with ApplyMigrations.
func Empty(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	server := ServerURL(t)
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("ccbulk_empty_%d_%d", os.Getpid(), counter.Add(1))
	if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sqlx.Open("postgres", server); err == nil {
			_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			_ = a.Close()
		}
	})
	u, err := WithDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, u
}

// ApplyMigrations runs the embedded migrations whose numbers are at least
// from and below to ("0001", "0008": 0001 to 0007), in order, each as its
// own statement as ccbulk migrate runs them. With record, each is also
// entered in schema_migrations (created when missing), so that ccbulk
// migrate later applies only the rest.
func ApplyMigrations(t testing.TB, db *sqlx.DB, from, to string, record bool) {
	t.Helper()
	if record {
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := fs.Glob(schema.Migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	for _, path := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		if name[:4] < from || name[:4] >= to {
			continue
		}
		body, err := fs.ReadFile(schema.Migrations, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !record {
			continue
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
			t.Fatal(err)
		}
	}
}
