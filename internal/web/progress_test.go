package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/web"
	"github.com/ccbulk/ccbulk/schema"
)

// waitUntil polls cond until it holds, or fails the test after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockRow holds a lock on acme's user email (FOR UPDATE) until the
// returned function is called: an apply touching the user waits for it.
func lockRow(t *testing.T, db *sqlx.DB, query string, args ...any) (release func()) {
	t.Helper()
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(query, args...); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback()
		}
	}
	t.Cleanup(release)
	return release
}

// progressSheet creates three users and renames lea.
const progressSheet = header +
	"p1@acme.example,P,One,P One,pone,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n" +
	"p2@acme.example,P,Two,P Two,ptwo,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n" +
	"lea.girard@acme.example,Léa,Girard,Léa Girard-Progrès,lgirard,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n" +
	"p3@acme.example,P,Three,P Three,pthree,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n"

// TestApplyProgress: the result page of an apply under way shows its
// stage and the plan's changes done out of all of them, as recorded in
// PostgreSQL by its heartbeat, and reloads itself; the batch list and the
// organization's recent batches link the running batch to that page,
// which stops reloading once the apply is done.
func TestApplyProgress(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	plan := b.planOf("acme", progressSheet)
	id := planPathRE.FindStringSubmatch(plan)[2]
	var items int
	if err := f.db.Get(&items, `SELECT items FROM plans WHERE id = $1`, id); err != nil || items != 4 {
		t.Fatalf("the plan's items = %d %v, want 4", items, err)
	}

	// Lea's row held: the apply waits while reading the plan. Then its
	// batch's row held: it waits again while writing, its changes read.
	lea := lockRow(t, f.db, `SELECT 1 FROM users WHERE tenant_id = 'acme' AND email = 'lea.girard@acme.example' FOR UPDATE`)
	if r := b.post(plan+"/apply", map[string][]string{"csrf": {b.csrf(plan)}}); r.code != http.StatusSeeOther {
		t.Fatalf("apply = %d\n%s", r.code, r.body)
	}
	var batch int64
	waitUntil(t, "the apply's batch", func() bool {
		return f.db.Get(&batch, `SELECT id FROM batches WHERE tenant_id = 'acme' AND status = 'running' AND plan_actor IS NOT NULL`) == nil
	})
	res := b.get(plan + "/result")
	if !strings.Contains(res.body, `http-equiv="refresh"`) || !strings.Contains(res.body, `id="progress"`) {
		t.Errorf("the result page of a running apply:\n%s", res.body)
	}
	batchRow := lockRow(t, f.db, `SELECT 1 FROM batches WHERE id = $1 FOR UPDATE`, batch)
	lea()
	waitUntil(t, "the result page to show the writing stage", func() bool {
		res = b.get(plan + "/result")
		return strings.Contains(res.body, `<span id="stage">Writing the changes</span>`)
	})
	for _, want := range []string{`<span id="done">4 of 4 changes checked</span>`, `<progress max="4" value="4"`, `http-equiv="refresh"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the result page while writing lacks %q:\n%s", want, res.body)
		}
	}
	follow := regexp.MustCompile(fmt.Sprintf(`href="/orgs/acme/batches/%d">%d</a></td>\s*<td>[^<]*</td>\s*<td><span class="status status-info"><span aria-hidden="true">…</span> running</span> <a class="result" href="%s/result">follow its progress</a>`,
		batch, batch, regexp.QuoteMeta(plan)))
	for _, page := range []string{"/orgs/acme/batches", "/orgs/acme"} {
		if r := b.get(page); !follow.MatchString(r.body) {
			t.Errorf("%s does not link the running batch %d to its result page:\n%s", page, batch, r.body)
		}
	}
	batchRow()
	waitUntil(t, "the apply to end", func() bool {
		res = b.get(plan + "/result")
		return !strings.Contains(res.body, `http-equiv="refresh"`)
	})
	if !strings.Contains(res.body, fmt.Sprintf(`id="batch" href="/orgs/acme/batches/%d"`, batch)) || strings.Contains(res.body, `id="progress"`) {
		t.Errorf("the result page once applied:\n%s", res.body)
	}
	if r := b.get("/orgs/acme/batches"); !strings.Contains(r.body, `<a class="result" href="`+plan+`/result">its plan&#39;s result</a>`) {
		t.Errorf("the batch list does not link the applied batch to its result page:\n%s", r.body)
	}
}

