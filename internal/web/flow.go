package web

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/mapping"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// The upload, its plan and its apply: an upload is a dry run (runs.Import)
// that keeps its saved plan; the plan's page shows what it would change;
// its Apply button applies exactly that plan in the background
// (runs.StartApply), and the result page follows it.

// planChangesPerPage is how many planned changes the plan's page shows at
// a time.
const planChangesPerPage = 200

// findingRowsShown is how many rows the plan's page shows of each rule.
const findingRowsShown = 5

// deactivationsShown is how many users a sync would deactivate the plan's
// page names.
const deactivationsShown = 200

// resultRefresh is how often, in seconds, the result page of an apply
// under way reloads itself.
const resultRefresh = 2

// origin is where the session's runs come from: the web, and the hash of
// the session's id (never the cookie's value).
func origin(or *orgRequest) schema.Origin {
	return schema.Origin{Kind: runs.OriginWeb, Ref: hex.EncodeToString(or.sess.idHash)}
}

// uploadData is the upload page.
type uploadData struct {
	Mappings []string
	Error    string // why the last upload was refused (shown as text)
	// Form holds the options the form starts with: those of the upload
	// refused, or of the query (the link a refused apply offers, with its
	// plan's options); Previous is the file that plan was made from.
	Form     url.Values
	Previous string
}

// On reports whether the checkbox name starts checked.
func (d uploadData) On(name string) bool { return d.Form.Get(name) != "" }

// Value is the value the field name starts with.
func (d uploadData) Value(name string) string { return d.Form.Get(name) }

// uploadOptions are the upload form's fields besides the file and the
// token.
var uploadOptions = []string{"atomic", "sync", "max_deactivate", "max_rejected", "no_activation_emails", "sheet", "encoding", "mapping"}

func (s *server) uploadPage(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	s.renderUpload(w, r, or, http.StatusOK, "", r.URL.Query())
}

// againURL is the upload page with the options of a plan preselected: a
// new plan of the same sheet, or of its newer version.
func againURL(org string, p runs.Plan) string {
	q := url.Values{}
	str := func(key string) string { v, _ := p.Options[key].(string); return v }
	on := func(key string) bool { v, _ := p.Options[key].(bool); return v }
	if on("atomic") {
		q.Set("atomic", "1")
	}
	if on("sync") {
		q.Set("sync", "1")
	}
	if v, ok := p.Options["activation_emails"].(bool); ok && !v {
		q.Set("no_activation_emails", "1")
	}
	for _, k := range []string{"max_deactivate", "max_rejected", "sheet", "encoding", "mapping"} {
		if v := str(k); v != "" {
			q.Set(k, v)
		}
	}
	if v := str("file"); v != "" {
		q.Set("previous", v)
	}
	u := "/orgs/" + org + "/upload"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (s *server) renderUpload(w http.ResponseWriter, r *http.Request, or *orgRequest, code int, msg string, form url.Values) {
	v := or.view
	v.Title = v.L.T("upload.title")
	preset := url.Values{}
	for _, k := range uploadOptions {
		if val := strings.TrimSpace(form.Get(k)); val != "" && len(val) <= maxField {
			preset.Set(k, val)
		}
	}
	previous := form.Get("previous")
	if len(previous) > maxField {
		previous = ""
	}
	v.Data = uploadData{Mappings: mapping.Builtins(), Error: msg, Form: preset, Previous: previous}
	v.Scripts = []script{uploadScript}
	s.render(w, r, code, "upload", v)
}

// maxField bounds an upload's form fields besides the file.
const maxField = 1024

// uploadPost reads the multipart upload as it comes: its fields first
// (the anti-forgery token among them), then the file, streamed into a dry
// run that keeps its plan; then it sends the browser to the plan's page.
func (s *server) uploadPost(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, s.upload)}
	r.Body = body
	mr, err := r.MultipartReader()
	if err != nil {
		s.errorPageSess(w, r, or.sess, http.StatusForbidden, "error.csrf")
		return
	}
	form := url.Values{}
	render := func(code int, msg string) { s.renderUpload(w, r, or, code, msg, form) }
	for {
		part, err := mr.NextPart()
		if err != nil {
			if form.Get(csrfField) == "" || !sameToken(form.Get(csrfField), or.sess.CSRFToken) {
				s.errorPageSess(w, r, or.sess, http.StatusForbidden, "error.csrf")
				return
			}
			render(http.StatusBadRequest, or.view.L.T("upload.nofile"))
			return
		}
		if part.FormName() != "file" {
			b, err := io.ReadAll(io.LimitReader(part, maxField))
			if err != nil {
				render(http.StatusBadRequest, err.Error())
				return
			}
			form.Add(part.FormName(), string(b))
			continue
		}
		// The form puts its fields before the file: the token has come.
		if !sameToken(form.Get(csrfField), or.sess.CSRFToken) {
			s.errorPageSess(w, r, or.sess, http.StatusForbidden, "error.csrf")
			return
		}
		req, msg := importRequest(form)
		if msg != "" {
			render(http.StatusBadRequest, msg)
			return
		}
		req.Org, req.Actor, req.Origin, req.DryRun = or.env.Org.ID, or.env.Actor.Email, origin(or), true
		req.Name, req.Body = part.FileName(), part
		o, err := s.runs.Import(r.Context(), req)
		switch {
		case body.over.Load() && !o.Result.Applied:
			render(http.StatusRequestEntityTooLarge, or.view.L.T("upload.toobig", s.upload))
		case outcome.HTTPStatus(err) == http.StatusOK && o.PlanID != "":
			http.Redirect(w, r, fmt.Sprintf("/orgs/%s/plans/%s", or.env.Org.ID, o.PlanID), http.StatusSeeOther)
		case outcome.HTTPStatus(err) == http.StatusInternalServerError:
			s.serverError(w, r, err)
		default:
			render(outcome.HTTPStatus(err), outcome.Message(err))
		}
		return
	}
}

