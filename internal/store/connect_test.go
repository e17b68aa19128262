package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

// clearPGEnv unsets every PG* variable for the test (restored after it),
// so that only what the test sets names the server.
func clearPGEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// TestBadURLNeverPrintsPassword: connection settings that do not parse
// give ErrBadConfig, a message that says how to fix them, and never the
// password or a piece of it (url.Parse's own errors quote the whole URL).
func TestBadURLNeverPrintsPassword(t *testing.T) {
	clearPGEnv(t)
	cases := []struct {
		name, url string
		secrets   []string
		want      string
	}{
		{"percent in the password", "postgres://u:s3cr%et@db.example/ccbulk", []string{"s3cr", "%et"}, "percent-encode special characters in the user name and password (% as %25"},
		{"slash in the password", "postgres://u:pa/ss3cret@db.example/ccbulk", []string{"pa/ss3cret", "ss3cret"}, "does not parse as a URL"},
		{"bad port", "postgres://u:s3cret@db.example:54x2/ccbulk", []string{"s3cret"}, "the port is not a number"},
		{"bad host", "postgres://u:s3cret@db example/ccbulk", []string{"s3cret"}, "does not parse as a URL"},
		{"key=value, bad port", "host=db.example port=abc password=s3cret", []string{"s3cret"}, `wrong value for "port"`},
		{"key=value, password with a space", "host=db.example password=two s3cret w0rds", []string{"s3cret", "w0rds"}, "quote a value that holds spaces"},
		{"key=value, unterminated quote", "host=db.example password='s3cret", []string{"s3cret"}, "unterminated quoted string"},
		{"hash in the password", "postgres://u:p@ss#w0rd@db.example/ccbulk", []string{"ss#w0rd", "w0rd"}, "percent-encode it as %23"},
		{"socket directory as the host", "postgres://u:s3cret@%2Ftmp/ccbulk", []string{"s3cret"}, "a socket directory goes in ?host=/path"},
		{"bad sslmode", "postgres://u:s3cret@db.example/ccbulk?sslmode=bogus", []string{"s3cret"}, `"bogus" is not supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), c.url)
			if !errors.Is(err, store.ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
			msg := err.Error()
			for _, s := range c.secrets {
				if strings.Contains(msg, s) {
					t.Errorf("message holds %q: %s", s, msg)
				}
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not say %q", msg, c.want)
			}
		})
	}
}

// TestConnConfigLikePsql: the settings ccbulk connects with, from a URL,
// the PG* variables and a service file, are psql's: TLS preferred unless
// sslmode is given, PGAPPNAME (or the URL's application_name) before
// ccbulk's own name, and the local socket when no host is named.
func TestConnConfigLikePsql(t *testing.T) {
	sockDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(sockDir, ".s.PGSQL.5432"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	emptyDir := t.TempDir()
	serviceFile := filepath.Join(t.TempDir(), "pg_service.conf")
	if err := os.WriteFile(serviceFile, []byte("[nightly]\nhost=svc.example\nport=6543\ndbname=ccbulk\nuser=sync\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		url         string
		env         map[string]string
		socketDirs  []string
		host        string
		port        uint16
		sslmode     pq.SSLMode
		application string
	}{
		{"PGHOST only", "", map[string]string{"PGHOST": "db.example"}, nil, "db.example", 5432, pq.SSLModePrefer, "ccbulk"},
		{"PGSSLMODE", "", map[string]string{"PGHOST": "db.example", "PGSSLMODE": "require"}, nil, "db.example", 5432, pq.SSLModeRequire, "ccbulk"},
		{"URL sslmode", "postgres://u@db.example/ccbulk?sslmode=verify-full", map[string]string{"PGSSLMODE": "disable"}, nil, "db.example", 5432, pq.SSLModeVerifyFull, "ccbulk"},
		{"URL without sslmode", "postgres://u@db.example/ccbulk", nil, []string{sockDir}, "db.example", 5432, pq.SSLModePrefer, "ccbulk"},
		{"PGAPPNAME", "postgres://u@db.example/ccbulk", map[string]string{"PGAPPNAME": "nightly-sync"}, nil, "db.example", 5432, pq.SSLModePrefer, "nightly-sync"},
		{"URL application_name", "postgres://u@db.example/ccbulk?application_name=hr-feed", map[string]string{"PGAPPNAME": "nightly-sync"}, nil, "db.example", 5432, pq.SSLModePrefer, "hr-feed"},
		{"nothing named, local socket", "", nil, []string{emptyDir, sockDir}, sockDir, 5432, pq.SSLModeDisable, "ccbulk"},
		{"nothing named, no local socket", "", nil, []string{emptyDir}, "localhost", 5432, pq.SSLModePrefer, "ccbulk"},
		{"key=value without host", "dbname=ccbulk", nil, []string{sockDir}, sockDir, 5432, pq.SSLModeDisable, "ccbulk"},
		{"PGSERVICE", "", map[string]string{"PGSERVICE": "nightly", "PGSERVICEFILE": serviceFile}, []string{sockDir}, "svc.example", 6543, pq.SSLModePrefer, "ccbulk"},
	}
	saved := store.DefaultSocketDirs
	defer func() { store.DefaultSocketDirs = saved }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearPGEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			store.DefaultSocketDirs = c.socketDirs
			cfg, err := store.ConnConfig(c.url, store.DefaultSettings)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != c.host || cfg.Port != c.port || cfg.SSLMode != c.sslmode || cfg.ApplicationName != c.application {
				t.Errorf("host %q port %d sslmode %q application_name %q, want %q %d %q %q",
					cfg.Host, cfg.Port, cfg.SSLMode, cfg.ApplicationName, c.host, c.port, c.sslmode, c.application)
			}
			if got := cfg.Runtime["client_connection_check_interval"]; got != "1000" {
				t.Errorf("client_connection_check_interval = %q, want 1000", got)
			}
		})
	}
}

// serverAddr returns the network and address of the test server.
func serverAddr(t *testing.T) (network, address string, cfg pq.Config) {
	t.Helper()
	cfg, err := pq.NewConfig(testdb.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.IsAbs(cfg.Host) {
		return "unix", filepath.Join(cfg.Host, ".s.PGSQL."+strconv.Itoa(int(cfg.Port))), cfg
	}
	return "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg
}

// tcpProxy forwards connections on a local TCP port to the test server
// (which may listen on a socket only), and returns the port. The server
// has no TLS: a client that asks for it is told so, as over the network.
func tcpProxy(t *testing.T) int {
	t.Helper()
	network, address, _ := serverAddr(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial(network, address)
				if err != nil {
					return
				}
				defer s.Close()
				// Either side closing ends the copies; the client sees it.
				go func() { _, _ = io.Copy(s, c) }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestConnectLikePsql connects to the test server as psql would, with no
// URL: over TCP with PGHOST, PGPORT, PGUSER and PGDATABASE and no
// PGSSLMODE (the server has no TLS, so this takes the fallback to a plain
// connection that lib/pq's own default, require, refuses), through a
// service file, and with PGAPPNAME.
func TestConnectLikePsql(t *testing.T) {
	_, _, server := serverAddr(t)
	port := tcpProxy(t)
	serviceFile := filepath.Join(t.TempDir(), "pg_service.conf")
	service := fmt.Sprintf("[ccbulk-test]\nhost=127.0.0.1\nport=%d\nuser=%s\ndbname=%s\n", port, server.User, server.Database)
	if err := os.WriteFile(serviceFile, []byte(service), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PGHOST": "127.0.0.1", "PGPORT": strconv.Itoa(port), "PGUSER": server.User, "PGDATABASE": server.Database}
	cases := []struct {
		name        string
		env         map[string]string
		application string
	}{
		{"PG variables", env, "ccbulk"},
		{"PGSERVICE", map[string]string{"PGSERVICE": "ccbulk-test", "PGSERVICEFILE": serviceFile}, "ccbulk"},
		{"PGAPPNAME", map[string]string{"PGHOST": "127.0.0.1", "PGPORT": strconv.Itoa(port), "PGUSER": server.User, "PGDATABASE": server.Database, "PGAPPNAME": "nightly-sync"}, "nightly-sync"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearPGEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			db, err := store.Open(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var app, interval string
			var tls bool
			if err := db.Pool().QueryRow(`SELECT current_setting('application_name'), current_setting('client_connection_check_interval'),
				(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())`).Scan(&app, &interval, &tls); err != nil {
				t.Fatal(err)
			}
			if app != c.application || interval != "1s" || tls {
				t.Errorf("application_name %q, client_connection_check_interval %q, ssl %v; want %q, 1s, false", app, interval, tls, c.application)
			}
		})
	}
}

// TestCannotConnect: a host that does not resolve, a port that refuses
// and a role the server turns away are "cannot connect to the database"
// with what to do, never "connection lost", and never print the password.
func TestCannotConnect(t *testing.T) {
	clearPGEnv(t)
	// A port that refuses: one that was just listened on and closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// The test server trusts every local user, so no password can fail;
	// a role that may not log in gets the same class of error (28000)
	// from the server as a wrong password (28P01).
	admin, err := sqlx.Open("postgres", testdb.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`DROP ROLE IF EXISTS ccbulk_nologin; CREATE ROLE ccbulk_nologin NOLOGIN`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := admin.Exec(`DROP ROLE IF EXISTS ccbulk_nologin`); err != nil {
			t.Error(err)
		}
	}()
	_, _, server := serverAddr(t)
	nologin := fmt.Sprintf("host=%s port=%d dbname=%s user=ccbulk_nologin password=s3cret sslmode=disable", server.Host, server.Port, server.Database)

	cases := []struct {
		name, url string
		want      []string
	}{
		{"unresolvable host", "postgres://u:s3cret@nonexistent.invalid/ccbulk?connect_timeout=10", []string{"cannot connect to the database", `the host "nonexistent.invalid" does not resolve`}},
		{"refused port", fmt.Sprintf("postgres://u:s3cret@127.0.0.1:%d/ccbulk", refused), []string{"cannot connect to the database", "is PostgreSQL running"}},
		{"role turned away", nologin, []string{"cannot connect to the database", "not permitted to log in", "PGPASSWORD", "~/.pgpass"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), c.url)
			if !errors.Is(err, store.ErrCannotConnect) || errors.Is(err, store.ErrConnectionLost) {
				t.Fatalf("err = %v, want ErrCannotConnect and not ErrConnectionLost", err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "s3cret") || strings.Contains(msg, "connection was lost") {
				t.Errorf("message %q holds the password or says the connection was lost", msg)
			}
		})
	}
}

// TestExplainWrongPassword: a failed password (SQLSTATE 28P01, which the
// test server, trusting every local user, cannot produce) says where the
// password comes from.
func TestExplainWrongPassword(t *testing.T) {
	err := store.Explain(&pq.Error{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "ccbulk"`})
	msg := err.Error()
	if !errors.Is(err, store.ErrCannotConnect) {
		t.Errorf("err = %v, want ErrCannotConnect", err)
	}
	for _, w := range []string{"password authentication failed", "PGPASSWORD", "~/.pgpass", "in the URL"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not say %q", msg, w)
		}
	}
}
