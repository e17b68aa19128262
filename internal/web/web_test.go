package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/web"
)

// TestSecurityHeaders: every page, signed in or not, and every error,
// carries the headers of docs/WEB.md.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	anon := b.get("/")
	missing := b.get("/no/such/page")
	b.signIn("acme", primary)
	for name, r := range map[string]response{"sign-in page": anon, "404": missing, "org page": b.get("/orgs/acme"), "batches": b.get("/orgs/acme/batches")} {
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy allows inline: %q", name, csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", name, h, got, want)
			}
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, " style=") || strings.Contains(r.body, "<style") {
			t.Errorf("%s: the page has inline script or style", name)
		}
	}
	if missing.code != http.StatusNotFound {
		t.Errorf("unknown page: %d", missing.code)
	}
}

// TestSignInLink: a link works once, before it expires; a used, expired or
// unknown link is refused with a page saying so, and starts no session.
func TestSignInLink(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	link := f.link(t, "acme", "JEAN.MARTIN@acme.example")
	form := url.Values{"token": {tokenOf(t, link)}}
	if r := b.post("/signin/link", form); r.code != http.StatusSeeOther || r.header.Get("Location") != "/orgs/acme" {
		t.Fatalf("first use: %d %q", r.code, r.header.Get("Location"))
	}
	if r := b.get("/orgs/acme"); r.code != 200 || !strings.Contains(r.body, "jean.martin@acme.example") {
		t.Fatalf("org page after sign-in: %d", r.code)
	}

	other := f.browser(t)
	r := other.post("/signin/link", form)
	if r.code != http.StatusForbidden || !strings.Contains(r.body, "used already") {
		t.Errorf("reused link: %d\n%s", r.code, r.body)
	}
	if other.sessionCookie() != "" {
		t.Error("a reused link started a session")
	}

	expired := "expired-token-of-the-test-0123456789abcdef"
	if _, err := store.CreateSignInLink(context.Background(), f.db, sha(expired), "acme", primary, -time.Minute); err != nil {
		t.Fatal(err)
	}
	r = other.post("/signin/link", url.Values{"token": {expired}})
	if r.code != http.StatusForbidden || !strings.Contains(r.body, "expired") {
		t.Errorf("expired link: %d\n%s", r.code, r.body)
	}
	r = other.post("/signin/link", url.Values{"token": {"nonsense"}})
	if r.code != http.StatusForbidden || !strings.Contains(r.body, "not valid") {
		t.Errorf("unknown link: %d\n%s", r.code, r.body)
	}
	if other.sessionCookie() != "" {
		t.Error("a refused link started a session")
	}
	if r := other.get("/orgs/acme"); r.code != http.StatusSeeOther {
		t.Errorf("org page without a session: %d, want a redirect to sign in", r.code)
	}
}

// TestSignInLinkRefusesNonAdministrators: a link is made only for an
// active administrator, and refused at use when the person is no longer one.
func TestSignInLinkRefusesNonAdministrators(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, email := range []string{"lea.girard@acme.example", "nobody@acme.example", "hank@globex.example"} {
		if _, _, err := web.CreateSignInLink(ctx, store.New(f.db), f.srv.URL, "acme", email, time.Minute); err == nil {
			t.Errorf("a link was made for %s, who is no administrator of acme", email)
		}
	}
	link := f.link(t, "acme", "jean.martin@acme.example")
	if _, err := f.db.Exec(`UPDATE users SET status = 'inactive' WHERE tenant_id = 'acme' AND email = 'jean.martin@acme.example'`); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	if r := b.post("/signin/link", url.Values{"token": {tokenOf(t, link)}}); r.code != http.StatusForbidden || b.sessionCookie() != "" {
		t.Errorf("link of a deactivated administrator: %d, session %q", r.code, b.sessionCookie())
	}
}