// limitedBody remembers whether an upload passed its limit: the importer
// words the read error as a finding about the file, and the answer is
// still 413.
type limitedBody struct {
	io.ReadCloser
	over atomic.Bool // reads may run on a goroutine of the importer's own
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.over.Store(true)
	}
	return n, err
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// importRequest reads the upload form's options; msg says what is wrong.
func importRequest(form url.Values) (req runs.ImportRequest, msg string) {
	on := func(name string) bool { return form.Get(name) != "" }
	req.Atomic, req.Sync, req.NoActivationEmails = on("atomic"), on("sync"), on("no_activation_emails")
	req.Sheet, req.Encoding, req.Mapping = strings.TrimSpace(form.Get("sheet")), strings.TrimSpace(form.Get("encoding")), form.Get("mapping")
	var err error
	if req.MaxDeactivate, err = threshold("max_deactivate", form.Get("max_deactivate")); err != nil {
		return req, err.Error()
	}
	if req.MaxRejected, err = threshold("max_rejected", form.Get("max_rejected")); err != nil {
		return req, err.Error()
	}
	return req, ""
}

// threshold reads a limit written as a count (500) or a share (5%); ""
// is none.
func threshold(name, s string) (*importer.Threshold, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return nil, fmt.Errorf("%s %q: a percentage is over 0 and at most 100, like 5%%", name, s)
		}
		return &importer.Threshold{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%s %q: write a count like 50 or a percentage like 5%%", name, s)
	}
	return &importer.Threshold{N: n}, nil
}

// ruleFindings is one rule's findings on the plan's page.
type ruleFindings struct {
	Rule  string
	Count int
	Rows  []findingRow
}

// findingRow is one row of a rule's findings: its row number, its cells
// and the finding's message (with the fix).
type findingRow struct {
	Row     string
	Email   string
	Cells   []cell
	Message string
}

// cell is one of a report row's cells, with its column's header.
type cell struct{ Header, Value string }

// planChangeRow is one changed column of a planned change.
type planChangeRow struct {
	Row               int
	Action, Email     string
	Header, Old, New  string
	First, Activation bool
	NoOld             bool
}

// planData is the plan's page.
type planData struct {
	Plan          runs.Plan
	Findings      []ruleFindings
	Stale         int
	Changes       []planChangeRow
	Action        string
	Actions       []string
	Total         int
	Page, Pages   int
	Prev, Next    string
	Deactivate    []string
	DeactivateAll int
	File          string
	Again         string // a new plan: the upload page with this plan's options
}

