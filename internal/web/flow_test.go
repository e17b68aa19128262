package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/internal/web"
)

// upload posts a sheet to the upload form as a browser does: the
// anti-forgery token (none when csrf is "") and the options first, the
// file last.
func (b *browser) upload(org, csrf, name, sheet string, options map[string]string) response {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		_ = mw.WriteField("csrf", csrf)
	}
	for k, v := range options {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, sheet)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.f.srv.URL+"/orgs/"+org+"/upload", &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(data)}
}

var planPathRE = regexp.MustCompile(`^/orgs/([a-z]+)/plans/([A-Za-z0-9_-]+)$`)

// planOf uploads a sheet and returns the path of its plan's page.
func (b *browser) planOf(org, sheet string) string {
	b.t.Helper()
	r := b.upload(org, b.csrf("/orgs/"+org+"/upload"), "users.csv", sheet, nil)
	loc := r.header.Get("Location")
	if r.code != http.StatusSeeOther || !planPathRE.MatchString(loc) {
		b.t.Fatalf("upload = %d %q\n%s", r.code, loc, r.body)
	}
	return loc
}

// applied applies the plan of the page at plan and waits for its result
// page to say how it went; it returns the result page.
func (b *browser) applied(plan string) response {
	b.t.Helper()
	r := b.post(plan+"/apply", map[string][]string{"csrf": {b.csrf(plan)}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != plan+"/result" {
		b.t.Fatalf("apply = %d %q\n%s", r.code, r.header.Get("Location"), r.body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := b.get(plan + "/result")
		if !strings.Contains(res.body, `http-equiv="refresh"`) {
			return res
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the apply did not end:\n%s", res.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUploadNeedsToken: an upload without the anti-forgery token, or with
// another one, is refused before the file is read, and keeps no plan.
func TestUploadNeedsToken(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	for _, tok := range []string{"", "not-the-token-of-this-session-0123456789"} {
		if r := b.upload("acme", tok, "users.csv", header+"new@acme.example,New,User,,,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE\n", nil); r.code != http.StatusForbidden {
			t.Errorf("upload with token %q = %d, want 403", tok, r.code)
		}
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM plans`); err != nil || n != 0 {
		t.Errorf("plans kept: %d %v", n, err)
	}
}

// TestUploadPlanApply walks the web flow: an upload with a mistake and a
// cell holding markup, its plan (counts, findings by rule, changes field
// by field, the markup shown as text), the report, the apply in the
// background recorded as from the web and the session, a second apply
// refused, and a plan made before the seats changed refused naming them.
func TestUploadPlanApply(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	if r := b.get("/orgs/acme/upload"); r.code != 200 || !strings.Contains(r.body, `enctype="multipart/form-data"`) || !strings.Contains(r.body, `<label for="file">`) {
		t.Fatalf("upload page = %d\n%s", r.code, r.body)
	}
	sheet := header +
		"zoe.new@acme.example,<script>alert(1)</script>,Nouveau,Zoé Nouveau,znew,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n" +
		"not-an-email,X,Y,X Y,xy,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE\n"
	plan := b.planOf("acme", sheet)
	page := b.get(plan)
	if page.code != 200 {
		t.Fatalf("plan page = %d\n%s", page.code, page.body)
	}
	for _, want := range []string{`id="n-created">1<`, `id="n-rejected">1<`, "R-EMAIL", "not-an-email", "First Name",
		html.EscapeString("<script>alert(1)</script>"), `id="apply"`, `id="report-csv"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "<script>alert") {
		t.Error("the plan page holds the cell's markup unescaped")
	}
	if r := b.get(plan + "?action=deactivate"); !strings.Contains(r.body, "No changes.") {
		t.Errorf("the plan filtered to deactivations shows changes:\n%s", r.body)
	}
	if r := b.get(plan + "/report?format=csv"); r.code != 200 || !strings.Contains(r.body, "not-an-email") || !strings.Contains(r.body, "R-EMAIL") {
		t.Errorf("the plan's report = %d\n%s", r.code, r.body)
	}
	if u := f.status(t, "zoe.new@acme.example"); u != "" {
		t.Fatalf("the upload created zoe (%s)", u)
	}

	res := b.applied(plan)
	m := regexp.MustCompile(`id="batch" href="/orgs/acme/batches/(\d+)"`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("the result page names no batch:\n%s", res.body)
	}
	if u := f.status(t, "zoe.new@acme.example"); u != "active" {
		t.Errorf("zoe after the apply: %q", u)
	}
	var kind, ref string
	if err := f.db.QueryRow(`SELECT origin_kind, origin_ref FROM batches WHERE id = $1`, m[1]).Scan(&kind, &ref); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(b.sessionCookie()))
	if kind != "web" || ref != hex.EncodeToString(sum[:]) || strings.Contains(ref, b.sessionCookie()) {
		t.Errorf("the batch's origin = %q %q, want web and the session id's hash", kind, ref)
	}

	// Twice: refused, nothing more applied.
	if r := b.post(plan+"/apply", map[string][]string{"csrf": {b.csrf(plan)}}); r.code != http.StatusConflict || !strings.Contains(r.body, m[1]) {
		t.Errorf("apply twice = %d\n%s", r.code, r.body)
	}
	var batches int
	_ = f.db.Get(&batches, `SELECT count(*) FROM batches WHERE origin_kind = 'web'`)
	if batches != 1 {
		t.Errorf("%d batches from the web, want 1", batches)
	}

	// The seats changed since the plan: refused, saying so.
	plan = b.planOf("acme", header+"yves.new@acme.example,Yves,Neuf,Yves Neuf,yneuf,paris,Active,,TRUE,FALSE,FALSE,FALSE,FALSE,,FALSE\n")
	if _, err := f.db.Exec(`UPDATE tenants SET premium_seats = 20 WHERE id = 'acme'`); err != nil {
		t.Fatal(err)
	}
	res = b.applied(plan)
	if res.code != http.StatusConflict || !strings.Contains(res.body, "Contact Center Premium seats") || !strings.Contains(res.body, `id="again"`) {
		t.Errorf("apply after a seat change = %d\n%s", res.code, res.body)
	}
	if u := f.status(t, "yves.new@acme.example"); u != "" {
		t.Errorf("yves after the refused apply: %q", u)
	}
}

// TestPlanOfAnotherOrg: a plan of acme is not found from globex.
func TestPlanOfAnotherOrg(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	plan := b.planOf("acme", header+"zoe.new@acme.example,Zoé,Nouveau,Zoé Nouveau,znew,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n")
	id := planPathRE.FindStringSubmatch(plan)[2]
	g := f.browser(t)
	g.signIn("globex", "hank@globex.example")
	for _, path := range []string{"/orgs/globex/plans/" + id, "/orgs/globex/plans/" + id + "/report", "/orgs/globex/plans/" + id + "/result"} {
		if r := g.get(path); r.code != http.StatusNotFound {
			t.Errorf("GET %s from globex = %d, want 404", path, r.code)
		}
	}
	if r := g.post("/orgs/globex/plans/"+id+"/apply", map[string][]string{"csrf": {g.csrf("/orgs/globex/upload")}}); r.code != http.StatusNotFound {
		t.Errorf("apply acme's plan from globex = %d, want 404", r.code)
	}
}

// TestUploadBeyondRights: a Contact Center Service Administrator's sheet
// beyond its rights (creating users, granting Full Administrator) gets its
// plan with those rows rejected (R-PERM), as the command line rejects them,
// and the rows it may change planned.
func TestUploadBeyondRights(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", "sophie.laurent@acme.example")
	plan := b.planOf("acme", header+
		"zoe.new@acme.example,Zoé,Nouveau,Zoé Nouveau,znew,paris,Active,,FALSE,TRUE,TRUE,FALSE,FALSE,,FALSE\n"+
		"lea.girard@acme.example,Léa,Girard,Léa Girard,lgirard,paris,Active,,FALSE,TRUE,TRUE,FALSE,FALSE,,FALSE\n"+
		"noe.blanc@acme.example,Noé,Blanc,Noé Blanc,nblanc,paris,Active,,TRUE,FALSE,FALSE,FALSE,FALSE,,FALSE\n")
	page := b.get(plan)
	for _, want := range []string{`id="n-rejected">2<`, `id="n-created">0<`, `id="n-updated">1<`, "R-PERM — 2 rows", "zoe.new@acme.example", "lea.girard@acme.example"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the plan of a sheet beyond the actor's rights lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("%d\n%s", page.code, page.body)
	}
}

// status returns a user's status in acme, "" when there is none.
func (f *fixture) status(t *testing.T, email string) string {
	t.Helper()
	var s string
	_ = f.db.Get(&s, `SELECT status FROM users WHERE tenant_id = 'acme' AND email = $1`, email)
	return s
}

// TestUploadOverLimit: an upload past Config.MaxUpload is 413 and its plan
// cannot be applied.
func TestUploadOverLimit(t *testing.T) {
	f := newFixtureWith(t, func(c *web.Config) { c.MaxUpload = 4096 })
	b := f.browser(t)
	b.signIn("acme", primary)
	var sheet strings.Builder
	sheet.WriteString(header)
	for i := range 200 {
		fmt.Fprintf(&sheet, "user%d@acme.example,User,%d,,,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n", i, i)
	}
	r := b.upload("acme", b.csrf("/orgs/acme/upload"), "big.csv", sheet.String(), nil)
	if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "4096") {
		t.Errorf("an upload over the limit = %d\n%s", r.code, r.body)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM plans WHERE body IS NOT NULL`); err != nil || n != 0 {
		t.Errorf("plans that could be applied: %d %v", n, err)
	}
}
