package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/internal/server"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// TestConcurrentImportsOneTenant: while an import holds acme's lock (its
// upload still coming), a second import to acme answers 409 naming the
// batch that holds it, one with lock_wait waits for it, and an import to
// beta runs meanwhile.
func TestConcurrentImportsOneTenant(t *testing.T) {
	e := newEnv(t, nil)
	_, acme := e.token(t, "acme", root, 0)
	_, beta := e.token(t, "beta", betaRoot, 0)

	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	var wg sync.WaitGroup
	var first answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", acme, pr, "text/csv")
	}()
	if _, err := io.WriteString(pw, header+"ann@acme.example,Ann,A,FALSE\n"+filler(3000)); err != nil {
		t.Fatal(err)
	}
	var holder int64
	waitFor(t, "the first import to hold the lock", func() bool { holder = e.runningBatch(t, "acme"); return holder != 0 })

	a := e.post(t, "/api/v1/orgs/acme/imports", acme, header+"bob@acme.example,Bob,B,FALSE\n")
	_, msg := a.errorOf(t)
	if a.status != http.StatusConflict || !strings.Contains(msg, fmt.Sprintf("batch %d", holder)) {
		t.Errorf("the second import = %d %s; want 409 naming batch %d", a.status, a.body, holder)
	}
	if e.userStatus(t, "acme", "bob@acme.example") != "" {
		t.Error("the refused import created bob")
	}
	// Another tenant is not held up.
	if a := e.post(t, "/api/v1/orgs/beta/imports", beta, header+"bea@beta.example,Bea,B,FALSE\n"); a.status != 200 {
		t.Errorf("an import to beta meanwhile = %d %s", a.status, a.body)
	}
	// lock_wait waits for the lock.
	var waited answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		waited = e.post(t, "/api/v1/orgs/acme/imports?lock_wait=60s", acme, header+"cid@acme.example,Cid,C,FALSE\n")
	}()
	_ = pw.Close()
	wg.Wait()
	if first.status != 200 || waited.status != 200 {
		t.Errorf("first = %d %s; waiting = %d %s", first.status, first.body, waited.status, waited.body)
	}
	if e.userStatus(t, "acme", "ann@acme.example") == "" || e.userStatus(t, "acme", "cid@acme.example") == "" {
		t.Error("ann or cid was not created")
	}
}

// TestClientGoneMidUpload: a client that disconnects while its upload is
// coming leaves nothing applied, and the batch is recorded failed.
func TestClientGoneMidUpload(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)
	u, _ := url.Parse(e.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	body := header + "ann@acme.example,Ann,A,FALSE\n" + filler(3000)
	fmt.Fprintf(conn, "POST /api/v1/orgs/acme/imports HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s",
		u.Host, tok, len(body)+100000, body)
	var batch int64
	waitFor(t, "the import to start", func() bool { batch = e.runningBatch(t, "acme"); return batch != 0 })
	_ = conn.Close()
	var status string
	waitFor(t, "the batch to end", func() bool {
		_ = e.db.Get(&status, `SELECT coalesce((SELECT status FROM batches WHERE id = $1), 'gone')`, batch)
		return status != "running"
	})
	if status != "failed" && status != "gone" {
		t.Errorf("batch %d is %s, want failed", batch, status)
	}
	if s := e.userStatus(t, "acme", "ann@acme.example"); s != "" {
		t.Errorf("a cut upload created ann (%s)", s)
	}
}

