package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/web"
)

// actors are acme's administrators, one of each actor kind of docs/REFERENCE.md §3.
var actors = []struct {
	kind, email string
}{
	{"Full: customer", "jean.martin@acme.example"},
	{"Full: partner", "tom.baker@northwind.example"},
	{"Full: other", "olga.berg@contoso.example"},
	{"CC Service: customer", "sophie.laurent@acme.example"},
	{"CC Service: other", "ana.silva@contoso.example"},
	{"Read-only: customer", "pawel.kowalski@acme.example"},
	{"Read-only: partner", "kasia.lis@northwind.example"},
}

// TestPermissionTable walks docs/REFERENCE.md §3 over HTTP: for each actor kind, what
// its pages show and what it may do. A read-only administrator of the
// customer reaches nothing; the export is masked for a CC Service
// Administrator; an undo is allowed when the actor could make every change
// it makes.
func TestPermissionTable(t *testing.T) {
	f := newFixture(t)
	// A batch that changed only a member's license, and one that created a user.
	licenses := f.importCSV(t, "acme", primary, "lea.girard@acme.example,,,,,,,,TRUE,FALSE,,,,,\n")

	type want struct {
		org, export int
		masked      bool
		undoLicense int
		undoCreate  int
	}
	const ok, no = http.StatusOK, http.StatusForbidden
	wants := map[string]want{
		"Full: customer":       {ok, ok, false, ok, ok},
		"Full: partner":        {ok, ok, false, ok, ok},
		"Full: other":          {ok, ok, false, ok, ok},
		"CC Service: customer": {ok, ok, true, ok, no},
		"CC Service: other":    {ok, ok, true, ok, no},
		"Read-only: customer":  {no, no, false, no, no},
		"Read-only: partner":   {ok, ok, false, no, no},
	}
	for i, a := range actors {
		t.Run(a.kind, func(t *testing.T) {
			w := wants[a.kind]
			created := f.importCSV(t, "acme", primary, fmt.Sprintf("new.agent%d@acme.example,New,Agent,,,paris,,,FALSE,TRUE,,,,,FALSE\n", i))
			b := f.browser(t)
			b.signIn("acme", a.email)
			check := func(what string, got, want int) {
				t.Helper()
				if got != want {
					t.Errorf("%s: %d, want %d", what, got, want)
				}
			}
			org := b.get("/orgs/acme")
			check("org page", org.code, w.org)
			check("batches", b.get("/orgs/acme/batches").code, w.org)
			check("batch page", b.get(fmt.Sprintf("/orgs/acme/batches/%d", licenses)).code, w.org)
			exp := b.get("/orgs/acme/export?format=csv")
			check("export", exp.code, w.export)
			if exp.code == ok {
				checkExport(t, exp.body, w.masked)
			}
			check("undo preview of a license change", b.get(fmt.Sprintf("/orgs/acme/batches/%d/undo", licenses)).code, w.undoLicense)
			check("undo preview of a batch that created a user", b.get(fmt.Sprintf("/orgs/acme/batches/%d/undo", created)).code, w.undoCreate)
			if w.org == ok {
				// The form to undo is offered only to one who may.
				tok := b.csrf("/orgs/acme")
				check("undo of a batch that created a user", b.post(fmt.Sprintf("/orgs/acme/batches/%d/undo", created), url.Values{"csrf": {tok}}).code,
					map[int]int{ok: http.StatusSeeOther, no: no}[w.undoCreate])
			}
		})
	}
}

// checkExport checks an export's rows: masked, the Full and Read-only
// Administrator columns are blank and external users other than CC Service
// Administrators are left out.
func checkExport(t *testing.T, body string, masked bool) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export: %v\n%s", err, body)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	emails := map[string]bool{}
	for _, r := range rows[1:] {
		emails[r[col["Email"]]] = true
		if masked && (r[col["Full Administrator"]] != "" || r[col["Read-only Administrator"]] != "") {
			t.Errorf("masked export shows an admin role: %v", r)
		}
	}
	if got := emails["tom.baker@northwind.example"]; got == masked {
		t.Errorf("export masked=%v lists the partner's Full Administrator: %v", masked, got)
	}
	if !emails["ana.silva@contoso.example"] {
		t.Error("export lacks the external CC Service Administrator")
	}
}

