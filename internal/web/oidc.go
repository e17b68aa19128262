package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
)

// oidcStateCookie binds a sign-in under way to the browser that began it.
const oidcStateCookie = "ccbulk_oidc_state"

// oidcLoginTTL is how long a person has to sign in at the provider.
const oidcLoginTTL = 10 * time.Minute

// oidcClient is ccbulk's client of an OpenID Connect provider. The
// provider's metadata is read at the first sign-in (not at start, so that
// the server starts while the provider is down), and again after a failure.
type oidcClient struct {
	cfg      OIDCConfig
	redirect string

	mu       sync.Mutex
	provider *oidc.Provider
}

func (c *oidcClient) get(ctx context.Context) (*oidc.Provider, oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
		if err != nil {
			return nil, oauth2.Config{}, fmt.Errorf("reading the OpenID Connect provider %s: %w", c.cfg.Issuer, err)
		}
		c.provider = p
	}
	return c.provider, oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.redirect,
		Endpoint: c.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// oidcStart sends the browser to the provider: authorization code with
// PKCE, a state (kept hashed with the nonce and verifier, and in a cookie)
// and a nonce.
func (s *server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.notFound(w, r)
		return
	}
	_, cfg, err := s.oidc.get(r.Context())
	if err != nil {
		s.log.Error("web: OpenID Connect provider unreachable", "error", err)
		s.errorPage(w, r, http.StatusBadGateway, "error.oidc.provider")
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	if err := s.db.OIDCLoginCreate(r.Context(), store.OIDCLoginParams{StateHash: hashToken(state), Nonce: nonce, Verifier: verifier, TTL: oidcLoginTTL}); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: state, Path: "/signin/oidc", MaxAge: int(oidcLoginTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// errUnverified is a provider that does not vouch for the person's email.
var errUnverified = errors.New("the provider did not give a verified email")

// oidcCallback ends a sign-in at the provider: it checks the state against
// the browser's cookie, exchanges the code with the PKCE verifier,
// verifies the ID token and its nonce, and takes the provider's verified
// email as the person.
func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.notFound(w, r)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	c, cerr := r.Cookie(oidcStateCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: "", Path: "/signin/oidc", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if state == "" || cerr != nil || c.Value != state {
		s.errorPage(w, r, http.StatusForbidden, "error.oidc.state")
		return
	}
	nonce, verifier, err := s.db.OIDCLoginUse(r.Context(), hashToken(state))
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusForbidden, "error.oidc.state")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if e := q.Get("error"); e != "" {
		s.errorDetail(w, r, nil, http.StatusForbidden, "error.oidc.refused", e+": "+q.Get("error_description"))
		return
	}
	email, err := s.oidcEmail(r.Context(), q.Get("code"), nonce, verifier)
	if err != nil {
		s.log.Warn("web: OpenID Connect sign-in refused", "error", err)
		s.errorDetail(w, r, nil, http.StatusForbidden, "error.oidc.refused", err.Error())
		return
	}
	ids, err := s.db.AdminTenantList(r.Context(), email)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(ids) == 0 {
		s.errorDetail(w, r, nil, http.StatusForbidden, "error.noadmin", email)
		return
	}
	tenant := ""
	if len(ids) == 1 {
		tenant = ids[0]
	}
	if err := s.startSession(w, r, email, tenant, "oidc"); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("signed in with OpenID Connect", "email", email)
	if tenant == "" {
		http.Redirect(w, r, "/choose", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/orgs/"+tenant, http.StatusSeeOther)
}

// oidcEmail exchanges the code and returns the person's verified email:
// from the ID token when it carries it, else from the user info endpoint
// (for the same subject).
func (s *server) oidcEmail(ctx context.Context, code, nonce, verifier string) (string, error) {
	provider, cfg, err := s.oidc.get(ctx)
	if err != nil {
		return "", err
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("exchanging the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errors.New("the provider sent no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return "", errors.New("the ID token's nonce is not this sign-in's")
	}
	var claims struct {
		Email    string `json:"email"`
		Verified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return "", fmt.Errorf("reading the ID token: %w", err)
	}
	email, verified := claims.Email, claims.Verified != nil && *claims.Verified
	if email == "" || claims.Verified == nil {
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return "", fmt.Errorf("reading the user info: %w", err)
		}
		if ui.Subject != idt.Subject {
			return "", errors.New("the user info is of another subject than the ID token")
		}
		email, verified = ui.Email, ui.EmailVerified
	}
	if email == "" || !verified {
		return "", errUnverified
	}
	e, problem := rules.ParseEmail(email)
	if problem != "" {
		return "", errors.New(problem)
	}
	return e, nil
}