// TestApplyLease: an apply whose heartbeat is fresh is left running by a
// sweep; one whose lease expired (a sweep with a lease shorter than the
// time since its last heartbeat, as another serve process would find a
// dead one) is marked failed saying the server stopped, and its own end,
// later, does not write over that; the plan can then be applied again.
func TestApplyLease(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixtureWith(t, func(c *web.Config) { c.Context = ctx })
	b := f.browser(t)
	b.signIn("acme", primary)
	plan := b.planOf("acme", progressSheet)
	id := planPathRE.FindStringSubmatch(plan)[2]

	lea := lockRow(t, f.db, `SELECT 1 FROM users WHERE tenant_id = 'acme' AND email = 'lea.girard@acme.example' FOR UPDATE`)
	if r := b.post(plan+"/apply", map[string][]string{"csrf": {b.csrf(plan)}}); r.code != http.StatusSeeOther {
		t.Fatalf("apply = %d\n%s", r.code, r.body)
	}
	state := func() (s, msg string) {
		_ = f.db.QueryRow(`SELECT coalesce(apply_state, ''), coalesce(apply_message, '') FROM plans WHERE id = $1`, id).Scan(&s, &msg)
		return s, msg
	}
	waitUntil(t, "the apply to run", func() bool { s, _ := state(); return s == runs.ApplyRunning })

	live := &runs.Service{DB: store.New(f.db)}
	if n, err := live.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("a sweep with the default lease marked %d applies (%v)", n, err)
	}
	if s, _ := state(); s != runs.ApplyRunning {
		t.Fatalf("after a sweep, a live apply is %q", s)
	}

	other := &runs.Service{DB: store.New(f.db), Lease: time.Nanosecond}
	if n, err := other.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("a sweep past the lease marked %d applies (%v), want 1", n, err)
	}
	if s, msg := state(); s != runs.ApplyFailed || msg != runs.ServerStoppedMessage {
		t.Fatalf("after the lease expired: %q %q", s, msg)
	}
	res := b.get(plan + "/result")
	if strings.Contains(res.body, `http-equiv="refresh"`) || !strings.Contains(res.body, "the server stopped while it applied the plan") {
		t.Errorf("the result page of an apply whose server stopped:\n%s", res.body)
	}

	// The run itself ends (here: its server's context is cancelled, and
	// it rolls back): its own failure does not replace the message.
	cancel()
	lea()
	waitUntil(t, "the cancelled apply's batch to end", func() bool {
		var n int
		return f.db.Get(&n, `SELECT count(*) FROM batches WHERE tenant_id = 'acme' AND status = 'running'`) == nil && n == 0
	})
	time.Sleep(200 * time.Millisecond) // its last write, made once its batch ended, is done
	if s, msg := state(); s != runs.ApplyFailed || msg != runs.ServerStoppedMessage {
		t.Errorf("after the run ended: %q %q", s, msg)
	}
	if u := f.status(t, "p1@acme.example"); u != "" {
		t.Errorf("p1 after the failed apply: %q", u)
	}

	// Applied again, from a server that runs.
	g := newFixtureOn(t, f.db)
	c := g.browser(t)
	c.signIn("acme", primary)
	if res := c.applied(plan); !strings.Contains(res.body, `id="batch"`) {
		t.Errorf("applying the plan again:\n%s", res.body)
	}
	if u := f.status(t, "p1@acme.example"); u != "active" {
		t.Errorf("p1 after the plan was applied again: %q", u)
	}
}