// TestCrossTenant: a session of acme asking for globex's pages, or for a
// batch of globex under acme's URL, is refused.
func TestCrossTenant(t *testing.T) {
	f := newFixture(t)
	theirs := f.importCSV(t, "globex", "hank@globex.example", "zed@globex.example,Zed,,,,main,,,,,,,,,FALSE\n")
	b := f.browser(t)
	b.signIn("acme", primary)
	tok := b.csrf("/orgs/acme")
	for _, p := range []string{"/orgs/globex", "/orgs/globex/export?format=csv", "/orgs/globex/batches", fmt.Sprintf("/orgs/globex/batches/%d", theirs),
		fmt.Sprintf("/orgs/globex/batches/%d/undo", theirs)} {
		if r := b.get(p); r.code != http.StatusForbidden || strings.Contains(r.body, "zed@globex") {
			t.Errorf("GET %s: %d", p, r.code)
		}
	}
	for _, p := range []string{fmt.Sprintf("/orgs/acme/batches/%d", theirs), fmt.Sprintf("/orgs/acme/batches/%d/undo", theirs)} {
		if r := b.get(p); r.code != http.StatusNotFound || strings.Contains(r.body, "zed@globex") {
			t.Errorf("GET %s: %d", p, r.code)
		}
	}
	if r := b.post(fmt.Sprintf("/orgs/globex/batches/%d/undo", theirs), url.Values{"csrf": {tok}}); r.code != http.StatusForbidden {
		t.Errorf("undo of globex's batch from acme's session: %d", r.code)
	}
	if r := b.post(fmt.Sprintf("/orgs/acme/batches/%d/undo", theirs), url.Values{"csrf": {tok}}); r.code != http.StatusNotFound {
		t.Errorf("undo of globex's batch under acme's URL: %d", r.code)
	}
	if r := b.post("/choose", url.Values{"csrf": {tok}, "org": {"globex"}}); r.code != http.StatusForbidden {
		t.Errorf("choosing globex: %d", r.code)
	}
	var status string
	if err := f.db.Get(&status, `SELECT CASE WHEN EXISTS (SELECT 1 FROM batches WHERE undo_of = $1) THEN 'undone' ELSE 'kept' END`, theirs); err != nil || status != "kept" {
		t.Errorf("globex's batch: %s %v", status, err)
	}
}

// TestDemotedAdministrator: what a person may do is read again on every
// request; a demoted or deactivated administrator loses access at once.
func TestDemotedAdministrator(t *testing.T) {
	for name, change := range map[string]string{
		"demoted":     `UPDATE users SET admin_role = NULL, cc_role = NULL WHERE email = 'jean.martin@acme.example'`,
		"deactivated": `UPDATE users SET status = 'inactive' WHERE email = 'jean.martin@acme.example'`,
		"read-only":   `UPDATE users SET admin_role = 'readonly' WHERE email = 'jean.martin@acme.example'`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			b := f.browser(t)
			b.signIn("acme", "jean.martin@acme.example")
			if r := b.get("/orgs/acme"); r.code != 200 {
				t.Fatalf("before: %d", r.code)
			}
			if _, err := f.db.Exec(change); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/orgs/acme", "/orgs/acme/export?format=csv", "/orgs/acme/batches"} {
				if r := b.get(p); r.code != http.StatusForbidden {
					t.Errorf("GET %s after: %d", p, r.code)
				}
			}
		})
	}
}

