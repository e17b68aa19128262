package server_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/internal/server"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

// TestEveryEndpoint walks the API of docs/REFERENCE.md §6, each endpoint and each of
// its status codes, against a real server and PostgreSQL.
func TestEveryEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)

	// Health, readiness, the OpenAPI document: no token needed.
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.json"} {
		if a := e.get(t, path, ""); a.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200: %s", path, a.status, a.body)
		}
	}

	// Template: CSV by default, XLSX on asking, a wrong format is 400.
	if a := e.get(t, "/api/v1/template", tok); a.status != 200 || !strings.HasPrefix(string(a.body), "Email,First Name") {
		t.Errorf("template csv = %d %q", a.status, a.body)
	}
	if a := e.get(t, "/api/v1/template?format=xlsx", tok); a.status != 200 || !bytes.HasPrefix(a.body, []byte("PK")) {
		t.Errorf("template xlsx = %d, %d bytes", a.status, len(a.body))
	}
	if a := e.get(t, "/api/v1/template?format=pdf", tok); a.status != http.StatusBadRequest {
		t.Errorf("template pdf = %d, want 400", a.status)
	}

	// A dry run writes nothing and names its plan.
	a := e.post(t, "/api/v1/orgs/acme/imports?dry_run=true", tok, header+"ann@acme.example,Ann,A,FALSE\n")
	if m := a.json(t); a.status != 200 || m["plan_id"] == nil || num(m, "created") != 1 || m["batch_id"] != nil {
		t.Fatalf("dry run = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "ann@acme.example"); s != "" {
		t.Fatalf("a dry run created ann (%s)", s)
	}

	// An import: the --json object plus report_url (null: no finding).
	a = e.post(t, "/api/v1/orgs/acme/imports", tok, header+"ann@acme.example,Ann,A,FALSE\nbob@acme.example,Bob,B,FALSE\n")
	m := a.json(t)
	if a.status != 200 || m["applied"] != true || num(m, "created") != 2 || m["report_url"] != nil {
		t.Fatalf("import = %d %s", a.status, a.body)
	}
	for _, key := range []string{"batch_id", "org", "dry_run", "applied", "rows", "created", "updated", "unchanged", "deactivated",
		"rejected", "warnings", "ignored_columns", "report", "activation_emails", "findings_by_rule", "started_at", "finished_at", "version", "error", "report_url"} {
		if _, ok := m[key]; !ok {
			t.Errorf("the import's answer has no %q: %s", key, a.body)
		}
	}
	first := num(m, "batch_id")

	// Rows rejected: still 200 (exit 3), with the report's URL.
	a = e.post(t, "/api/v1/orgs/acme/imports", tok, header+"cleo@acme.example,Cleo,C,FALSE\nnot-an-email,X,Y,FALSE\n")
	m = a.json(t)
	if a.status != 200 || num(m, "rejected") != 1 || m["report_url"] == nil {
		t.Fatalf("import with a rejected row = %d %s", a.status, a.body)
	}
	withReport := num(m, "batch_id")
	reportURL := m["report_url"].(string)
	if want := fmt.Sprintf("%s/api/v1/orgs/acme/batches/%d/report", e.url, withReport); reportURL != want {
		t.Errorf("report_url = %q, want %q", reportURL, want)
	}
	reportURL = strings.TrimPrefix(reportURL, e.url)
	if a := e.get(t, reportURL, tok); a.status != 200 || !strings.Contains(string(a.body), "not-an-email") || !strings.Contains(string(a.body), "R-EMAIL") {
		t.Errorf("GET report = %d %s", a.status, a.body)
	}
	if a := e.get(t, reportURL+"?format=xlsx", tok); a.status != 200 || !bytes.HasPrefix(a.body, []byte("PK")) ||
		a.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("GET the CSV report as XLSX = %d %q", a.status, a.header.Get("Content-Type"))
	} else {
		// The XLSX report imports again as it is: the fixed row goes in.
		fixed := e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports?dry_run=true", tok, bytes.NewReader(a.body), "")
		if m := fixed.json(t); fixed.status != 200 || num(m, "rows") != 1 || num(m, "rejected") != 1 {
			t.Errorf("the XLSX report imported again = %d %s", fixed.status, fixed.body)
		}
	}
	if a := e.get(t, reportURL+"?format=jsonl", tok); a.status != http.StatusNotFound {
		t.Errorf("GET a CSV report as jsonl = %d, want 404", a.status)
	}
	if a := e.get(t, fmt.Sprintf("/api/v1/orgs/acme/batches/%d/report", first), tok); a.status != http.StatusNotFound {
		t.Errorf("GET report of a batch without one = %d, want 404", a.status)
	}

	// A file-level finding: 400 with the finding.
	a = e.post(t, "/api/v1/orgs/acme/imports", tok, "Nothing,Here\n1,2\n")
	if id, _ := a.errorOf(t); a.status != http.StatusBadRequest || !strings.HasPrefix(id, "F-") {
		t.Errorf("a sheet without the template's columns = %d %s", a.status, a.body)
	}
	// A wrong option: 400 naming it.
	if a := e.post(t, "/api/v1/orgs/acme/imports?dryrun=true", tok, header); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "dryrun") {
		t.Errorf("an unknown parameter = %d %s", a.status, a.body)
	}
	if a := e.post(t, "/api/v1/orgs/acme/imports?mapping=./x.yaml", tok, header); a.status != http.StatusBadRequest {
		t.Errorf("a mapping file over HTTP = %d %s", a.status, a.body)
	}
	// A limit: --sync over --max-deactivate is 409 (exit 4), nothing applied.
	a = e.post(t, "/api/v1/orgs/acme/imports?sync=true&max_deactivate=0", tok, header+"ann@acme.example,Ann,A,FALSE\n")
	if m := a.json(t); a.status != http.StatusConflict || m["sync_limit"] == nil {
		t.Errorf("sync over its limit = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "bob@acme.example"); s != "active" {
		t.Errorf("a refused sync deactivated bob (%s)", s)
	}
	a = e.post(t, "/api/v1/orgs/acme/imports?max_rejected=0", tok, header+"dan@acme.example,Dan,D,FALSE\nbad,X,Y,FALSE\n")
	if a.status != http.StatusConflict || e.userStatus(t, "acme", "dan@acme.example") != "" {
		t.Errorf("over max_rejected = %d %s", a.status, a.body)
	}
	// An actor who may not: F-ACTOR is 403 (a read-only change by jean
	// of root, the primary administrator, is refused by the rules, not
	// here; a token of a user who is no administrator cannot be made).

	// Export.
	if a := e.get(t, "/api/v1/orgs/acme/users", tok); a.status != 200 || !strings.Contains(string(a.body), "bob@acme.example") {
		t.Errorf("export = %d %s", a.status, a.body)
	}
	if a := e.get(t, "/api/v1/orgs/acme/users?format=xlsx", tok); a.status != 200 || !bytes.HasPrefix(a.body, []byte("PK")) {
		t.Errorf("export xlsx = %d", a.status)
	}

	// History.
	a = e.get(t, "/api/v1/orgs/acme/batches", tok)
	if bs, _ := a.json(t)["batches"].([]any); a.status != 200 || len(bs) < 3 {
		t.Errorf("batches = %d %s", a.status, a.body)
	}
	a = e.get(t, fmt.Sprintf("/api/v1/orgs/acme/batches/%d", first), tok)
	m = a.json(t)
	if ch, _ := m["changes"].([]any); a.status != 200 || len(ch) == 0 || m["batch"] == nil || m["activation_emails"] == nil {
		t.Errorf("batch = %d %s", a.status, a.body)
	}
	for _, path := range []string{"/api/v1/orgs/acme/batches/99999", "/api/v1/orgs/acme/batches/abc", "/api/v1/orgs/acme/batches/99999/report"} {
		if a := e.get(t, path, tok); a.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, a.status)
		}
	}
	if a := e.get(t, "/api/v1/nothing", tok); a.status != http.StatusNotFound {
		t.Errorf("an unknown endpoint = %d", a.status)
	}

	// Undo: a dry run, a conflict (a later batch changed the same user),
	// the undo, and again (400: undone already).
	a = e.do(t, http.MethodPost, fmt.Sprintf("/api/v1/orgs/acme/batches/%d/undo?dry_run=true", withReport), tok, nil, "")
	if m := a.json(t); a.status != 200 || m["dry_run"] != true || num(m, "users") != 1 {
		t.Errorf("undo dry run = %d %s", a.status, a.body)
	}
	a = e.post(t, "/api/v1/orgs/acme/imports", tok, header+"ann@acme.example,Anne,A,FALSE\n")
	if a.status != 200 {
		t.Fatalf("changing ann = %d %s", a.status, a.body)
	}
	a = e.do(t, http.MethodPost, fmt.Sprintf("/api/v1/orgs/acme/batches/%d/undo", first), tok, nil, "")
	if m := a.json(t); a.status != http.StatusConflict || len(m["conflicts"].([]any)) == 0 {
		t.Errorf("undo over later changes = %d %s", a.status, a.body)
	}
	a = e.do(t, http.MethodPost, fmt.Sprintf("/api/v1/orgs/acme/batches/%d/undo", withReport), tok, nil, "")
	if m := a.json(t); a.status != 200 || m["applied"] != true {
		t.Errorf("undo = %d %s", a.status, a.body)
	} else {
		var kind string
		_ = e.db.Get(&kind, `SELECT origin_kind FROM batches WHERE id = $1`, int64(num(m, "batch_id")))
		if kind != "api" {
			t.Errorf("the undo's batch records origin %q, want api", kind)
		}
	}
	if s := e.userStatus(t, "acme", "cleo@acme.example"); s != "" {
		t.Errorf("the undo left cleo (%s)", s)
	}
	a = e.do(t, http.MethodPost, fmt.Sprintf("/api/v1/orgs/acme/batches/%d/undo", withReport), tok, nil, "")
	if a.status != http.StatusBadRequest {
		t.Errorf("undo again = %d %s", a.status, a.body)
	}
	if a := e.do(t, http.MethodPost, "/api/v1/orgs/acme/batches/99999/undo", tok, nil, ""); a.status != http.StatusNotFound {
		t.Errorf("undo of no batch = %d %s", a.status, a.body)
	}

	// Without a token, or with a wrong one: 401.
	for _, tk := range []string{"", "ccb_nothing"} {
		if a := e.get(t, "/api/v1/orgs/acme/batches", tk); a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q = %d", tk, a.status)
		}
	}

	// The metrics count what happened, by route and status, and imports
	// by outcome.
	a = e.get(t, "/metrics", "")
	for _, want := range []string{`ccbulk_http_requests_total{route="POST /api/v1/orgs/{org}/imports",status="409"}`,
		`ccbulk_imports_total{outcome="applied"}`, `ccbulk_imports_total{outcome="rejected_rows"}`, "ccbulk_import_rows_total", "ccbulk_import_duration_seconds"} {
		if !strings.Contains(string(a.body), want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	// The batches made through the API record where they came from.
	var kind, ref string
	if err := e.db.QueryRow(`SELECT origin_kind, origin_ref FROM batches WHERE id = $1`, first).Scan(&kind, &ref); err != nil || kind != "api" || ref == "" {
		t.Errorf("origin of batch %d = %q %q (%v)", first, kind, ref, err)
	}
}

// TestDryRunReport: a dry run with findings keeps its report under its
// plan id.
func TestDryRunReport(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)
	a := e.post(t, "/api/v1/orgs/acme/imports?dry_run=true&report_format=jsonl", tok, header+"bad,X,Y,FALSE\n")
	m := a.json(t)
	if a.status != 200 || m["plan_id"] == nil || m["report_url"] == nil {
		t.Fatalf("dry run = %d %s", a.status, a.body)
	}
	u := strings.TrimPrefix(m["report_url"].(string), e.url)
	if !strings.Contains(u, "/plans/"+m["plan_id"].(string)+"/report") {
		t.Errorf("report_url = %s", u)
	}
	if r := e.get(t, u, tok); r.status != 200 || !strings.Contains(string(r.body), `"row":2`) {
		t.Errorf("GET %s = %d %s", u, r.status, r.body)
	}
	// Another organization's token does not read it.
	_, betaTok := e.token(t, "beta", betaRoot, 0)
	if r := e.get(t, strings.Replace(u, "/acme/", "/beta/", 1), betaTok); r.status != http.StatusNotFound {
		t.Errorf("beta reading acme's plan report = %d", r.status)
	}
}