// newFixtureOn is another web front end (another serve process) on db.
func newFixtureOn(t *testing.T, db *sqlx.DB) *fixture {
	t.Helper()
	g := &fixture{db: db}
	var h http.Handler
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(g.srv.Close)
	var err error
	if h, err = web.New(web.Config{DB: store.New(db), BaseURL: g.srv.URL}); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRefusedApplyOffersNewPlan: when the organization moved since a plan,
// the refused apply's result page and the plan's page offer a new plan:
// the upload page with the plan's options preselected, naming the file it
// was made from; an upload refused keeps the options it was sent with.
func TestRefusedApplyOffersNewPlan(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	r := b.upload("acme", b.csrf("/orgs/acme/upload"), "drift.csv",
		header+"yves.new@acme.example,Yves,Neuf,Yves Neuf,yneuf,paris,Active,,TRUE,FALSE,FALSE,FALSE,FALSE,,FALSE\n",
		map[string]string{"atomic": "1", "max_rejected": "2", "no_activation_emails": "1"})
	plan := r.header.Get("Location")
	if r.code != http.StatusSeeOther || !planPathRE.MatchString(plan) {
		t.Fatalf("upload = %d\n%s", r.code, r.body)
	}
	if _, err := f.db.Exec(`UPDATE tenants SET premium_seats = 20 WHERE id = 'acme'`); err != nil {
		t.Fatal(err)
	}
	res := b.applied(plan)
	again := `id="again" href="/orgs/acme/upload?atomic=1&amp;max_rejected=2&amp;no_activation_emails=1&amp;previous=drift.csv"`
	if res.code != http.StatusConflict || !strings.Contains(res.body, again) {
		t.Errorf("the refused apply's result page does not offer a new plan with the options (%d):\n%s", res.code, res.body)
	}
	if p := b.get(plan); !strings.Contains(p.body, again) {
		t.Errorf("the refused plan's page does not offer a new plan:\n%s", p.body)
	}
	page := b.get("/orgs/acme/upload?atomic=1&max_rejected=2&no_activation_emails=1&previous=drift.csv")
	for _, want := range []string{`name="atomic" value="1" checked>`, `name="max_rejected" size="8" value="2">`,
		`name="no_activation_emails" value="1" checked>`, `name="sync" value="1">`, "A new plan of drift.csv"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the upload page offered lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("%s", page.body)
	}
	// An upload refused keeps its options.
	r = b.upload("acme", b.csrf("/orgs/acme/upload"), "users.csv", header, map[string]string{"sync": "1", "max_deactivate": "lots"})
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, `name="sync" value="1" checked>`) || !strings.Contains(r.body, `value="lots"`) {
		t.Errorf("a refused upload = %d, its options not kept:\n%s", r.code, r.body)
	}
}

// TestSweepEndsStaleBatches: a sweep marks failed a batch left running by
// a process that died (its organization's lock is free), as the next run
// there would, and leaves alone the batch of a run that holds the lock.
func TestSweepEndsStaleBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := func(org string) int64 {
		t.Helper()
		conn, err := f.db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		b := &schema.Batch{Tenant: org, Kind: "import", Actor: primary, FileName: "died.csv"}
		if org == "globex" {
			b.Actor = "hank@globex.example"
		}
		if err := store.StartBatch(ctx, conn, b); err != nil {
			t.Fatal(err)
		}
		return b.ID
	}
	status := func(id int64) (s, msg string) {
		_ = f.db.QueryRow(`SELECT status, coalesce(error, '') FROM batches WHERE id = $1`, id).Scan(&s, &msg)
		return s, msg
	}
	stale := start("acme")
	ended := start("globex")
	holder, err := f.db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := store.Lock(ctx, holder, "globex", 0); err != nil {
		t.Fatal(err)
	}
	// Taking globex's lock ended its running batch; the run holding it
	// starts its own.
	if s, _ := status(ended); s != "failed" {
		t.Errorf("a batch running when the lock was taken: %q", s)
	}
	live := start("globex")
	if _, err := (&runs.Service{DB: store.New(f.db)}).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if s, msg := status(stale); s != "failed" || msg != store.RunEndedMessage {
		t.Errorf("the stale batch: %q %q", s, msg)
	}
	if s, _ := status(live); s != "running" {
		t.Errorf("the batch of the run holding the lock: %q", s)
	}
}