// TestSessionCookie: HttpOnly, SameSite=Lax, Secure only over https, a new
// id at each sign-in (the old one ended).
func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	link := f.link(t, "acme", primary)
	r := b.post("/signin/link", url.Values{"token": {tokenOf(t, link)}})
	c := r.header.Get("Set-Cookie")
	for _, want := range []string{"ccbulk_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(c, "Secure") {
		t.Errorf("cookie over http is Secure: %q", c)
	}
	first := b.sessionCookie()
	b.signIn("acme", primary)
	second := b.sessionCookie()
	if first == "" || first == second {
		t.Fatalf("sign-in kept the session id %q", first)
	}
	old := f.browser(t)
	u, _ := url.Parse(f.srv.URL)
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: "ccbulk_session", Value: first}})
	if r := old.get("/orgs/acme"); r.code != http.StatusSeeOther {
		t.Errorf("the session before the new sign-in still works: %d", r.code)
	}

	// Over https the cookie is Secure.
	h, err := web.New(web.Config{DB: store.New(f.db), BaseURL: "https://ccbulk.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	link = f.link(t, "acme", primary)
	req := httptest.NewRequest("POST", "https://ccbulk.example.com/signin/link", strings.NewReader(url.Values{"token": {tokenOf(t, link)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if c := rec.Header().Get("Set-Cookie"); rec.Code != http.StatusSeeOther || !strings.Contains(c, "Secure") {
		t.Errorf("https sign-in: %d, cookie %q", rec.Code, c)
	}
}

// TestSessionLimits: a session idle too long, or older than the absolute
// limit, is over: the next request is sent to sign in, and the session is
// deleted.
func TestSessionLimits(t *testing.T) {
	for name, age := range map[string]string{
		"idle":     `UPDATE web_sessions SET last_seen = now() - interval '31 minutes'`,
		"absolute": `UPDATE web_sessions SET created_at = now() - interval '13 hours'`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			b := f.browser(t)
			b.signIn("acme", primary)
			if r := b.get("/orgs/acme"); r.code != 200 {
				t.Fatalf("fresh session: %d", r.code)
			}
			if _, err := f.db.Exec(age); err != nil {
				t.Fatal(err)
			}
			if r := b.get("/orgs/acme"); r.code != http.StatusSeeOther || r.header.Get("Location") != "/" {
				t.Errorf("session past its %s limit: %d %q", name, r.code, r.header.Get("Location"))
			}
			var n int
			if err := f.db.Get(&n, `SELECT count(*) FROM web_sessions`); err != nil || n != 0 {
				t.Errorf("sessions left: %d %v", n, err)
			}
		})
	}
}

// TestSignOut: sign-out needs the anti-forgery token, deletes the session
// and clears the cookie.
func TestSignOut(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	tok := b.csrf("/orgs/acme")
	if r := b.post("/signout", nil); r.code != http.StatusForbidden {
		t.Errorf("sign-out without its token: %d", r.code)
	}
	if r := b.post("/signout", url.Values{"csrf": {"wrong"}}); r.code != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: %d", r.code)
	}
	if r := b.get("/orgs/acme"); r.code != 200 {
		t.Fatalf("a refused sign-out ended the session: %d", r.code)
	}
	if r := b.post("/signout", url.Values{"csrf": {tok}}); r.code != 200 || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign-out: %d, cookie %q", r.code, r.header.Get("Set-Cookie"))
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM web_sessions`); err != nil || n != 0 {
		t.Errorf("sessions after sign-out: %d %v", n, err)
	}
	if r := b.get("/orgs/acme"); r.code != http.StatusSeeOther {
		t.Errorf("org page after sign-out: %d", r.code)
	}
}

// sha is how the store keys a token.
func sha(tok string) []byte { return web.HashToken(tok) }

// TestSecretsStoredHashed: the database keeps only the SHA-256 of a
// sign-in link's token and of a session's id.
func TestSecretsStoredHashed(t *testing.T) {
	f := newFixture(t)
	link := f.link(t, "acme", primary)
	tok := tokenOf(t, link)
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM web_sign_in_links WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, tok); err != nil || n != 1 {
		t.Errorf("links stored under the token's hash: %d %v", n, err)
	}
	b := f.browser(t)
	b.signIn("acme", primary)
	id := b.sessionCookie()
	if err := f.db.Get(&n, `SELECT count(*) FROM web_sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, id); err != nil || n != 1 {
		t.Errorf("sessions stored under the id's hash: %d %v", n, err)
	}
	var dump string
	if err := f.db.Get(&dump, `SELECT (SELECT string_agg(s::text, ' ') FROM web_sessions s) || (SELECT string_agg(l::text, ' ') FROM web_sign_in_links l)`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, tok) || strings.Contains(dump, id) {
		t.Error("a secret is stored as it is")
	}
}

// TestSignInLinkRace: a link posted by several browsers at once signs in
// exactly one of them.
func TestSignInLinkRace(t *testing.T) {
	f := newFixture(t)
	tok := tokenOf(t, f.link(t, "acme", primary))
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(f.srv.URL+"/signin/link", url.Values{"token": {tok}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	signedIn := 0
	for c := range codes {
		switch c {
		case http.StatusOK: // the redirect to the organization, followed
			signedIn++
		case http.StatusForbidden:
		default:
			t.Errorf("a use of the link answered %d", c)
		}
	}
	if signedIn != 1 {
		t.Errorf("%d browsers signed in with one link", signedIn)
	}
}

// TestNewChecksConfig: a configuration that cannot work is refused at
// start, saying why.
func TestNewChecksConfig(t *testing.T) {
	f := newFixture(t)
	for name, c := range map[string]web.Config{
		"no database":   {BaseURL: "http://localhost:8080"},
		"no base URL":   {DB: store.New(f.db)},
		"ftp base URL":  {DB: store.New(f.db), BaseURL: "ftp://x"},
		"no host":       {DB: store.New(f.db), BaseURL: "https://"},
		"issuer, no id": {DB: store.New(f.db), BaseURL: "http://localhost:8080", OIDC: web.OIDCConfig{Issuer: "https://id.example"}},
	} {
		if _, err := web.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := web.New(web.Config{DB: store.New(f.db), BaseURL: "https://ccbulk.example.com/", OIDC: web.OIDCConfig{Issuer: "https://unreachable.invalid", ClientID: "x"}}); err != nil {
		t.Errorf("a provider that is down at start: %v", err)
	}
}
