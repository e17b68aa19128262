package server

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// openAPI is the API described in OpenAPI 3; a test checks it against the
// routes the server registers, both ways.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document of the API.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func (s *Server) apiRoutes() {
	s.handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	s.handle("GET /api/v1/template", s.authed(false, s.template))
	s.handle("POST /api/v1/orgs/{org}/imports", s.authed(true, s.importFile))
	s.handle("GET /api/v1/orgs/{org}/users", s.authed(true, s.export))
	s.handle("GET /api/v1/orgs/{org}/batches", s.authed(true, s.batches))
	s.handle("GET /api/v1/orgs/{org}/batches/{id}", s.authed(true, s.batch))
	s.handle("GET /api/v1/orgs/{org}/batches/{id}/report", s.authed(true, s.batchReport))
	s.handle("POST /api/v1/orgs/{org}/batches/{id}/undo", s.authed(true, s.undo))
	s.handle("GET /api/v1/orgs/{org}/plans/{plan_id}/report", s.authed(true, s.planReport))
	s.handle("POST /api/v1/orgs/{org}/plans/{plan_id}/apply", s.authed(true, s.applyPlan))
	// Anything else under /api/ is an unknown endpoint (not a web page).
	s.mux.Handle("/api/", s.instrument("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, nil, fmt.Sprintf("no endpoint %s %s: GET /api/v1/openapi.json describes the API", r.Method, r.URL.Path))
	})))
}

// apiError is the body of every error answer.
type apiError struct {
	Error *outcome.Error `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, id *string, msg string) {
	writeJSON(w, status, apiError{Error: &outcome.Error{ID: id, Message: msg}})
}

// fail answers err as an error object, with its status.
func fail(w http.ResponseWriter, err error) {
	e := outcome.ErrorOf(err)
	writeJSON(w, statusOf(err), apiError{Error: e})
}

// statusOf is the HTTP status of an error: outcome.HTTPStatus, and the
// server's own: 401 a token refused, 404 nothing of that name, 413 a body
// over --max-upload.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, app.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, runs.ErrNotFound):
		return http.StatusNotFound
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	}
	return outcome.HTTPStatus(err)
}

// caller is who a request acts for: a token's actor in its organization.
type caller struct {
	token app.Token
}

func (c caller) origin() schema.Origin {
	return schema.Origin{Kind: runs.OriginAPI, Ref: strconv.FormatInt(c.token.ID, 10)}
}

// authed checks the request's bearer token (401 when missing, unknown,
// expired or revoked) and, for the routes of an organization, that the
// token is bound to it (403). What the token's actor may do is checked by
// each operation, its role read again (F-ACTOR, 403).
func (s *Server) authed(orgRoute bool, h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if strings.HasPrefix(strings.ToLower(secret), "bearer ") {
			secret = secret[len("bearer "):]
		}
		tok, err := s.admin.Authenticate(r.Context(), strings.TrimSpace(secret), s.cfg.Now())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ccbulk"`)
			fail(w, err)
			return
		}
		if org := r.PathValue("org"); orgRoute && !strings.EqualFold(org, tok.Org) {
			writeError(w, http.StatusForbidden, nil, fmt.Sprintf("this token is bound to organization %s, not %s", tok.Org, org))
			return
		}
		h(w, r, caller{token: tok})
	}
}

// query reads a request's query parameters, refusing those it does not
// know (a misspelt option is not silently ignored).
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request, known ...string) *query {
	q := &query{v: r.URL.Query()}
	for k := range q.v {
		found := false
		for _, n := range known {
			found = found || k == n
		}
		if !found && q.err == nil {
			q.err = &runs.BadRequestError{Message: fmt.Sprintf("unknown query parameter %q: use %s", k, strings.Join(known, ", "))}
		}
	}
	return q
}

func (q *query) bad(format string, args ...any) {
	if q.err == nil {
		q.err = &runs.BadRequestError{Message: fmt.Sprintf(format, args...)}
	}
}

func (q *query) str(name string) string { return q.v.Get(name) }

func (q *query) boolean(name string, def bool) bool {
	s := q.v.Get(name)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.bad("%s=%q: write true or false", name, s)
	}
	return b
}

func (q *query) threshold(name string) *importer.Threshold {
	s := strings.TrimSpace(q.v.Get(name))
	if s == "" {
		return nil
	}
	t, err := importer.ParseThreshold(importer.Option(strings.ReplaceAll(name, "_", "-")), s)
	if err != nil && q.err == nil {
		q.err = runs.OptionError(err)
	}
	return t
}

