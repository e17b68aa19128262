package web_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/ccbulk/ccbulk/internal/web"
)

// The OpenID provider of the tests: zitadel/oidc's example provider, with
// its own login form, run on localhost; ccbulk is a client of it.
const (
	opClientID     = "ccbulk"
	opClientSecret = "ccbulk-test-secret"
	opPassword     = "verysecure"
)

// opUsers are the provider's people, by user name: the email each
// signs in as, and whether the provider vouches for it.
var opUsers = map[string]*storage.User{
	"jean":    {ID: "u1", Username: "jean", Password: opPassword, Email: "Jean.Martin@acme.example", EmailVerified: true},
	"mallory": {ID: "u2", Username: "mallory", Password: opPassword, Email: "marie.dubois@acme.example", EmailVerified: false},
	"hank":    {ID: "u3", Username: "hank", Password: opPassword, Email: "hank@globex.example", EmailVerified: true},
	"agent":   {ID: "u4", Username: "agent", Password: opPassword, Email: "lea.girard@acme.example", EmailVerified: true},
}

// opUserStore is the provider's directory.
type opUserStore struct{}

func (opUserStore) GetUserByID(id string) *storage.User {
	for _, u := range opUsers {
		if u.ID == id {
			return u
		}
	}
	return nil
}
func (opUserStore) GetUserByUsername(name string) *storage.User { return opUsers[name] }
func (opUserStore) ExampleClientID() string                     { return "service" }

// startOP starts the provider on localhost with ccbulk's client, whose
// callback is under base, and returns its issuer.
func startOP(t *testing.T, base string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	// The example provider logs every request through the default logger.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	storage.RegisterClients(storage.WebClient(opClientID, opClientSecret, base+"/signin/oidc/callback"))
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, storage.NewStorage(opUserStore{}), nil, false)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

// newOIDCFixture is a fixture whose front end signs in at the provider.
func newOIDCFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(c *web.Config) {
		c.OIDC = web.OIDCConfig{Issuer: startOP(t, c.BaseURL), ClientID: opClientID, ClientSecret: opClientSecret}
	})
}

var (
	loginIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)
)

// oidcSignIn signs in at the provider as user with an HTTP client that
// follows redirects (as a browser does), filling in the provider's login
// form, and returns the page it ends on and its URL.
func oidcSignIn(t *testing.T, b *browser, user string) (response, *url.URL) {
	t.Helper()
	c := &http.Client{Jar: b.c.Jar}
	resp, err := c.Get(b.f.srv.URL + "/signin/oidc")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := loginIDRE.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no login form at the provider (%s):\n%s", resp.Request.URL, body)
	}
	login := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	resp, err = c.PostForm(login.String(), url.Values{"id": {m[1]}, "username": {user}, "password": {opPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(body)}, resp.Request.URL
}

// TestOIDCSignIn: a person signs in at a real provider (authorization code,
// PKCE, state, nonce); the provider's verified email is the person, and
// what the person may do comes from ccbulk's users table.
func TestOIDCSignIn(t *testing.T) {
	f := newOIDCFixture(t)
	b := f.browser(t)
	if r := b.get("/"); !strings.Contains(r.body, `href="/signin/oidc"`) {
		t.Fatal("the sign-in page offers no OpenID Connect sign-in")
	}
	page, at := oidcSignIn(t, b, "jean")
	if page.code != 200 || at.Path != "/orgs/acme" || !strings.Contains(page.body, "Signed in as jean.martin@acme.example") {
		t.Fatalf("after signing in: %d at %s\n%s", page.code, at, page.body)
	}
	var via string
	if err := f.db.Get(&via, `SELECT via FROM web_sessions`); err != nil || via != "oidc" {
		t.Errorf("session: %q %v", via, err)
	}
	// The PKCE verifier and nonce were used up.
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM web_oidc_logins`); err != nil || n != 0 {
		t.Errorf("sign-ins under way left: %d %v", n, err)
	}
}

// TestOIDCRefusals: an email the provider does not vouch for, a person who
// administers nothing, and a callback whose state is not this browser's
// start no session.
func TestOIDCRefusals(t *testing.T) {
	f := newOIDCFixture(t)
	for user, want := range map[string]string{"mallory": "verified email", "agent": "No organization lists you"} {
		b := f.browser(t)
		page, _ := oidcSignIn(t, b, user)
		if page.code != http.StatusForbidden || !strings.Contains(page.body, want) {
			t.Errorf("%s: %d, want a refusal saying %q\n%s", user, page.code, want, page.body)
		}
		if b.sessionCookie() != "" {
			t.Errorf("%s got a session", user)
		}
	}
	// A callback with a state this browser did not start (login CSRF).
	b := f.browser(t)
	if r := b.get("/signin/oidc/callback?state=forged&code=x"); r.code != http.StatusForbidden {
		t.Errorf("forged callback: %d", r.code)
	}
	// Another browser's state, replayed.
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := other.Get(f.srv.URL + "/signin/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if r := b.get("/signin/oidc/callback?code=x&state=" + url.QueryEscape(loc.Query().Get("state"))); r.code != http.StatusForbidden {
		t.Errorf("another browser's state: %d", r.code)
	}
	if q := loc.Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Errorf("the authorization request lacks PKCE or a nonce: %s", loc)
	}
}

// TestOIDCChooseTenant: a person who administers several tenants chooses
// one; the choice is a form with its anti-forgery token.
func TestOIDCChooseTenant(t *testing.T) {
	f := newOIDCFixture(t)
	// hank administers globex, and acme too.
	f.importCSV(t, "acme", primary, "hank@globex.example,Hank,,,,paris,,,,,TRUE,,,,FALSE\n")
	b := f.browser(t)
	page, at := oidcSignIn(t, b, "hank")
	if at.Path != "/choose" || !strings.Contains(page.body, `value="acme"`) || !strings.Contains(page.body, `value="globex"`) {
		t.Fatalf("after signing in: %d at %s\n%s", page.code, at, page.body)
	}
	if r := b.get("/orgs/acme"); r.code != http.StatusForbidden {
		t.Errorf("an organization before choosing: %d", r.code)
	}
	tok := csrfRE.FindStringSubmatch(page.body)[1]
	if r := b.post("/choose", url.Values{"org": {"globex"}}); r.code != http.StatusForbidden {
		t.Errorf("choose without its token: %d", r.code)
	}
	if r := b.post("/choose", url.Values{"org": {"globex"}, "csrf": {tok}}); r.code != http.StatusSeeOther || r.header.Get("Location") != "/orgs/globex" {
		t.Errorf("choose globex: %d %q", r.code, r.header.Get("Location"))
	}
	if r := b.get("/orgs/globex"); r.code != 200 {
		t.Errorf("globex after choosing: %d", r.code)
	}
	if r := b.get("/orgs/acme"); r.code != http.StatusForbidden {
		t.Errorf("acme after choosing globex: %d", r.code)
	}
}
