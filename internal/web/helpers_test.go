package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/internal/web"
	"github.com/ccbulk/ccbulk/schema"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// primary is acme's primary administrator.
const primary = "marie.dubois@acme.example"

// seedUsers are acme's users besides its primary administrator: one
// administrator of every actor kind of docs/REFERENCE.md §3, and agents.
const seedUsers = `Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,Contact Center Premium,Contact Center Standard,Full Administrator,Contact Center Service Administrator,Read-only Administrator,CC Role,Send Activation Email
jean.martin@acme.example,Jean,Martin,Jean Martin,jmartin,paris,Active,,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
tom.baker@northwind.example,Tom,Baker,Tom Baker (Northwind),tbaker,paris,Active,northwind,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
olga.berg@contoso.example,Olga,Berg,Olga Berg (Contoso),oberg,paris,Active,contoso,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
sophie.laurent@acme.example,Sophie,Laurent,Sophie Laurent,slaurent,paris,Active,,TRUE,FALSE,FALSE,TRUE,FALSE,Supervisors,FALSE
ana.silva@contoso.example,Ana,Silva,Ana Silva (Contoso),asilva,warsaw,Active,contoso,FALSE,FALSE,FALSE,TRUE,FALSE,,FALSE
pawel.kowalski@acme.example,Paweł,Kowalski,Paweł Kowalski,pkowalski,warsaw,Active,,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
kasia.lis@northwind.example,Kasia,Lis,Kasia Lis (Northwind),klis,paris,Active,northwind,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
lea.girard@acme.example,Léa,Girard,Léa Girard,lgirard,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
noe.blanc@acme.example,Noé,Blanc,Noé Blanc,nblanc,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
`

// header is the template's header row.
const header = "Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,Contact Center Premium,Contact Center Standard,Full Administrator,Contact Center Service Administrator,Read-only Administrator,CC Role,Send Activation Email\n"

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
	for _, e := range []schema.ExternalOrg{
		{ID: "northwind", Name: "Northwind Partners", Kind: schema.KindPartner},
		{ID: "contoso", Name: "Contoso Consulting", Kind: schema.KindOther},
	} {
		if err := store.CreateExternal(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	org := schema.Org{ID: "acme", Name: "Acme Assurances", PBXes: []string{"paris", "warsaw"}, PremiumSeats: 10, StandardSeats: -1, PrimaryAdmin: primary}
	if err := store.CreateOrg(ctx, db, org); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateRole(ctx, db, "acme", "Supervisors", []string{"view", "write"}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateOrg(ctx, db, schema.Org{ID: "globex", Name: "Globex", PBXes: []string{"main"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: "hank@globex.example"}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db}
	f.importCSV(t, "acme", primary, seedUsers)

	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	cfg := web.Config{DB: db, BaseURL: f.srv.URL}
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
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(context.Background(), importer.Postgres(store.New(f.db)), importer.Options{File: path, Org: org, Actor: actor, Report: filepath.Join(dir, "report.jsonl")})
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
	link, _, err := web.CreateSignInLink(context.Background(), f.db, f.srv.URL, org, email, time.Minute)
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