// TestTokens: a token of organization A on organization B is 403; a
// revoked or expired token is 401; a demoted actor's token is 403
// (F-ACTOR) on its next request.
func TestTokens(t *testing.T) {
	now := time.Now()
	clock := &now
	e := newEnv(t, func(c *server.Config) { c.Now = func() time.Time { return *clock } })
	_, acme := e.token(t, "acme", root, 0)
	if a := e.get(t, "/api/v1/orgs/beta/batches", acme); a.status != http.StatusForbidden {
		t.Errorf("acme's token on beta = %d %s", a.status, a.body)
	}
	if a := e.post(t, "/api/v1/orgs/beta/imports", acme, header+"x@beta.example,X,Y,FALSE\n"); a.status != http.StatusForbidden || e.userStatus(t, "beta", "x@beta.example") != "" {
		t.Errorf("acme's token importing into beta = %d %s", a.status, a.body)
	}

	tok, secret := e.token(t, "acme", root, 0)
	if a := e.get(t, "/api/v1/orgs/acme/batches", secret); a.status != 200 {
		t.Fatalf("a fresh token = %d %s", a.status, a.body)
	}
	if _, err := e.admin.TokenRevoke(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if a := e.get(t, "/api/v1/orgs/acme/batches", secret); a.status != http.StatusUnauthorized || !strings.Contains(string(a.body), "revoked") {
		t.Errorf("a revoked token = %d %s", a.status, a.body)
	}

	_, short := e.token(t, "acme", root, time.Hour)
	if a := e.get(t, "/api/v1/orgs/acme/batches", short); a.status != 200 {
		t.Fatalf("a token before it expires = %d %s", a.status, a.body)
	}
	later := now.Add(2 * time.Hour)
	clock = &later
	if a := e.get(t, "/api/v1/orgs/acme/batches", short); a.status != http.StatusUnauthorized || !strings.Contains(string(a.body), "expired") {
		t.Errorf("an expired token = %d %s", a.status, a.body)
	}
	clock = &now

	// jean's token works while jean is an administrator, and stops at
	// once when root takes the role away.
	_, jean := e.token(t, "acme", admin2, 0)
	if a := e.get(t, "/api/v1/orgs/acme/batches", jean); a.status != 200 {
		t.Fatalf("jean's token = %d %s", a.status, a.body)
	}
	if a := e.post(t, "/api/v1/orgs/acme/imports", acme, header+admin2+",Jean,Martin,FALSE\n"); a.status != 200 {
		t.Fatalf("demoting jean = %d %s", a.status, a.body)
	}
	for _, a := range []answer{
		e.get(t, "/api/v1/orgs/acme/batches", jean),
		e.post(t, "/api/v1/orgs/acme/imports", jean, header+"zed@acme.example,Zed,Z,FALSE\n"),
		e.get(t, "/api/v1/orgs/acme/users", jean),
	} {
		if id, _ := a.errorOf(t); a.status != http.StatusForbidden || id != "F-ACTOR" {
			t.Errorf("the demoted actor's token = %d %s", a.status, a.body)
		}
	}
	if e.userStatus(t, "acme", "zed@acme.example") != "" {
		t.Error("the demoted actor's token created zed")
	}
}

// TestMultipartAndXLSX: the file as the body or as the multipart field
// file, CSV or XLSX told apart by content.
func TestMultipartAndXLSX(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)
	multi := func(name string, data []byte) (*bytes.Buffer, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("note", "ignored")
		f, _ := w.CreateFormFile("file", name)
		_, _ = f.Write(data)
		_ = w.Close()
		return &b, w.FormDataContentType()
	}
	body, ct := multi("users.csv", []byte(header+"ann@acme.example,Ann,A,FALSE\n"))
	a := e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, body, ct)
	if m := a.json(t); a.status != 200 || num(m, "created") != 1 {
		t.Fatalf("multipart CSV = %d %s", a.status, a.body)
	}
	var file string
	_ = e.db.Get(&file, `SELECT file_name FROM batches WHERE id = $1`, int64(num(a.json(t), "batch_id")))
	if file != "users.csv" {
		t.Errorf("the batch records the file %q, want the upload's name users.csv", file)
	}

	xlsx := e.get(t, "/api/v1/orgs/acme/users?format=xlsx", tok)
	if xlsx.status != 200 {
		t.Fatalf("export = %d", xlsx.status)
	}
	// An export imported back changes nothing: raw body, named .csv or not.
	a = e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, bytes.NewReader(xlsx.body), "application/octet-stream")
	if m := a.json(t); a.status != 200 || num(m, "unchanged") != 3 || num(m, "rows") != 3 {
		t.Errorf("raw XLSX = %d %s", a.status, a.body)
	}
	body, ct = multi("looks-like.csv", xlsx.body)
	a = e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, body, ct)
	if m := a.json(t); a.status != 200 || num(m, "unchanged") != 3 {
		t.Errorf("multipart XLSX = %d %s", a.status, a.body)
	}
	body, _ = multi("x.csv", nil)
	body.Reset()
	w := multipart.NewWriter(body)
	_ = w.WriteField("other", "x")
	_ = w.Close()
	a = e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, body, w.FormDataContentType())
	if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), `field \"file\"`) {
		t.Errorf("multipart without file = %d %s", a.status, a.body)
	}
}

