package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// sessionCookie names the session's cookie.
const sessionCookie = "ccbulk_session"

// csrfField is the anti-forgery token's form field.
const csrfField = "csrf"

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the database keeps of a secret.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// session is a signed-in request's session.
type session struct {
	store.WebSession
	idHash []byte
}

// currentSession returns the request's session, or nil when it has none
// (no cookie, unknown, or past its limits).
func (s *server) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	h := hashToken(c.Value)
	ws, err := s.db.SessionTouch(r.Context(), h, s.idle, s.absolute)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{WebSession: ws, idHash: h}, nil
}

// startSession signs a person in: a new session with a new id (any
// session the browser held is ended), tenant "" until one is chosen.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, email, tenant, via string) error {
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		if err := s.db.SessionDelete(r.Context(), hashToken(old.Value)); err != nil {
			return err
		}
	}
	id := randomToken()
	ws := store.WebSession{Email: email, CSRFToken: randomToken(), Via: via}
	if tenant != "" {
		ws.Tenant.String, ws.Tenant.Valid = tenant, true
	}
	if err := s.db.SessionCreate(r.Context(), store.SessionParams{IDHash: hashToken(id), Session: ws, Idle: s.idle, Absolute: s.absolute}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// clearSessionCookie tells the browser to forget the session.
func (s *server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// validCSRF reports whether a POST carries the session's anti-forgery token.
func validCSRF(r *http.Request, sess *session) bool {
	got := r.PostFormValue(csrfField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

// orgRequest is a request within the session's organization, by a person
// who is (as of this request) an administrator who may reach it.
type orgRequest struct {
	sess *session
	env  *rules.Env
	view *view
}

// inOrg wraps a handler of an organization's page: it needs a session
// whose chosen organization is the one in the URL, a valid anti-forgery
// token on a POST, and an actor who may reach the contact center, read
// again from the users table now (a demoted or deactivated administrator
// is refused on the next request).
func (s *server) inOrg(h func(http.ResponseWriter, *http.Request, *orgRequest)) http.HandlerFunc {
	return s.orgHandler(true, h)
}

// orgHandler is inOrg; with formCSRF false a POST's anti-forgery token is
// left to the handler (an upload reads it from its multipart stream, which
// it does not buffer).
func (s *server) orgHandler(formCSRF bool, h func(http.ResponseWriter, *http.Request, *orgRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.currentSession(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusForbidden, "error.signedout")
			return
		}
		if formCSRF && r.Method == http.MethodPost && !validCSRF(r, sess) {
			s.errorPageSess(w, r, sess, http.StatusForbidden, "error.csrf")
			return
		}
		if !sess.Tenant.Valid || schema.NameKey(sess.Tenant.String) != schema.NameKey(r.PathValue("org")) {
			s.errorPageSess(w, r, sess, http.StatusForbidden, "error.otherorg")
			return
		}
		env, err := tenant.Load(r.Context(), s.db, sess.Tenant.String, sess.Email)
		var fe *schema.FileError
		if errors.As(err, &fe) {
			s.errorPageSess(w, r, sess, http.StatusForbidden, "error.noaccess")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if rules.Export(env.ActorKind) == rules.ExportNone && rules.Allowed(env.ActorKind, rules.CapImport) != "" {
			// A read-only administrator of the customer organization
			// cannot reach the contact center (docs/REFERENCE.md §3).
			s.errorPageSess(w, r, sess, http.StatusForbidden, "error.readonlycustomer")
			return
		}
		h(w, r, &orgRequest{sess: sess, env: env, view: s.newView(w, r, sess)})
	}
}