// planActions are the actions the plan's list filters by.
var planActions = []string{"create", "update", "activate", "deactivate"}

// planPage shows a plan: its counts, its findings by rule, its changes
// field by field, who a sync would deactivate, its report and the Apply
// button.
func (s *server) planPage(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	ctx := r.Context()
	p, ok := s.loadPlan(w, r, or)
	if !ok {
		return
	}
	d := planData{Plan: p, Actions: planActions, Page: pageNumber(r), Again: againURL(or.env.Org.ID, p)}
	d.File, _ = p.Options["file"].(string)
	if a := r.URL.Query().Get("action"); a != "" {
		for _, known := range planActions {
			if a == known {
				d.Action = a
			}
		}
	}
	if p.HasReport {
		var err error
		if d.Findings, err = s.findings(r, or, p.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	d.Stale = p.Result.FindingsByRule[string(schema.RStale)]
	if p.Saved {
		cs, total, err := s.runs.PlanChanges(ctx, or.env.Org.ID, p.ID, d.Action, (d.Page-1)*planChangesPerPage, planChangesPerPage)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Total = total
		for _, c := range cs {
			first := true
			if len(c.Columns) == 0 {
				d.Changes = append(d.Changes, planChangeRow{Row: c.Row, Action: c.Action, Email: c.Email, First: true, Activation: c.Activation})
			}
			for _, cc := range c.Columns {
				d.Changes = append(d.Changes, planChangeRow{Row: c.Row, Action: c.Action, Email: c.Email, Header: cc.Column.Header(),
					Old: cc.Old, New: cc.New, First: first, Activation: c.Activation && first, NoOld: cc.Change == importer.ChangeCreated})
				first = false
			}
		}
		d.Pages = max(1, (total+planChangesPerPage-1)/planChangesPerPage)
		link := func(page int) string {
			q := url.Values{"page": {strconv.Itoa(page)}}
			if d.Action != "" {
				q.Set("action", d.Action)
			}
			return r.URL.Path + "?" + q.Encode()
		}
		if d.Page > 1 {
			d.Prev = link(d.Page - 1)
		}
		if d.Page < d.Pages {
			d.Next = link(d.Page + 1)
		}
		if p.Result.Deactivated > 0 {
			if d.Deactivate, d.DeactivateAll, err = s.runs.Deactivations(ctx, or.env.Org.ID, p.ID, deactivationsShown); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
	}
	v := or.view
	v.Title = v.L.T("plan.title")
	v.Data = d
	s.render(w, r, http.StatusOK, "plan", v)
}

// loadPlan returns the URL's plan if it is the organization's; otherwise
// it answers 404 and returns false.
func (s *server) loadPlan(w http.ResponseWriter, r *http.Request, or *orgRequest) (runs.Plan, bool) {
	p, err := s.runs.GetPlan(r.Context(), or.env.Org.ID, or.env.Actor.Email, r.PathValue("id"))
	switch {
	case errors.Is(err, runs.ErrNotFound):
		s.errorPageSess(w, r, or.sess, http.StatusNotFound, "error.noplan")
		return p, false
	case err != nil:
		s.serverError(w, r, err)
		return p, false
	}
	return p, true
}

// findings reads the plan's report (every row with a finding) and groups
// its findings by rule: how many rows each, the first rows with their
// cells, and the message.
func (s *server) findings(r *http.Request, or *orgRequest, planID string) ([]ruleFindings, error) {
	rep, err := s.runs.Report(r.Context(), or.env.Org.ID, or.env.Actor.Email, planID, importer.ReportCSV)
	if err != nil {
		return nil, err
	}
	src, err := sheet.Open("-", bytes.NewReader(rep.Body), sheet.Options{Limits: sheet.DefaultLimits})
	if err != nil {
		return nil, fmt.Errorf("reading plan %s's report: %w", planID, err)
	}
	defer src.Close()
	header := src.Header()
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		return -1
	}
	rowCol, findCol, emailCol := col(schema.ReportRow), col(schema.ReportFindings), col(schema.ColEmail.Header())
	at := func(fields []string, i int) string {
		if i < 0 || i >= len(fields) {
			return ""
		}
		return fields[i]
	}
	var out []ruleFindings
	byRule := map[string]int{}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading plan %s's report: %w", planID, err)
		}
		for _, f := range strings.Split(at(rec.Fields, findCol), " | ") {
			rule, msg, _ := strings.Cut(f, ": ")
			if rule == "" {
				continue
			}
			i, ok := byRule[rule]
			if !ok {
				i = len(out)
				byRule[rule] = i
				out = append(out, ruleFindings{Rule: rule})
			}
			row := at(rec.Fields, rowCol)
			if n := len(out[i].Rows); n > 0 && out[i].Rows[n-1].Row == row {
				// Another finding of the same rule on the same row.
				out[i].Rows[n-1].Message += " | " + msg
				continue
			}
			out[i].Count++
			if len(out[i].Rows) < findingRowsShown {
				fr := findingRow{Row: at(rec.Fields, rowCol), Email: at(rec.Fields, emailCol), Message: msg}
				for j, h := range header {
					if j == rowCol || j == findCol || h == schema.ReportResult || at(rec.Fields, j) == "" {
						continue
					}
					fr.Cells = append(fr.Cells, cell{Header: h, Value: at(rec.Fields, j)})
				}
				out[i].Rows = append(out[i].Rows, fr)
			}
		}
	}
	return out, nil
}

