package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/internal/store"
)

// Default session limits.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
)

// OIDCConfig names an OpenID Connect provider and ccbulk's client there.
// An empty Issuer turns OpenID Connect sign-in off.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// Config is what the web front end needs.
type Config struct {
	// DB is ccbulk's database, migrated (migration 0013 holds sessions).
	DB *store.DB
	// BaseURL is where browsers reach the handler, such as
	// https://ccbulk.example.com: links and the OpenID Connect callback
	// are made from it, and cookies are Secure when it is https.
	BaseURL string
	OIDC    OIDCConfig
	// SessionIdle ends a session not used for that long;
	// SessionAbsolute ends any session that old. Zero: the defaults.
	SessionIdle, SessionAbsolute time.Duration
	// Logger receives what went wrong on the server's side; nil: none.
	Logger *slog.Logger
	// Runs runs the uploads and applies (shared with the HTTP API, so
	// that they share its turns); nil: a service of its own on DB.
	Runs *runs.Service
	// Context is the server's: an apply started from a page runs under
	// it, not under the request's, so that it goes on when the page is
	// closed. nil: context.Background().
	Context context.Context
	// MaxUpload bounds an upload's bytes (0: DefaultMaxUpload).
	MaxUpload int64
}

// DefaultMaxUpload bounds an upload when Config.MaxUpload is not set.
const DefaultMaxUpload = 200 << 20

// server is the web front end.
type server struct {
	db       *store.DB
	base     *url.URL
	secure   bool
	idle     time.Duration
	absolute time.Duration
	log      *slog.Logger
	oidc     *oidcClient // nil without a provider
	pages    pages
	runs     *runs.Service
	ctx      context.Context
	upload   int64
}

// New returns the web front end's handler, to be mounted at "/".
func New(cfg Config) (http.Handler, error) {
	if cfg.DB == nil {
		return nil, errors.New("web: no database")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("web: the base URL %q is not an http or https URL such as https://ccbulk.example.com", cfg.BaseURL)
	}
	s := &server{db: cfg.DB, base: base, secure: base.Scheme == "https", idle: cfg.SessionIdle, absolute: cfg.SessionAbsolute, log: cfg.Logger}
	if s.idle <= 0 {
		s.idle = DefaultSessionIdle
	}
	if s.absolute <= 0 {
		s.absolute = DefaultSessionAbsolute
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.runs, s.ctx, s.upload = cfg.Runs, cfg.Context, cfg.MaxUpload
	if s.runs == nil {
		s.runs = &runs.Service{DB: cfg.DB, Log: s.log}
	}
	if s.ctx == nil {
		s.ctx = context.Background()
	}
	if s.upload <= 0 {
		s.upload = DefaultMaxUpload
	}
	if cfg.OIDC.Issuer != "" {
		if cfg.OIDC.ClientID == "" {
			return nil, errors.New("web: an OpenID Connect issuer needs a client id")
		}
		s.oidc = &oidcClient{cfg: cfg.OIDC, redirect: s.url("/signin/oidc/callback")}
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return s.routes(), nil
}

// url returns the absolute URL of path under the base URL.
func (s *server) url(path string) string {
	return s.base.String() + path
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /signin/link", s.linkPage)
	mux.HandleFunc("POST /signin/link", s.linkSignIn)
	mux.HandleFunc("GET /signin/oidc", s.oidcStart)
	mux.HandleFunc("GET /signin/oidc/callback", s.oidcCallback)
	mux.HandleFunc("POST /signout", s.signOut)
	mux.HandleFunc("GET /choose", s.chooseTenant)
	mux.HandleFunc("POST /choose", s.chooseTenantPost)
	mux.HandleFunc("GET /template", s.template)
	mux.HandleFunc("GET /orgs/{org}", s.inOrg(s.orgPage))
	mux.HandleFunc("GET /orgs/{org}/export", s.inOrg(s.export))
	mux.HandleFunc("GET /orgs/{org}/batches", s.inOrg(s.batches))
	mux.HandleFunc("GET /orgs/{org}/batches/{id}", s.inOrg(s.batch))
	mux.HandleFunc("GET /orgs/{org}/batches/{id}/undo", s.inOrg(s.undoPreview))
	mux.HandleFunc("POST /orgs/{org}/batches/{id}/undo", s.inOrg(s.undo))
	mux.HandleFunc("GET /orgs/{org}/upload", s.inOrg(s.uploadPage))
	mux.HandleFunc("POST /orgs/{org}/upload", s.orgHandler(false, s.uploadPost))
	mux.HandleFunc("GET /orgs/{org}/plans/{id}", s.inOrg(s.planPage))
	mux.HandleFunc("GET /orgs/{org}/plans/{id}/report", s.inOrg(s.planReport))
	mux.HandleFunc("POST /orgs/{org}/plans/{id}/apply", s.inOrg(s.applyPlan))
	mux.HandleFunc("GET /orgs/{org}/plans/{id}/result", s.inOrg(s.applyResult))
	mux.HandleFunc("/", s.notFound)
	return securityHeaders(mux)
}

// securityHeaders sets the headers every response carries: no script but
// the site's own files (and no inline script), no framing, no sniffing, no
// referrer (a sign-in link's token is in its URL), and no caching (pages
// hold an organization's data).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// serverError logs err and answers 500 without its details.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	s.errorPage(w, r, http.StatusInternalServerError, "error.server")
}

// notFound answers 404.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "error.notfound")
}

// errStoreNotFound tells a missing row.
func errStoreNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
