// Package server is 'ccbulk serve': the HTTP API of docs/REFERENCE.md §6, health and
// metrics, and the web pages (a handler of their own, mounted at /). The
// API authenticates API tokens (app.Admin.Authenticate) and does its work
// through the runs service, which the web pages share.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/sheet"
)

// DefaultMaxUpload is the largest upload accepted by default (--max-upload).
const DefaultMaxUpload = 1 << 30

// DefaultMaxRuns is how many imports and undos run at once by default.
const DefaultMaxRuns = 8

// PoolSize is the database pool a server running maxRuns runs at once
// needs: runs.ConnsPerRun for each, and as many again for the other
// requests.
func PoolSize(maxRuns int) int { return 2 * max(maxRuns, 1) * runs.ConnsPerRun }

// DefaultUploadIdle is how long an upload may pause by default.
const DefaultUploadIdle = 2 * time.Minute

// OIDC is the OpenID Connect provider the web pages sign people in with.
type OIDC struct {
	Issuer           string
	ClientID         string
	ClientSecretFile string
	// ClientSecret is read from ClientSecretFile by New.
	ClientSecret string
}

// Config is what a server needs.
type Config struct {
	DB *store.DB
	// BaseURL is the server's address as clients reach it (report_url is
	// under it); "": the address each request was sent to.
	BaseURL string
	// MaxUpload bounds an upload's bytes (0: DefaultMaxUpload); a larger
	// body is refused with 413 before it is read whole.
	MaxUpload int64
	// MaxRuns bounds the imports and undos running at once (0:
	// DefaultMaxRuns); the database pool needs runs.ConnsPerRun
	// connections for each (see PoolSize).
	MaxRuns int
	// UploadIdle is the longest an upload may pause between two reads
	// (0: DefaultUploadIdle): a client that stops sending is answered 408
	// and its run fails, nothing applied.
	UploadIdle time.Duration
	// Limits are the import limits of the command line (zero:
	// sheet.DefaultLimits).
	Limits sheet.Limits
	// Runs, when set, is the runs service the API shares with the web
	// pages (one set of turns for both, see MaxRuns); nil: a service of
	// the server's own on DB. Its MaxRuns should be this Config's.
	Runs *runs.Service
	// Web, when set, serves everything outside /api/, /healthz, /readyz
	// and /metrics: the web pages.
	Web  http.Handler
	OIDC OIDC
	Log  *slog.Logger // nil: slog.Default()
	// Registry receives the server's metrics (nil: a registry of its own).
	Registry *prometheus.Registry
	// Now tells the time (nil: time.Now); tokens expire by it.
	Now func() time.Time
}

// Server is the HTTP handler of 'ccbulk serve'.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	runs    *runs.Service
	admin   *app.Admin
	metrics *metrics
	log     *slog.Logger
	routes  []string
}

// New returns a server for cfg, and sizes cfg.DB's pool for cfg.MaxRuns
// runs at once (PoolSize). It checks the OIDC settings: the issuer,
// client id and secret file go together, and the secret file must be
// readable.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("server: no database")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = DefaultMaxRuns
	}
	// Each run holds several connections at once: a pool too small for
	// the runs allowed at once would have them wait for each other.
	cfg.DB.SetMaxOpenConns(PoolSize(cfg.MaxRuns))
	if cfg.UploadIdle <= 0 {
		cfg.UploadIdle = DefaultUploadIdle
	}
	if cfg.Limits == (sheet.Limits{}) {
		cfg.Limits = sheet.DefaultLimits
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if err := CheckOIDC(&cfg.OIDC); err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		// The Go runtime's figures, among them the collector's settings
		// (go_gc_gogc_percent, go_gc_gomemlimit_bytes: 'ccbulk serve'
		// sizes its memory limit by the runs in flight).
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), runs: cfg.Runs,
		admin: &app.Admin{Store: cfg.DB.Admin()}, metrics: m, log: cfg.Log}
	if s.runs == nil {
		s.runs = &runs.Service{DB: cfg.DB, Log: cfg.Log, MaxRuns: cfg.MaxRuns}
	}
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	s.routes = append(s.routes, "GET /metrics")
	s.apiRoutes()
	if cfg.Web != nil {
		s.mux.Handle("/", cfg.Web)
	}
	return s, nil
}

// CheckOIDC checks that the provider's settings go together and reads
// the client secret.
func CheckOIDC(o *OIDC) error {
	set := 0
	for _, v := range []string{o.Issuer, o.ClientID, o.ClientSecretFile} {
		if v != "" {
			set++
		}
	}
	if set == 0 {
		return nil
	}
	if set != 3 {
		return errors.New("--oidc-issuer, --oidc-client-id and --oidc-client-secret-file go together: set all three, or none")
	}
	data, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	o.ClientSecret = strings.TrimSpace(string(data))
	if o.ClientSecret == "" {
		return fmt.Errorf("--oidc-client-secret-file: %s is empty", o.ClientSecretFile)
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// OIDC returns the OpenID Connect settings, the client secret read.
func (s *Server) OIDC() OIDC { return s.cfg.OIDC }

// Routes returns the patterns the server serves (method and path), the
// web pages' aside.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// handle registers a route, instrumented.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.instrument(pattern, h))
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument logs one line per request (method, route, status, duration:
// never a header, so never a token) and counts it.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.request(route, sw.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.status), slog.Duration("duration", d))
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database is reachable and its schema is the
// one this build expects, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.DB.SchemaCheck(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, nil, "not ready: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