// planReport downloads the plan's report (?format=csv|xlsx: either).
func (s *server) planReport(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	f := r.URL.Query().Get("format")
	if f != "" && f != importer.ReportCSV && f != importer.ReportXLSX {
		s.errorPageSess(w, r, or.sess, http.StatusBadRequest, "error.format")
		return
	}
	rep, err := s.runs.Report(r.Context(), or.env.Org.ID, or.env.Actor.Email, r.PathValue("id"), f)
	switch {
	case errors.Is(err, runs.ErrNotFound):
		s.errorPageSess(w, r, or.sess, http.StatusNotFound, "error.noreport")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", rep.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="plan-%s.report.%s"`, r.PathValue("id"), rep.Format))
	_, _ = w.Write(rep.Body)
}

// applyPlan starts the plan's apply in the background, under the server's
// context (it goes on when the page is closed), and sends the browser to
// its result page.
func (s *server) applyPlan(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := s.loadPlan(w, r, or)
	if !ok {
		return
	}
	err := s.runs.StartApply(s.ctx, or.env.Org.ID, or.env.Actor.Email, p.ID, origin(or))
	var applied *importer.PlanAppliedError
	var running *runs.ApplyRunningError
	switch {
	case err == nil, errors.As(err, &running):
		// Started, or under way already: the result page follows it.
		s.log.Info("plan applied from the web", "org", or.env.Org.ID, "plan", p.ID, "actor", or.env.Actor.Email, "started", err == nil)
		http.Redirect(w, r, fmt.Sprintf("/orgs/%s/plans/%s/result", or.env.Org.ID, p.ID), http.StatusSeeOther)
	case errors.As(err, &applied):
		s.errorDetail(w, r, or.sess, http.StatusConflict, "error.applied", outcome.Message(err))
	case outcome.Rule(err) == schema.FActor:
		s.errorDetail(w, r, or.sess, http.StatusForbidden, "error.noapply", outcome.Message(err))
	case errors.Is(err, runs.ErrBadRequest):
		s.errorDetail(w, r, or.sess, http.StatusBadRequest, "error.noapply", outcome.Message(err))
	default:
		s.serverError(w, r, err)
	}
}

// resultData is the result page of an apply: the plan, and the link to
// a new plan (the upload page with the plan's options).
type resultData struct {
	runs.Plan
	Again string
}

// applyResult shows the apply's state: under way (the page reloads
// itself), applied (a link to the batch), or refused (what changed, and
// an offer to upload again).
func (s *server) applyResult(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := s.loadPlan(w, r, or)
	if !ok {
		return
	}
	v := or.view
	v.Title = v.L.T("result.title")
	if p.ApplyState == runs.ApplyRunning {
		v.Refresh = resultRefresh
	}
	v.Data = resultData{Plan: p, Again: againURL(or.env.Org.ID, p)}
	code := http.StatusOK
	if p.ApplyState == runs.ApplyRefused {
		code = http.StatusConflict
	}
	s.render(w, r, code, "result", v)
}