// TestUploadOverLimit: a body over --max-upload is 413, whether its
// Content-Length says so (refused before it is read) or it is sent in
// chunks (refused when the limit is passed); nothing is applied.
func TestUploadOverLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxUpload = 200 })
	_, tok := e.token(t, "acme", root, 0)
	var b strings.Builder
	b.WriteString(header)
	for i := 0; b.Len() < 2000; i++ {
		fmt.Fprintf(&b, "user%d@acme.example,U,%d,FALSE\n", i, i)
	}
	a := e.post(t, "/api/v1/orgs/acme/imports", tok, b.String())
	if a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("with Content-Length = %d %s", a.status, a.body)
	}
	// Chunked: no length told in advance.
	a = e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, io.MultiReader(strings.NewReader(b.String())), "text/csv")
	if _, msg := a.errorOf(t); a.status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "max-upload") {
		t.Errorf("chunked = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "user0@acme.example"); s != "" {
		t.Errorf("an upload over the limit created user0 (%s)", s)
	}
	// Under the limit it works.
	if a := e.post(t, "/api/v1/orgs/acme/imports", tok, header+"ok@acme.example,O,K,FALSE\n"); a.status != 200 {
		t.Errorf("a small upload = %d %s", a.status, a.body)
	}
}

// filler is n rows of users, enough bytes for the input's format to be
// told and the run to start.
func filler(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "filler%d@acme.example,Filler,%d,FALSE\n", i, i)
	}
	return b.String()
}

// TestUploadStalls: an upload that stops coming for longer than
// UploadIdle is answered 408; nothing is applied, the batch is failed and
// the organization's lock is free again.
func TestUploadStalls(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.UploadIdle = 300 * time.Millisecond })
	_, tok := e.token(t, "acme", root, 0)
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	done := make(chan answer, 1)
	go func() { done <- e.do(t, http.MethodPost, "/api/v1/orgs/acme/imports", tok, pr, "text/csv") }()
	if _, err := io.WriteString(pw, header+"ann@acme.example,Ann,A,FALSE\n"+filler(3000)); err != nil {
		t.Fatal(err)
	}
	a := <-done // the client sends nothing more
	if a.status != http.StatusRequestTimeout {
		t.Errorf("a stalled upload = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "ann@acme.example"); s != "" {
		t.Errorf("a stalled upload created ann (%s)", s)
	}
	var running int
	_ = e.db.Get(&running, `SELECT count(*) FROM batches WHERE status = 'running'`)
	if running != 0 {
		t.Errorf("%d batches still running", running)
	}
	if a := e.post(t, "/api/v1/orgs/acme/imports", tok, header+"bob@acme.example,Bob,B,FALSE\n"); a.status != 200 {
		t.Errorf("the next import = %d %s", a.status, a.body)
	}
}

// TestImportLimits: the import limits of the command line (--max-rows and
// the others) apply to uploads: F-LIMIT, 400, nothing applied.
func TestImportLimits(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Limits = sheet.DefaultLimits; c.Limits.MaxRows = 2 })
	_, tok := e.token(t, "acme", root, 0)
	a := e.post(t, "/api/v1/orgs/acme/imports", tok, header+filler(3))
	if id, _ := a.errorOf(t); a.status != http.StatusBadRequest || id != "F-LIMIT" {
		t.Errorf("3 rows over max-rows 2 = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "filler0@acme.example"); s != "" {
		t.Errorf("a file over the limit created filler0 (%s)", s)
	}
}

// TestManyTenantsAtOnce: imports to ten tenants at once all run, on a
// database handle opened as the command line opens it (a pool of 4):
// server.New sizes the pool for the runs it allows at once, so that no run
// waits for ever for a connection another run holds.
func TestManyTenantsAtOnce(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MaxRuns = 10
		c.DB.SetMaxOpenConns(4) // as store.Open leaves it for one command-line run
	})
	const n = 10
	tokens := make([]string, n)
	for i := range n {
		org := fmt.Sprintf("t%d", i)
		if err := store.CreateOrg(t.Context(), e.db, schema.Org{ID: org, Name: org, PBXes: []string{"main"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: "root@" + org + ".example"}); err != nil {
			t.Fatal(err)
		}
		_, tokens[i] = e.token(t, org, "root@"+org+".example", 0)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			org := fmt.Sprintf("t%d", i)
			var b strings.Builder
			b.WriteString(header)
			for j := range 100 {
				fmt.Fprintf(&b, "u%d@%s.example,U,%d,FALSE\n", j, org, j)
			}
			req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/orgs/"+org+"/imports", strings.NewReader(b.String()))
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", org, err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("import to t%d = %d", i, s)
		}
	}
}
