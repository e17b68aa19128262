package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/internal/testorg"
	"github.com/ccbulk/ccbulk/internal/web"
	"github.com/ccbulk/ccbulk/schema"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// primary is acme's primary administrator.
const primary = testorg.Primary

// seedUsers are acme's users besides its primary administrator: one
// administrator of every actor kind of docs/REFERENCE.md §3, and agents.
var seedUsers = testorg.UsersOf("jean.martin@acme.example", "tom.baker@northwind.example", "olga.berg@contoso.example",
	"sophie.laurent@acme.example", "ana.silva@contoso.example", "pawel.kowalski@acme.example", "kasia.lis@northwind.example",
	"lea.girard@acme.example", "noe.blanc@acme.example")

// header is the template's header row.
const header = testorg.Header

// fixture is a database with the tenants acme (seedUsers) and globex (its
// own primary administrator only), and a web front end over it.
type fixture struct {
	db  *sqlx.DB
	srv *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(*web.Config) {})
}

func newFixtureWith(t *testing.T, configure func(*web.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, _ := testdb.New(t)
	testorg.Register(t, store.New(db), testorg.Externals[:2]...) // northwind and contoso
	testorg.Tenant(t, store.New(db), "acme", 10, -1, seedUsers)
	if err := store.CreateOrg(ctx, db, schema.Org{ID: "globex", Name: "Globex", PBXes: []string{"main"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: "hank@globex.example"}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db}

	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	cfg := web.Config{DB: store.New(db), BaseURL: f.srv.URL}
	configure(&cfg)
	var err error
	if h, err = web.New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// importCSV imports rows (with the template's header unless they start
// with it) into org as actor and returns the batch id.
func (f *fixture) importCSV(t *testing.T, org, actor, rows string) int64 {
	t.Helper()
	if !strings.HasPrefix(rows, "Email,") {
		rows = header + rows
	}
	res, err := testorg.Import(t, store.New(f.db), org, actor, rows, nil)
	if err != nil || res.Rejected != 0 {
		t.Fatalf("import into %s: %v %+v", org, err, res.Findings)
	}
	return res.BatchID
}

// browser is an HTTP client with its own cookies that does not follow
// redirects.
type browser struct {
	t    *testing.T
	f    *fixture
	c    *http.Client
	lang string
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is what a request answered.
type response struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form)
}

// link makes a one-time sign-in link for email in org.
func (f *fixture) link(t *testing.T, org, email string) string {
	t.Helper()
	link, _, err := web.CreateSignInLink(context.Background(), store.New(f.db), f.srv.URL, org, email, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// tokenOf returns a link's token.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// signIn signs the browser in to org as email with a one-time link.
func (b *browser) signIn(org, email string) {
	b.t.Helper()
	link := b.f.link(b.t, org, email)
	page := b.get(strings.TrimPrefix(link, b.f.srv.URL))
	if page.code != 200 || !strings.Contains(page.body, `name="token"`) {
		b.t.Fatalf("link page: %d\n%s", page.code, page.body)
	}
	r := b.post("/signin/link", url.Values{"token": {tokenOf(b.t, link)}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/orgs/"+org {
		b.t.Fatalf("signing in %s to %s: %d %s\n%s", email, org, r.code, r.header.Get("Location"), r.body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the anti-forgery token of the session, read from a page.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	r := b.get(page)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		b.t.Fatalf("no anti-forgery token on %s (%d):\n%s", page, r.code, r.body)
	}
	return m[1]
}

// sessionCookie returns the browser's session cookie value.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.f.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "ccbulk_session" {
			return c.Value
		}
	}
	return ""
}