// TestBaseURL: report_url is under --base-url when it is set.
func TestBaseURL(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.BaseURL = "https://ccbulk.example/" })
	_, tok := e.token(t, "acme", root, 0)
	a := e.post(t, "/api/v1/orgs/acme/imports", tok, header+"bad,X,Y,FALSE\n")
	m := a.json(t)
	if want := fmt.Sprintf("https://ccbulk.example/api/v1/orgs/acme/batches/%d/report", num(m, "batch_id")); m["report_url"] != want || m["report"] != want {
		t.Errorf("report_url = %v, want %s", m["report_url"], want)
	}
}

// TestTokenStoredAsHash: the database keeps only the token's SHA-256.
func TestTokenStoredAsHash(t *testing.T) {
	e := newEnv(t, nil)
	tok, secret := e.token(t, "acme", root, 0)
	if !strings.HasPrefix(secret, "ccb_") {
		t.Errorf("token %q lacks the ccb_ prefix", secret)
	}
	sum := sha256.Sum256([]byte(secret))
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM api_tokens WHERE token_sha256 = $1`, sum[:]); err != nil || id != tok.ID {
		t.Errorf("no token row by the SHA-256 (%v)", err)
	}
	var found int
	if err := e.db.Get(&found, `SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0`, secret); err != nil || found != 0 {
		t.Errorf("the token is stored as it is (%d rows, %v)", found, err)
	}
	// A second token of the same actor is another secret.
	_, other := e.token(t, "acme", root, 0)
	if other == secret {
		t.Error("two tokens share a secret")
	}
}

// TestWebAndReadiness: the web pages' handler gets what is not the API;
// an unknown API path is still a JSON 404; readyz is 503 when the schema
// is not current.
func TestWebAndReadiness(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "web:"+r.URL.Path) })
	e := newEnv(t, func(c *server.Config) { c.Web = web })
	if a := e.get(t, "/orgs/acme", ""); a.status != 200 || string(a.body) != "web:/orgs/acme" {
		t.Errorf("a web page = %d %s", a.status, a.body)
	}
	if a := e.get(t, "/api/v2/x", ""); a.status != http.StatusNotFound || !strings.Contains(string(a.body), `"error"`) {
		t.Errorf("an unknown API path = %d %s", a.status, a.body)
	}
	if _, err := e.db.Exec(`DELETE FROM schema_migrations WHERE name = '0012_api'`); err != nil {
		t.Fatal(err)
	}
	if a := e.get(t, "/readyz", ""); a.status != http.StatusServiceUnavailable || !strings.Contains(string(a.body), "0012_api") {
		t.Errorf("readyz on an old schema = %d %s", a.status, a.body)
	}
	if a := e.get(t, "/healthz", ""); a.status != 200 {
		t.Errorf("healthz = %d", a.status)
	}
}

// TestOIDCSettings: the provider's settings go together, and the client
// secret file must be readable.
func TestOIDCSettings(t *testing.T) {
	db, _ := testdb.New(t)
	secret := t.TempDir() + "/secret"
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		oidc server.OIDC
		ok   bool
	}{
		{server.OIDC{}, true},
		{server.OIDC{Issuer: "https://login.example", ClientID: "ccbulk", ClientSecretFile: secret}, true},
		{server.OIDC{Issuer: "https://login.example"}, false},
		{server.OIDC{Issuer: "https://login.example", ClientID: "ccbulk", ClientSecretFile: secret + ".missing"}, false},
	} {
		srv, err := server.New(server.Config{DB: store.New(db), OIDC: tc.oidc})
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v", tc.oidc, err)
		}
		if err == nil && tc.oidc.ClientSecretFile != "" && srv.OIDC().ClientSecret != "s3cret" {
			t.Errorf("the client secret read is %q", srv.OIDC().ClientSecret)
		}
	}
}