func (q *query) format(name string, allowed ...string) string {
	s := q.v.Get(name)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	q.bad("%s=%q: use %s", name, s, strings.Join(allowed, " or "))
	return ""
}

// url is a path of the API under the base URL; without one, under the
// address the request was sent to.
func (s *Server) url(r *http.Request, path string) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// importFile is POST /api/v1/orgs/{org}/imports: the body is the file (or
// the multipart field "file"), streamed into the import as it comes.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request, c caller) {
	if r.ContentLength > s.cfg.MaxUpload {
		writeError(w, http.StatusRequestEntityTooLarge, nil, fmt.Sprintf("the upload is %d bytes, over the server's limit of %d (--max-upload); nothing was read", r.ContentLength, s.cfg.MaxUpload))
		return
	}
	body := &limitedBody{r: http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload), rc: http.NewResponseController(w), idle: s.cfg.UploadIdle}
	r.Body = body
	q := newQuery(r, "dry_run", "atomic", "sync", "max_deactivate", "max_rejected", "mapping", "sheet", "encoding",
		"activation_emails", "lock_wait", "report_format", "name")
	req := runs.ImportRequest{Org: c.token.Org, Actor: c.token.Actor, Origin: c.origin(), Name: q.str("name"),
		DryRun: q.boolean("dry_run", false), Atomic: q.boolean("atomic", false), Sync: q.boolean("sync", false),
		MaxDeactivate: q.threshold("max_deactivate"), MaxRejected: q.threshold("max_rejected"), Mapping: q.str("mapping"),
		Sheet: q.str("sheet"), Encoding: q.str("encoding"), NoActivationEmails: !q.boolean("activation_emails", true),
		ReportFormat: q.str("report_format"), Limits: s.cfg.Limits}
	if q.err == nil {
		q.err = req.Validate() // the importer's checks, worded with the query parameters
	}
	if lw := q.str("lock_wait"); lw != "" {
		d, err := time.ParseDuration(lw)
		if err != nil || d < 0 {
			q.bad("lock_wait=%q: write a duration like 30s or 5m", lw)
		}
		req.LockWait = d
	}
	if q.err != nil {
		fail(w, q.err)
		return
	}
	req.Body = r.Body
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		part, err := filePart(r, params["boundary"])
		if err != nil {
			fail(w, err)
			return
		}
		defer part.Close()
		req.Body = part
		if req.Name == "" {
			req.Name = part.FileName()
		}
	}
	start := time.Now()
	o, err := s.runs.Import(r.Context(), req)
	s.metrics.imported(importLabel(o, err), o.Result.Rows, time.Since(start))
	if o.ReportRef != "" {
		u := s.url(r, "/api/v1/orgs/"+url.PathEscape(c.token.Org)+"/batches/"+o.ReportRef+"/report")
		if req.DryRun {
			u = s.url(r, "/api/v1/orgs/"+url.PathEscape(c.token.Org)+"/plans/"+o.ReportRef+"/report")
		}
		o.JSON.ReportURL, o.JSON.Report = &u, &u
	} else {
		var none *string
		o.JSON.ReportURL = none
	}
	status := statusOf(err)
	if body.idled.Load() && !o.Result.Applied {
		status = http.StatusRequestTimeout
		o.JSON.Error = &outcome.Error{Message: fmt.Sprintf("the upload stopped coming for %s; nothing was applied", s.cfg.UploadIdle)}
	}
	if body.over.Load() && !o.Result.Applied {
		status = http.StatusRequestEntityTooLarge
		o.JSON.Error = &outcome.Error{}
		o.JSON.Error.Message = fmt.Sprintf("the upload is over the server's limit of %d bytes (--max-upload); nothing was applied", s.cfg.MaxUpload)
	}
	writeJSON(w, status, importAnswer{o.JSON})
}

// limitedBody is a request body under http.MaxBytesReader that remembers
// whether the limit was passed: the importer words a read error as a
// finding about the file, and the answer is still 413.
// Each read may wait at most idle for the client's next bytes: an upload
// that stops coming (while its run holds the organization's lock) ends.
type limitedBody struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	// Reads may run on a goroutine of the importer's own: the flags are
	// atomic.
	over  atomic.Bool // the body passed the limit
	idled atomic.Bool // the client sent nothing for idle
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.idle > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle)) // not every connection supports deadlines
	}
	n, err := b.r.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.over.Store(true)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.idled.Store(true)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.r.Close() }

