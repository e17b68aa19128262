package cli_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/web"
)

// webAsRole runs the web front end on db, a connection as the day-to-day
// role of docs/ccbulk-roles.sql: the sign-in link out (from 'serve link')
// is used, the session reaches the organization's and a batch's pages and
// the undo preview, uploads a sheet, reads its plan, applies it, and signs
// out.
func webAsRole(t *testing.T, db *sqlx.DB, out string) {
	t.Helper()
	link, _, _ := strings.Cut(out, "\n")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("serve link printed %q: %v", out, err)
	}
	h, err := web.New(web.Config{DB: store.New(db), BaseURL: "http://ccbulk.test"})
	if err != nil {
		t.Fatal(err)
	}
	var cookie string
	do := func(method, path string, form url.Values, want int) string {
		t.Helper()
		req := httptest.NewRequest(method, "http://ccbulk.test"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("web %s %s as the day-to-day role: %d, want %d\n%s", method, path, rec.Code, want, rec.Body)
		}
		if c := rec.Result().Cookies(); len(c) > 0 && c[0].Name == "ccbulk_session" {
			cookie = c[0].Name + "=" + c[0].Value
		}
		return rec.Body.String()
	}
	do("POST", "/signin/link", url.Values{"token": {u.Query().Get("token")}}, http.StatusSeeOther)
	page := do("GET", "/orgs/acme", nil, http.StatusOK)
	do("GET", "/orgs/acme/batches/1", nil, http.StatusOK)
	do("GET", "/orgs/acme/batches/1/undo", nil, http.StatusOK) // the dry run reads the audit trail and the outbox
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no anti-forgery token on the organization's page:\n%s", page)
	}
	// An upload (a dry run keeping its plan), its plan's page, its apply
	// (the state written on the plan's row) and its result.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", m[1])
	fw, _ := mw.CreateFormFile("file", "least.csv")
	_, _ = io.WriteString(fw, "Email,First Name,Last Name,PBX\nleast.priv@acme.example,Least,Priv,paris\n")
	_ = mw.Close()
	req := httptest.NewRequest("POST", "http://ccbulk.test/orgs/acme/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	plan := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(plan, "/orgs/acme/plans/") {
		t.Fatalf("web upload as the day-to-day role: %d %q\n%s", rec.Code, plan, rec.Body)
	}
	do("GET", plan, nil, http.StatusOK)
	do("POST", plan+"/apply", url.Values{"csrf": {m[1]}}, http.StatusSeeOther)
	deadline := time.Now().Add(60 * time.Second)
	for res := do("GET", plan+"/result", nil, http.StatusOK); !strings.Contains(res, `id="batch"`); res = do("GET", plan+"/result", nil, http.StatusOK) {
		if !strings.Contains(res, `http-equiv="refresh"`) || time.Now().After(deadline) {
			t.Fatalf("the web apply as the day-to-day role:\n%s", res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A sweep of applies whose server stopped (columns of migration 0015).
	if _, err := (&runs.Service{DB: store.New(db), Lease: time.Nanosecond}).Sweep(context.Background()); err != nil {
		t.Errorf("a sweep as the day-to-day role: %v", err)
	}
	do("POST", "/signout", url.Values{"csrf": {m[1]}}, http.StatusOK)
}
