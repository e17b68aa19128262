package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// DefaultLinkTTL is how long a sign-in link works unless told otherwise.
const DefaultLinkTTL = 15 * time.Minute

// LinkPath is the path of a one-time sign-in link, before its token.
const LinkPath = "/signin/link?token="

// CreateSignInLink records a one-time sign-in link for actor, an active
// administrator of org (checked now, and again when the link is used), and
// returns the link under baseURL and when it expires. Only the token's hash
// is stored.
func CreateSignInLink(ctx context.Context, db *store.DB, baseURL, org, actor string, ttl time.Duration) (link string, expires time.Time, err error) {
	if ttl <= 0 {
		return "", time.Time{}, fmt.Errorf("a sign-in link's time to live is a positive duration such as 15m, not %s", ttl)
	}
	if err := db.SchemaCheck(ctx); err != nil {
		return "", time.Time{}, err
	}
	env, err := tenant.Load(ctx, db, org, actor)
	if err != nil {
		return "", time.Time{}, err
	}
	tok := randomToken()
	expires, err = db.SignInLinkCreate(ctx, store.SignInLinkParams{TokenHash: hashToken(tok), Tenant: env.Org.ID, Email: env.Actor.Email, TTL: ttl})
	if err != nil {
		return "", time.Time{}, err
	}
	return strings.TrimRight(baseURL, "/") + LinkPath + tok, expires, nil
}

// home sends a signed-in person to the organization, or to the choice of
// one; otherwise it shows how to sign in.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	switch {
	case sess == nil:
		v := s.newView(w, r, nil)
		v.Title = v.L.T("signin.title")
		v.Data = struct{ OIDC bool }{s.oidc != nil}
		s.render(w, r, http.StatusOK, "signin", v)
	case sess.Tenant.Valid:
		http.Redirect(w, r, "/orgs/"+sess.Tenant.String, http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/choose", http.StatusSeeOther)
	}
}

// linkPage shows a sign-in link's button: the link is used by the POST,
// so a mail scanner that fetches the link does not use it up.
func (s *server) linkPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, nil)
	v.Title = v.L.T("link.title")
	v.Data = struct{ Token string }{r.URL.Query().Get("token")}
	s.render(w, r, http.StatusOK, "link", v)
}

// linkSignIn uses a one-time sign-in link and starts a session in its
// organization.
func (s *server) linkSignIn(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if tok == "" {
		s.errorPage(w, r, http.StatusForbidden, "error.link.unknown")
		return
	}
	org, email, err := s.db.SignInLinkUse(r.Context(), hashToken(tok))
	switch {
	case errors.Is(err, store.ErrLinkUsed):
		s.errorPageSess(w, r, nil, http.StatusForbidden, "error.link.used")
		return
	case errors.Is(err, store.ErrLinkExpired):
		s.errorPageSess(w, r, nil, http.StatusForbidden, "error.link.expired")
		return
	case errors.Is(err, store.ErrNotFound):
		s.errorPageSess(w, r, nil, http.StatusForbidden, "error.link.unknown")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if _, err := tenant.Load(r.Context(), s.db, org, email); err != nil {
		var fe *schema.FileError
		if errors.As(err, &fe) {
			s.errorPageSess(w, r, nil, http.StatusForbidden, "error.noaccess")
			return
		}
		s.serverError(w, r, err)
		return
	}
	if err := s.startSession(w, r, email, org, "link"); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("signed in with a one-time link", "org", org, "email", email)
	http.Redirect(w, r, "/orgs/"+org, http.StatusSeeOther)
}

// signOut ends the session.
func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if sess == nil {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !validCSRF(r, sess) {
		s.errorPageSess(w, r, sess, http.StatusForbidden, "error.csrf")
		return
	}
	if err := s.db.SessionDelete(r.Context(), sess.idHash); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	v := s.newView(w, r, nil)
	v.Title = v.L.T("signout.title")
	s.render(w, r, http.StatusOK, "signedout", v)
}

// chooseTenant lists the organizations the person administers.
func (s *server) chooseTenant(w http.ResponseWriter, r *http.Request) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ids, err := s.db.AdminTenantList(r.Context(), sess.Email)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := s.newView(w, r, sess)
	v.Title = v.L.T("choose.title")
	v.Data = struct{ Orgs []string }{ids}
	code := http.StatusOK
	if len(ids) == 0 {
		code = http.StatusForbidden
	}
	s.render(w, r, code, "choose", v)
}

// chooseTenantPost records the organization chosen, one the person
// administers now.
func (s *server) chooseTenantPost(w http.ResponseWriter, r *http.Request) {
	sess, err := s.currentSession(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if sess == nil {
		s.errorPage(w, r, http.StatusForbidden, "error.signedout")
		return
	}
	if !validCSRF(r, sess) {
		s.errorPageSess(w, r, sess, http.StatusForbidden, "error.csrf")
		return
	}
	ids, err := s.db.AdminTenantList(r.Context(), sess.Email)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	org := r.PostFormValue("org")
	i := slices.IndexFunc(ids, func(id string) bool { return schema.NameKey(id) == schema.NameKey(org) })
	if i < 0 {
		s.errorPageSess(w, r, sess, http.StatusForbidden, "error.otherorg")
		return
	}
	if err := s.db.SessionTenantSet(r.Context(), sess.idHash, ids[i]); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/orgs/"+ids[i], http.StatusSeeOther)
}