// importAnswer is the --json object with report_url always present (null
// when no report was written).
type importAnswer struct{ outcome.Import }

func (a importAnswer) MarshalJSON() ([]byte, error) {
	type plain outcome.Import
	p := plain(a.Import)
	url := p.ReportURL
	p.ReportURL = nil
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	data := bytes.TrimRight(b.Bytes(), "\n")
	tail, err := json.Marshal(url)
	if err != nil {
		return nil, err
	}
	return append(append(data[:len(data)-1:len(data)-1], `,"report_url":`...), append(tail, '}')...), nil
}

// filePart returns the multipart field "file" of a request, streamed.
func filePart(r *http.Request, boundary string) (interface {
	io.ReadCloser
	FileName() string
}, error) {
	if boundary == "" {
		return nil, &runs.BadRequestError{Message: "a multipart body needs its boundary in Content-Type"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &runs.BadRequestError{Message: "reading the multipart body: " + err.Error()}
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, &runs.BadRequestError{Message: `the multipart body has no field "file": send the sheet as the field "file"`}
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, &runs.BadRequestError{Message: "reading the multipart body: " + err.Error()}
		}
		if p.FormName() == "file" {
			return p, nil
		}
		_ = p.Close()
	}
}

// importLabel is an import's outcome as the metrics count it.
func importLabel(o runs.Outcome, err error) string {
	switch {
	case err == nil && o.Result.DryRun:
		return "dry_run"
	case outcome.ExitCode(err) == outcome.ExitRefused:
		return "refused"
	case err != nil && !o.Result.Applied:
		return "failed"
	case o.Result.Rejected > 0:
		return "rejected_rows"
	}
	return "applied"
}

// lazyFile sets a file's headers when its first bytes are written, so that
// an error met before any is written is still answered as an error.
type lazyFile struct {
	w           http.ResponseWriter
	contentType string
	name        string
	started     bool
}

func (f *lazyFile) Write(b []byte) (int, error) {
	if !f.started {
		f.started = true
		f.w.Header().Set("Content-Type", f.contentType)
		f.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
		f.w.Header().Set("Cache-Control", "no-store")
		f.w.WriteHeader(http.StatusOK)
	}
	return f.w.Write(b)
}

// finish answers err if nothing was written yet; once a file has begun,
// an error breaks the connection so that the client never takes a cut
// file for a whole one.
func (f *lazyFile) finish(err error) {
	if err == nil {
		if !f.started {
			_, _ = f.Write(nil)
		}
		return
	}
	if f.started {
		panic(http.ErrAbortHandler)
	}
	fail(f.w, err)
}

func sheetFormat(q *query) sheet.Format {
	if f := q.format("format", "csv", "xlsx"); f == "xlsx" {
		return sheet.XLSX
	}
	return sheet.CSV
}

func (s *Server) template(w http.ResponseWriter, r *http.Request, _ caller) {
	q := newQuery(r, "format")
	format := sheetFormat(q)
	if q.err != nil {
		fail(w, q.err)
		return
	}
	f := &lazyFile{w: w, contentType: runs.ContentType(string(format)), name: "template." + string(format)}
	f.finish(s.runs.Template(format, f))
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, c caller) {
	q := newQuery(r, "format")
	format := sheetFormat(q)
	if q.err != nil {
		fail(w, q.err)
		return
	}
	f := &lazyFile{w: w, contentType: runs.ContentType(string(format)), name: c.token.Org + "-users." + string(format)}
	_, err := s.runs.Export(r.Context(), c.token.Org, c.token.Actor, format, f)
	f.finish(err)
}

func (s *Server) batches(w http.ResponseWriter, r *http.Request, c caller) {
	if q := newQuery(r); q.err != nil {
		fail(w, q.err)
		return
	}
	bs, err := s.runs.Batches(r.Context(), c.token.Org, c.token.Actor)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": bs})
}

// batchID reads the {id} of a batch's route; a malformed one names no
// batch (404).
func batchID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &runs.NotFoundError{What: fmt.Sprintf("no batch %q: a batch is named by its number", r.PathValue("id"))}
	}
	return id, nil
}

// batchJSON writes {"batch":{…},"changes":[…],"activation_emails":[…]}
// as the changes are read, as 'batches show --format json' does.
type batchJSON struct {
	w        http.ResponseWriter
	enc      *json.Encoder
	started  bool
	section  int // 0 changes, 1 activation emails
	elements int
}