// TestUndoNeedsAntiForgeryToken: an undo posted without the session's
// token, or with another session's, is refused and changes nothing.
func TestUndoNeedsAntiForgeryToken(t *testing.T) {
	f := newFixture(t)
	batch := f.importCSV(t, "acme", primary, "lea.girard@acme.example,,,,,,,,TRUE,FALSE,,,,,\n")
	b := f.browser(t)
	b.signIn("acme", primary)
	other := f.browser(t)
	other.signIn("acme", primary)
	foreign := other.csrf("/orgs/acme")
	path := fmt.Sprintf("/orgs/acme/batches/%d/undo", batch)
	for name, form := range map[string]url.Values{"no token": {}, "empty token": {"csrf": {""}}, "another session's token": {"csrf": {foreign}}} {
		if r := b.post(path, form); r.code != http.StatusForbidden {
			t.Errorf("%s: %d", name, r.code)
		}
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM batches WHERE kind = 'undo'`); err != nil || n != 0 {
		t.Errorf("undo batches: %d %v", n, err)
	}
}

// TestUndo: the preview shows what the undo would change and a form; the
// confirmed undo leads to the undo's own batch page; the batch is then
// undone, and a second undo is refused.
func TestUndo(t *testing.T) {
	f := newFixture(t)
	batch := f.importCSV(t, "acme", primary, "lea.girard@acme.example,Lea,,,,,,,TRUE,FALSE,,,,,\nnew.agent@acme.example,New,Agent,,,paris,,,FALSE,TRUE,,,,,FALSE\n")
	b := f.browser(t)
	b.signIn("acme", primary)
	path := fmt.Sprintf("/orgs/acme/batches/%d/undo", batch)
	prev := b.get(path)
	if prev.code != 200 {
		t.Fatalf("preview: %d\n%s", prev.code, prev.body)
	}
	for _, want := range []string{"would change 2 users: 1 deleted, 1 set back, 0 re-created", "new.agent@acme.example", "lea.girard@acme.example", "Léa", "Lea", `id="confirm-undo"`} {
		if !strings.Contains(prev.body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if u, err := store.GetUser(context.Background(), f.db, "acme", "new.agent@acme.example"); err != nil || u.Email == "" {
		t.Fatalf("the preview changed something: %v", err)
	}
	tok := csrfRE.FindStringSubmatch(prev.body)[1]
	r := b.post(path, url.Values{"csrf": {tok}})
	if r.code != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "?undone=1") {
		t.Fatalf("undo: %d %q\n%s", r.code, r.header.Get("Location"), r.body)
	}
	page := b.get(strings.TrimPrefix(r.header.Get("Location"), f.srv.URL))
	if page.code != 200 || !strings.Contains(page.body, fmt.Sprintf("undo of batch %d", batch)) || !strings.Contains(page.body, "new.agent@acme.example") {
		t.Errorf("the undo's page: %d\n%s", page.code, page.body)
	}
	if _, err := store.GetUser(context.Background(), f.db, "acme", "new.agent@acme.example"); err == nil {
		t.Error("the user the batch created is still there")
	}
	again := b.post(path, url.Values{"csrf": {tok}})
	if again.code != http.StatusConflict || !strings.Contains(again.body, "undone already") {
		t.Errorf("second undo: %d\n%s", again.code, again.body)
	}
	if r := b.get(fmt.Sprintf("/orgs/acme/batches/%d", batch)); !strings.Contains(r.body, "undone by batch") || strings.Contains(r.body, `id="undo"`) {
		t.Errorf("the undone batch's page still offers an undo or does not say it was undone")
	}
}

// TestUndoRefusedShowsWhatIsInTheWay: an undo that would overwrite later
// changes is refused, naming the users and the batches in the way.
func TestUndoRefusedShowsWhatIsInTheWay(t *testing.T) {
	f := newFixture(t)
	first := f.importCSV(t, "acme", primary, "lea.girard@acme.example,Lea,,,,,,,,,,,,,\n")
	later := f.importCSV(t, "acme", primary, "lea.girard@acme.example,Leah,,,,,,,,,,,,,\n")
	b := f.browser(t)
	b.signIn("acme", primary)
	for _, r := range []response{b.get(fmt.Sprintf("/orgs/acme/batches/%d/undo", first)), b.post(fmt.Sprintf("/orgs/acme/batches/%d/undo", first), url.Values{"csrf": {b.csrf("/orgs/acme")}})} {
		if r.code != http.StatusConflict {
			t.Errorf("undo of an overwritten batch: %d", r.code)
		}
		for _, want := range []string{"lea.girard@acme.example", fmt.Sprintf(`href="/orgs/acme/batches/%d"`, later), "cannot be undone"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("refusal lacks %q", want)
			}
		}
		if strings.Contains(r.body, `id="confirm-undo"`) {
			t.Error("a refused undo offers its form")
		}
	}
}

// TestMarkupIsText: values from a sheet holding markup are shown as text
// on every page that shows them.
func TestMarkupIsText(t *testing.T) {
	f := newFixture(t)
	batch := f.importCSV(t, "acme", primary,
		`jean.martin@acme.example,<b>Jean</b>,,"<script>alert(1)</script>",,,,,,,,,,,`+"\n"+
			`x@acme.example,"<img src=x onerror=alert(2)>",,,,paris,,,,,,,,,FALSE`+"\n")
	b := f.browser(t)
	b.signIn("acme", primary)
	for _, p := range []string{"/orgs/acme", fmt.Sprintf("/orgs/acme/batches/%d", batch), fmt.Sprintf("/orgs/acme/batches/%d/undo", batch)} {
		r := b.get(p)
		if r.code != 200 {
			t.Fatalf("%s: %d", p, r.code)
		}
		for _, bad := range []string{"<script>alert", "<b>Jean", "<img src=x"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s holds the markup %q unescaped", p, bad)
			}
		}
	}
	if r := b.get(fmt.Sprintf("/orgs/acme/batches/%d", batch)); !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(r.body, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("the batch page does not show the markup as text:\n%s", r.body)
	}
	if r := b.get("/orgs/acme"); !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the org page does not show the administrator's display name as text")
	}
}

// TestOrgPage: seats used and free per tier, PBXes, roles, recent batches.
func TestOrgPage(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	r := b.get("/orgs/acme")
	for _, want := range []string{
		"<td>10</td><td>1</td><td>9</td>",              // Premium: 10 seats, 1 used, 9 free
		"<td>no limit</td><td>2</td><td>no limit</td>", // Standard: no limit, 2 used
		"<li>paris</li>", "<li>warsaw</li>", "Supervisors", "System Default",
		"a Full Administrator of the customer organization", "/template?format=xlsx", "/orgs/acme/export?format=xlsx",
		`<th scope="col">`, "users.csv",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("org page lacks %q", want)
		}
	}
}

// TestDownloads: the template needs no session; the export is the actor's
// file in CSV or XLSX; another format is refused.
func TestDownloads(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	tpl := b.get("/template?format=csv")
	if tpl.code != 200 || !strings.Contains(tpl.body, "Email,First Name") || !strings.Contains(tpl.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("template: %d %q", tpl.code, tpl.body)
	}
	if r := b.get("/template?format=xlsx"); r.code != 200 || !strings.HasPrefix(r.body, "PK") {
		t.Errorf("xlsx template: %d", r.code)
	}
	if r := b.get("/orgs/acme/export?format=csv"); r.code != http.StatusSeeOther {
		t.Errorf("export without a session: %d", r.code)
	}
	b.signIn("acme", primary)
	if r := b.get("/orgs/acme/export?format=xlsx"); r.code != 200 || !strings.HasPrefix(r.body, "PK") || !strings.Contains(r.header.Get("Content-Disposition"), "acme-users.xlsx") {
		t.Errorf("xlsx export: %d %v", r.code, r.header)
	}
	if r := b.get("/orgs/acme/export?format=pdf"); r.code != http.StatusBadRequest {
		t.Errorf("pdf export: %d", r.code)
	}
	// An XLSX export of more users than a worksheet holds is a page saying
	// so, not a broken download.
	web.SetMaxXLSXRows(t, 3)
	r := b.get("/orgs/acme/export?format=xlsx")
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "download the CSV export") || r.header.Get("Content-Disposition") != "" {
		t.Errorf("too big an XLSX export: %d %v", r.code, r.header)
	}
}

// TestLanguages: the page speaks the browser's language (English, French,
// Polish), and the switch (?lang=) overrides it and is remembered.
func TestLanguages(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	for lang, want := range map[string]string{"fr-FR,fr;q=0.9": "Lots récents", "pl": "Ostatnie partie", "de-DE": "Recent batches", "": "Recent batches"} {
		b.lang = lang
		r := b.get("/orgs/acme")
		if !strings.Contains(r.body, want) {
			t.Errorf("Accept-Language %q: the page lacks %q", lang, want)
		}
	}
	b.lang = "fr"
	if r := b.get("/orgs/acme?lang=pl"); !strings.Contains(r.body, "Ostatnie partie") || !strings.Contains(r.body, `<html lang="pl">`) {
		t.Error("?lang=pl is not Polish")
	}
	if r := b.get("/orgs/acme"); !strings.Contains(r.body, "Ostatnie partie") {
		t.Error("the language chosen is not remembered")
	}
}

// TestChooseNeedsAntiForgeryToken: choosing an organization is a form that
// changes the session.
func TestChooseNeedsAntiForgeryToken(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	if r := b.post("/choose", url.Values{"org": {"acme"}}); r.code != http.StatusForbidden {
		t.Errorf("choose without its token: %d", r.code)
	}
}

// TestMaskedBatchPage: a CC Service Administrator's batch page shows what
// its export would: not the Full and Read-only Administrator columns, and
// not external users other than CC Service Administrators; it says how many
// changes it does not show. A Full Administrator sees them all.
func TestMaskedBatchPage(t *testing.T) {
	f := newFixture(t)
	batch := f.importCSV(t, "acme", primary,
		"lea.girard@acme.example,Lea,,,,,,,,,TRUE,,,,\n"+
			"tom.baker@northwind.example,Thomas,,,,,,,,,,,,,TRUE\n"+
			"ana.silva@contoso.example,Anna,,,,,,,,,,,,,\n")
	path := fmt.Sprintf("/orgs/acme/batches/%d", batch)
	full := f.browser(t)
	full.signIn("acme", primary)
	all := full.get(path).body
	for _, want := range []string{"Full Administrator", "tom.baker@northwind.example", "Thomas", "ana.silva@contoso.example", "Activation emails"} {
		if !strings.Contains(all, want) {
			t.Errorf("a Full Administrator's batch page lacks %q", want)
		}
	}
	ccs := f.browser(t)
	ccs.signIn("acme", "sophie.laurent@acme.example")
	for _, p := range []string{path, path + "/undo"} {
		masked := ccs.get(p).body
		for _, hidden := range []string{"<td>Full Administrator</td>", "tom.baker@northwind.example", "Thomas"} {
			if strings.Contains(masked, hidden) {
				t.Errorf("%s shows a CC Service Administrator %q", p, hidden)
			}
		}
		for _, want := range []string{"ana.silva@contoso.example", "Anna", "lea.girard@acme.example"} {
			if !strings.Contains(masked, want) && p == path {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
	if masked := ccs.get(path).body; !strings.Contains(masked, "changes are not shown to you") || strings.Contains(masked, "Activation emails") {
		t.Error("the masked batch page does not say that changes are hidden, or lists the hidden user's activation email")
	}
}

// TestMaskedUndoConflicts: a refused undo does not name to a CC Service
// Administrator the users it does not see; they are counted.
func TestMaskedUndoConflicts(t *testing.T) {
	f := newFixture(t)
	first := f.importCSV(t, "acme", primary, "tom.baker@northwind.example,,,,,,,,TRUE,FALSE,,,,,\nlea.girard@acme.example,,,,,,,,TRUE,FALSE,,,,,\n")
	f.importCSV(t, "acme", primary, "tom.baker@northwind.example,,,,,,,,FALSE,TRUE,,,,,\nlea.girard@acme.example,,,,,,,,FALSE,FALSE,,,,,\n")
	path := fmt.Sprintf("/orgs/acme/batches/%d/undo", first)
	full := f.browser(t)
	full.signIn("acme", primary)
	if r := full.get(path); r.code != http.StatusConflict || !strings.Contains(r.body, "tom.baker@northwind.example") {
		t.Errorf("a Full Administrator's refusal: %d, lacks the partner's user", r.code)
	}
	ccs := f.browser(t)
	ccs.signIn("acme", "sophie.laurent@acme.example")
	r := ccs.get(path)
	if r.code != http.StatusConflict || strings.Contains(r.body, "tom.baker") || !strings.Contains(r.body, "lea.girard@acme.example") || !strings.Contains(r.body, "… and 1 more") {
		t.Errorf("a CC Service Administrator's refusal: %d\n%s", r.code, r.body)
	}
}
