package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/server"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const (
	root     = "root@acme.example"
	admin2   = "jean@acme.example"
	betaRoot = "root@beta.example"
)

// header is the template's header of the sheets these tests import.
const header = "Email,First Name,Last Name,Full Administrator\n"

// env is a database with the organizations acme (root and a second Full
// Administrator, jean) and beta, and a server on it.
type env struct {
	db    *sqlx.DB
	admin *app.Admin
	srv   *httptest.Server
	url   string
}

// newEnv makes the database and the server; cfg, when not nil, adjusts
// the server's configuration.
func newEnv(t *testing.T, cfg func(*server.Config)) *env {
	t.Helper()
	db, _ := testdb.New(t)
	ctx := context.Background()
	for _, o := range []schema.Org{
		{ID: "acme", Name: "Acme", PBXes: []string{"main"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: root},
		{ID: "beta", Name: "Beta", PBXes: []string{"main"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: betaRoot},
	} {
		if err := store.CreateOrg(ctx, db, o); err != nil {
			t.Fatal(err)
		}
	}
	res, err := importer.Import(ctx, pgimporter.New(store.New(db)), importer.Options{File: "-", Stdin: strings.NewReader(header + admin2 + ",Jean,Martin,TRUE\n"),
		Org: "acme", Actor: root, Report: t.TempDir() + "/r.csv"})
	if err != nil || res.Rejected != 0 {
		t.Fatalf("seeding acme: %v %+v", err, res.Findings)
	}
	c := server.Config{DB: store.New(db), MaxUpload: 1 << 20, Log: slog.New(slog.DiscardHandler)}
	if cfg != nil {
		cfg(&c)
	}
	h, err := server.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &env{db: db, admin: &app.Admin{Store: store.New(db).Admin()}, srv: ts, url: ts.URL}
}

// token creates a token of org acting as actor, valid for d (0: for ever).
func (e *env) token(t *testing.T, org, actor string, d time.Duration) (app.Token, string) {
	t.Helper()
	tok, secret, err := e.admin.TokenCreate(context.Background(), app.TokenRequest{Org: org, Actor: actor, Expires: d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

// answer is an HTTP answer read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer's body as a JSON object.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return m
}

// errorID returns the answer's error id ("" for null) and message.
func (a answer) errorOf(t *testing.T) (id, msg string) {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("answer %d has no error: %s", a.status, a.body)
	}
	id, _ = e["id"].(string)
	msg, _ = e["message"].(string)
	return id, msg
}

// do sends a request with the token (none when "") and reads the answer.
func (e *env) do(t *testing.T, method, path, token string, body io.Reader, contentType string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e *env) get(t *testing.T, path, token string) answer {
	return e.do(t, http.MethodGet, path, token, nil, "")
}

func (e *env) post(t *testing.T, path, token, body string) answer {
	return e.do(t, http.MethodPost, path, token, strings.NewReader(body), "text/csv")
}

// userStatus returns a user's status in acme, "" when there is none.
func (e *env) userStatus(t *testing.T, org, email string) string {
	t.Helper()
	u, err := store.GetUser(context.Background(), e.db, org, email)
	if err != nil {
		return ""
	}
	return string(u.Status)
}

// waitFor polls cond until it holds (the test's deadline ends it).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runningBatch returns the id of org's running batch, 0 when none.
func (e *env) runningBatch(t *testing.T, org string) int64 {
	t.Helper()
	var id int64
	_ = e.db.Get(&id, `SELECT coalesce(max(id), 0) FROM batches WHERE tenant_id = $1 AND status = 'running'`, org)
	return id
}

func num(m map[string]any, key string) int {
	f, _ := m[key].(float64)
	return int(f)
}
