package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

// staticFiles serves the embedded style sheet.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(staticFS, "static") // the directory is embedded
	return http.FileServerFS(sub)
}

// script is a script of the site's own, loaded by a page from the
// embedded static files with its Subresource Integrity hash.
type script struct{ Src, Integrity string }

// uploadScript is the upload page's drag and drop (static/upload.js,
// version 1), pinned by the SHA-384 of its bytes: the browser runs it only
// if they are these (TestUploadScriptPinned checks the hash against the
// file). The form works without it.
var uploadScript = script{Src: "/static/upload.js?v=1", Integrity: "sha384-hPR6BVTid/w1dUGq8hYxZqZ9UuJ89Yr7wwUxGCWlKeQdRAvjY01wCsB9Im7er1wN"}

// pages are the parsed page templates by name, each with the layout.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	// when shows a time in UTC, saying so.
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
	"batchTable": func(l *Localizer, org string, bs []batchRow) any {
		return struct {
			L       *Localizer
			Org     string
			Batches []batchRow
		}{l, org, bs}
	},
	// statusOf tells a batch's status by a word, a mark and a colour.
	"statusOf": func(l *Localizer, b batchRow) any {
		class, mark := "info", "…"
		switch b.Status {
		case "applied":
			class, mark = "good", "✓"
		case "aborted", "failed":
			class, mark = "bad", "✗"
		}
		return struct {
			L           *Localizer
			Status      string
			Class, Mark string
			UndoneBy    int64
		}{l, b.Status, class, mark, b.UndoneBy}
	},
	"changesOf": func(l *Localizer, p changePage) any {
		return struct {
			L *Localizer
			P changePage
		}{l, p}
	},
	// seats shows a seat count, where -1 is no limit.
	"seats": func(l *Localizer, n int) string {
		if n < 0 {
			return l.T("seats.unlimited")
		}
		return fmt.Sprint(n)
	},
}

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		p[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// view is what every page shows besides its own data.
type view struct {
	L        *Localizer
	Title    string
	Email    string // the person signed in; "" when none
	Org      string // the organization chosen; "" when none
	CSRF     string // the session's anti-forgery token
	Path     string // the page's path, for the language switch
	Langs    []langLink
	Data     any
	Message  string // an error page's message key
	Detail   string // an error page's details (shown as text)
	Status   int
	SignedIn bool
	// Refresh, when set, reloads the page after that many seconds (a
	// result page of a run under way).
	Refresh int
	// Scripts are the page's scripts (none but the site's own files).
	Scripts []script
}

// langLink is one entry of the language switch.
type langLink struct {
	Code, Name, Href string
	Current          bool
}

// newView starts a page's view for the request; sess may be nil.
func (s *server) newView(w http.ResponseWriter, r *http.Request, sess *session) *view {
	l := s.localizer(w, r)
	v := &view{L: l, Path: r.URL.Path}
	for _, code := range langCodes {
		q := url.Values{}
		for k, vs := range r.URL.Query() {
			if k != "lang" {
				q[k] = vs
			}
		}
		q.Set("lang", code)
		v.Langs = append(v.Langs, langLink{Code: code, Name: langNames[code], Href: r.URL.Path + "?" + q.Encode(), Current: code == l.Lang})
	}
	if sess != nil {
		v.SignedIn, v.Email, v.CSRF = true, sess.Email, sess.CSRFToken
		if sess.Tenant.Valid {
			v.Org = sess.Tenant.String
		}
	}
	return v
}

// render writes a page with status code.
func (s *server) render(w http.ResponseWriter, r *http.Request, code int, name string, v *view) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("web: rendering a page failed", "page", name, "path", r.URL.Path, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// errorPage answers with an error page saying message (a catalogue key).
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, code int, message string) {
	sess, _ := s.currentSession(r) // best effort: the page shows who is signed in
	s.errorPageSess(w, r, sess, code, message)
}

// errorPageSess is errorPage for a request whose session is known.
func (s *server) errorPageSess(w http.ResponseWriter, r *http.Request, sess *session, code int, message string) {
	s.errorDetail(w, r, sess, code, message, "")
}

// errorDetail is errorPageSess with details (shown as text).
func (s *server) errorDetail(w http.ResponseWriter, r *http.Request, sess *session, code int, message, detail string) {
	v := s.newView(w, r, sess)
	v.Title, v.Message, v.Detail, v.Status = v.L.T("error.title"), message, detail, code
	s.render(w, r, code, "error", v)
}