func (b *batchJSON) Begin(batch outcome.Batch) error {
	b.w.Header().Set("Content-Type", "application/json")
	b.w.Header().Set("Cache-Control", "no-store")
	b.w.WriteHeader(http.StatusOK)
	b.started = true
	b.enc = json.NewEncoder(b.w)
	b.enc.SetEscapeHTML(false)
	if _, err := io.WriteString(b.w, `{"batch":`); err != nil {
		return err
	}
	if err := b.enc.Encode(batch); err != nil {
		return err
	}
	_, err := io.WriteString(b.w, `,"changes":[`)
	return err
}

func (b *batchJSON) element(v any) error {
	if b.elements > 0 {
		if _, err := io.WriteString(b.w, ","); err != nil {
			return err
		}
	}
	b.elements++
	return b.enc.Encode(v)
}

func (b *batchJSON) Change(c outcome.Change) error { return b.element(c) }

func (b *batchJSON) Activation(a outcome.Activation) error {
	if err := b.endChanges(); err != nil {
		return err
	}
	return b.element(a)
}

func (b *batchJSON) endChanges() error {
	if b.section == 0 {
		b.section, b.elements = 1, 0
		_, err := io.WriteString(b.w, `],"activation_emails":[`)
		return err
	}
	return nil
}

func (b *batchJSON) end() error {
	if err := b.endChanges(); err != nil {
		return err
	}
	_, err := io.WriteString(b.w, "]}\n")
	return err
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := batchID(r)
	if err == nil {
		err = newQuery(r).err
	}
	if err != nil {
		fail(w, err)
		return
	}
	out := &batchJSON{w: w}
	err = s.runs.Batch(r.Context(), c.token.Org, c.token.Actor, id, out)
	if err == nil {
		err = out.end()
	}
	if err != nil && out.started {
		s.log.Error("batch answer cut short", "org", c.token.Org, "batch", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		fail(w, err)
	}
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, c caller, ref string) {
	q := newQuery(r, "format")
	format := q.format("format", importer.ReportCSV, importer.ReportXLSX, importer.ReportJSONL)
	if q.err != nil {
		fail(w, q.err)
		return
	}
	rep, err := s.runs.Report(r.Context(), c.token.Org, c.token.Actor, ref, format)
	if err != nil {
		fail(w, err)
		return
	}
	f := &lazyFile{w: w, contentType: rep.ContentType(), name: "report-" + ref + "." + rep.Format}
	_, err = f.Write(rep.Body)
	if err != nil {
		s.log.Warn("report answer cut short", "org", c.token.Org, "report", ref, "err", err)
	}
}

func (s *Server) batchReport(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := batchID(r)
	if err != nil {
		fail(w, err)
		return
	}
	s.report(w, r, c, strconv.FormatInt(id, 10))
}

func (s *Server) planReport(w http.ResponseWriter, r *http.Request, c caller) {
	s.report(w, r, c, r.PathValue("plan_id"))
}

func (s *Server) undo(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := batchID(r)
	if err != nil {
		fail(w, err)
		return
	}
	q := newQuery(r, "dry_run")
	dry := q.boolean("dry_run", false)
	if q.err != nil {
		fail(w, q.err)
		return
	}
	j, err := s.runs.Undo(r.Context(), c.token.Org, c.token.Actor, id, dry, c.origin())
	if status := statusOf(err); status == http.StatusNotFound {
		fail(w, err)
	} else {
		writeJSON(w, status, j)
	}
}

// applyPlan applies a dry run's plan (runs.Apply): the import's object,
// report_url null (an apply writes no report); 409 when the database moved
// since the plan (the message says what changed) or it was applied.
func (s *Server) applyPlan(w http.ResponseWriter, r *http.Request, c caller) {
	q := newQuery(r)
	if q.err != nil {
		fail(w, q.err)
		return
	}
	start := time.Now()
	o, err := s.runs.Apply(r.Context(), c.token.Org, c.token.Actor, r.PathValue("plan_id"), c.origin())
	s.metrics.imported(importLabel(o, err), o.Result.Rows, time.Since(start))
	switch status := statusOf(err); status {
	case http.StatusNotFound, http.StatusBadRequest:
		fail(w, err)
	default:
		writeJSON(w, status, importAnswer{o.JSON})
	}
}
