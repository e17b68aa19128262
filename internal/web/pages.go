package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// recentBatches is how many batches the organization's page lists.
const recentBatches = 10

// batchListLimit is how many batches the batch list shows.
const batchListLimit = 200

// changesPerPage is how many changes a batch's page or an undo's preview
// shows at a time.
const changesPerPage = 500

// maxXLSXRows bounds an XLSX export's users (0: exporter.MaxXLSXRows);
// tests lower it.
var maxXLSXRows = 0

// orgData is the organization's page.
type orgData struct {
	app.OrgDetails
	PremiumFree, StandardFree int
	Batches                   []batchRow
	KindKey                   string
	MayExport, Masked         bool
}

// batchRow is a batch as the lists show it.
type batchRow struct {
	schema.Batch
	UndoOf, UndoneBy int64
	Error            string
	// Plan is the plan whose apply (from the web or the API) ran as the
	// batch: the lists link to its result page. "" for other batches.
	Plan string
}

func batchRows(bs []schema.Batch) []batchRow {
	rows := make([]batchRow, len(bs))
	for i, b := range bs {
		rows[i] = batchRow{Batch: b, UndoOf: b.UndoOf.Int64, UndoneBy: b.UndoneBy.Int64, Error: b.Error.String}
	}
	return rows
}

// history is the application layer, through which the pages read an
// organization's batches as the command line does.
func (s *server) history() *app.Admin { return &app.Admin{Store: s.db.Admin()} }

// latestBatches returns the organization's latest batches, at most limit,
// newest first, each with the plan that applied it.
func (s *server) latestBatches(r *http.Request, or *orgRequest, limit int) ([]batchRow, error) {
	bs, err := s.history().Batches(r.Context(), or.env.Org.ID, limit)
	if err != nil {
		return nil, err
	}
	return s.withPlans(r, or, batchRows(bs))
}

// withPlans fills in the plan each batch applied, when a plan kept by the
// server did (migration 0015 links a running apply's batch too).
func (s *server) withPlans(r *http.Request, or *orgRequest, rows []batchRow) ([]batchRow, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	ids := make([]int64, len(rows))
	for i, b := range rows {
		ids[i] = b.ID
	}
	plans, err := s.db.PlanLinksByBatch(r.Context(), or.env.Org.ID, ids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Plan = plans[rows[i].ID]
	}
	return rows, nil
}

// orgPage shows the organization: seats used and free per tier, PBXes, CC
// roles, administrators and recent batches.
func (s *server) orgPage(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	a := app.Admin{Store: s.db.Admin()}
	d, err := a.OrgShow(r.Context(), or.env.Org.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows, err := s.latestBatches(r, or, recentBatches)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	scope := rules.Export(or.env.ActorKind)
	if scope == rules.ExportMasked {
		// A CC Service Administrator sees only other CC Service
		// Administrators among the administrators (docs/REFERENCE.md §3).
		var shown []schema.User
		for _, u := range d.Administrators {
			if u.AdminRole == schema.RoleCCService {
				shown = append(shown, u)
			}
		}
		d.Administrators = shown
	}
	v := or.view
	v.Title = d.Name
	v.Data = orgData{OrgDetails: d, PremiumFree: app.Free(d.PremiumSeats, d.PremiumUsed), StandardFree: app.Free(d.StandardSeats, d.StandardUsed),
		Batches: rows, KindKey: fmt.Sprintf("actor.%d", or.env.ActorKind), MayExport: scope != rules.ExportNone, Masked: scope == rules.ExportMasked}
	s.render(w, r, http.StatusOK, "org", v)
}

// format reads ?format=csv|xlsx (csv when absent).
func format(r *http.Request) (sheet.Format, bool) {
	switch r.URL.Query().Get("format") {
	case "", "csv":
		return sheet.CSV, true
	case "xlsx":
		return sheet.XLSX, true
	}
	return "", false
}

// contentType is a download's media type.
func contentType(f sheet.Format) string {
	if f == sheet.XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// template downloads the empty template; it holds no data, so it needs no
// session.
func (s *server) template(w http.ResponseWriter, r *http.Request) {
	f, ok := format(r)
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "error.format")
		return
	}
	w.Header().Set("Content-Type", contentType(f))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ccbulk-template.%s"`, f))
	if err := exporter.Template(w, f, f == sheet.CSV); err != nil {
		s.log.Error("web: writing the template failed", "error", err)
		panic(http.ErrAbortHandler) // the download is cut short, not left looking complete
	}
}

// export downloads the users the actor may see (masked for a CC Service
// Administrator), by package exporter.
func (s *server) export(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	f, ok := format(r)
	if !ok {
		s.errorPageSess(w, r, or.sess, http.StatusBadRequest, "error.format")
		return
	}
	if rules.Export(or.env.ActorKind) == rules.ExportNone {
		s.errorPageSess(w, r, or.sess, http.StatusForbidden, "error.noexport")
		return
	}
	out := &download{w: w, header: func() {
		w.Header().Set("Content-Type", contentType(f))
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-users.%s"`, or.env.Org.ID, f))
	}}
	_, err := exporter.Export(r.Context(), s.db, out, exporter.Options{Org: or.env.Org.ID, Actor: or.env.Actor.Email, Format: f, BOM: f == sheet.CSV, MaxXLSXRows: maxXLSXRows})
	var tooMany *exporter.TooManyRowsError
	switch {
	case err == nil:
	case !out.started && errors.As(err, &tooMany):
		s.errorDetail(w, r, or.sess, http.StatusUnprocessableEntity, "error.toomany", tooMany.Error())
	case !out.started:
		s.serverError(w, r, err)
	default:
		s.log.Error("web: export failed", "org", or.env.Org.ID, "error", err)
		panic(http.ErrAbortHandler) // the download is cut short, not left looking complete
	}
}

// download is a file's response: its headers are set at its first byte,
// so that an error met before any byte is an error page instead.
type download struct {
	w       http.ResponseWriter
	header  func()
	started bool
}

func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		d.header()
	}
	return d.w.Write(p)
}

// batches lists the organization's batches, newest first.
func (s *server) batches(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	rows, err := s.latestBatches(r, or, batchListLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := or.view
	v.Title = v.L.T("batches.title")
	v.Data = struct {
		Batches []batchRow
		Limit   int
	}{rows, batchListLimit}
	s.render(w, r, http.StatusOK, "batches", v)
}

// loadBatch returns the batch of the URL if it is the organization's;
// otherwise it answers 404 and returns false.
func (s *server) loadBatch(w http.ResponseWriter, r *http.Request, or *orgRequest) (schema.Batch, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.errorPageSess(w, r, or.sess, http.StatusNotFound, "error.nobatch")
		return schema.Batch{}, false
	}
	b, err := s.history().Batch(r.Context(), or.env.Org.ID, id)
	if errors.Is(err, app.ErrNotFound) {
		s.errorPageSess(w, r, or.sess, http.StatusNotFound, "error.nobatch")
		return b, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return b, false
	}
	return b, true
}

// changeRow is one changed column of one user.
type changeRow struct {
	importer.ColumnChange
	Header   string
	NoOld    bool // the user did not exist before
	NoNew    bool // the user does not exist after
	NewUser  bool // the first row of a user
	Activate bool
}

// changePage is one page of a batch's (or an undo's) changes.
type changePage struct {
	Rows             []changeRow
	Total, Users     int
	Page, Pages      int
	Prev, Next       string
	Hidden           int // changes a masked actor does not see
	Activations      []schema.Activation
	ActivationsTotal int
}

// pageNumber reads ?page=N (1 when absent or wrong).
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// collectChanges reads the changes of batch (reversed for an undo's
// preview) and keeps those of the requested page. A masked actor (a CC
// Service Administrator, docs/REFERENCE.md §3) sees what its export would show: not the
// Full and Read-only Administrator columns, and not the external users
// other than CC Service Administrators (by the batch's values and the
// user's home organization now); what it does not see is counted.
func (s *server) collectChanges(r *http.Request, or *orgRequest, batch int64, reversed bool, path string) (changePage, error) {
	masked := rules.Export(or.env.ActorKind) == rules.ExportMasked
	p := changePage{Page: pageNumber(r)}
	first, last := (p.Page-1)*changesPerPage, p.Page*changesPerPage
	each := s.db.ChangeEach
	if masked {
		each = s.db.ChangeEachWithHome
	}
	err := each(r.Context(), or.env.Org.ID, batch, func(uc schema.UserChange) error {
		if reversed {
			uc = importer.Reversed(uc)
		}
		cols := importer.Columns(uc)
		hide, err := s.hiddenUser(r, or, uc, masked)
		if err != nil {
			return err
		}
		if hide {
			p.Hidden += len(cols)
			return nil
		}
		p.Users++
		newUser := true
		for _, cc := range cols {
			if masked && (cc.Column == schema.ColFullAdmin || cc.Column == schema.ColReadOnlyAdmin) {
				p.Hidden++
				continue
			}
			if p.Total >= first && p.Total < last {
				p.Rows = append(p.Rows, changeRow{ColumnChange: cc, Header: cc.Column.Header(), NoOld: uc.Created, NoNew: uc.Deleted, NewUser: newUser})
			}
			newUser = false
			p.Total++
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	p.Pages = max(1, (p.Total+changesPerPage-1)/changesPerPage)
	if p.Page > 1 {
		p.Prev = fmt.Sprintf("%s?page=%d", path, p.Page-1)
	}
	if p.Page < p.Pages {
		p.Next = fmt.Sprintf("%s?page=%d", path, p.Page+1)
	}
	return p, nil
}

// hiddenUser reports whether a masked actor does not see a user's change:
// an external user (then or now) who is no CC Service Administrator, by
// the change's values or, when it did not touch the role, the user's role
// now.
func (s *server) hiddenUser(r *http.Request, or *orgRequest, uc schema.UserChange, masked bool) (bool, error) {
	if !masked || uc.HomeNow == "" && uc.Old["home_org"] == "" && uc.New["home_org"] == "" {
		return false, nil
	}
	ccService := string(schema.RoleCCService)
	if uc.Old["admin_role"] == ccService || uc.New["admin_role"] == ccService {
		return false, nil
	}
	if _, touched := uc.New["admin_role"]; touched || uc.Created || uc.Deleted {
		return true, nil
	}
	u, err := s.db.UserGet(r.Context(), or.env.Org.ID, uc.Email)
	if errStoreNotFound(err) {
		return true, nil
	}
	return u.AdminRole != schema.RoleCCService, err
}

// batch shows a batch and every field it changed, as 'ccbulk batches show'
// reads them.
func (s *server) batch(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	b, ok := s.loadBatch(w, r, or)
	if !ok {
		return
	}
	p, err := s.collectChanges(r, or, b.ID, false, r.URL.Path)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	masked := rules.Export(or.env.ActorKind) == rules.ExportMasked
	err = s.history().BatchActivations(r.Context(), or.env.Org.ID, b.ID, func(a schema.Activation) error {
		if masked {
			u, err := s.db.UserGet(r.Context(), or.env.Org.ID, a.Email)
			if err != nil && !errStoreNotFound(err) {
				return err
			}
			if err == nil && u.IsExternal() && u.AdminRole != schema.RoleCCService {
				return nil // not shown to a masked actor, as in its export
			}
		}
		p.ActivationsTotal++
		if len(p.Activations) < changesPerPage {
			p.Activations = append(p.Activations, a)
		}
		return nil
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := or.view
	v.Title = v.L.T("batch.title", b.ID)
	v.Data = struct {
		Batch   batchRow
		Changes changePage
		Undone  bool
	}{batchRows([]schema.Batch{b})[0], p, r.URL.Query().Get("undone") != ""}
	s.render(w, r, http.StatusOK, "batch", v)
}

// undoData is the undo page: the preview, or why the undo is refused.
type undoData struct {
	Batch     batchRow
	Counts    schema.UndoCounts
	Changes   changePage
	Refused   string // a refusal's message key
	Detail    string // its text
	Conflicts []schema.UndoConflict
	More      int
	Done      bool
}

// undoPreview shows what undoing the batch would change (the importer's
// undo dry run) and a form to confirm it, or why it would be refused.
func (s *server) undoPreview(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	b, ok := s.loadBatch(w, r, or)
	if !ok {
		return
	}
	d := undoData{Batch: batchRows([]schema.Batch{b})[0]}
	res, err := importer.Undo(r.Context(), pgimporter.New(s.db), importer.UndoOptions{Batch: b.ID, Org: or.env.Org.ID, Actor: or.env.Actor.Email, DryRun: true})
	if code := s.undoRefusal(&d, err, rules.Export(or.env.ActorKind) == rules.ExportMasked); code != 0 {
		s.renderUndo(w, r, or, code, d)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Counts = res.Counts
	if d.Changes, err = s.collectChanges(r, or, b.ID, true, r.URL.Path); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderUndo(w, r, or, http.StatusOK, d)
}

// undo undoes the batch, after the preview's form was posted with its
// anti-forgery token.
func (s *server) undo(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	b, ok := s.loadBatch(w, r, or)
	if !ok {
		return
	}
	d := undoData{Batch: batchRows([]schema.Batch{b})[0]}
	res, err := importer.Undo(r.Context(), pgimporter.New(s.db), importer.UndoOptions{Batch: b.ID, Org: or.env.Org.ID, Actor: or.env.Actor.Email, LockWait: 2 * time.Second, Origin: origin(or), Words: outcome.ServerWords})
	if code := s.undoRefusal(&d, err, rules.Export(or.env.ActorKind) == rules.ExportMasked); code != 0 {
		s.renderUndo(w, r, or, code, d)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("batch undone from the web", "org", or.env.Org.ID, "batch", b.ID, "undo", res.BatchID, "actor", or.env.Actor.Email)
	http.Redirect(w, r, fmt.Sprintf("/orgs/%s/batches/%d?undone=1", or.env.Org.ID, res.BatchID), http.StatusSeeOther)
}

// undoRefusal fills in d for an undo refused by err and returns the status
// code to answer; 0 when err is no refusal.
func (s *server) undoRefusal(d *undoData, err error, masked bool) int {
	var conflict *importer.UndoConflictError
	var refused *importer.UndoRefusedError
	var fe *schema.FileError
	var locked *store.LockedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &conflict):
		d.Refused, d.Conflicts, d.More = "undo.conflict", conflict.Conflicts, conflict.More
		return http.StatusConflict
	case errors.As(err, &refused):
		d.Refused, d.Detail = "undo.refused", refused.Message
		return http.StatusConflict
	case errors.As(err, &fe):
		d.Refused = "undo.forbidden"
		if !masked {
			// The refusal names users and columns; a masked actor is not
			// told of those it does not see.
			d.Detail = fe.Message
		}
		return http.StatusForbidden
	case errors.As(err, &locked):
		d.Refused, d.Detail = "undo.locked", locked.Error()
		return http.StatusConflict
	case errors.Is(err, store.ErrUndoBreaksRule):
		d.Refused, d.Detail = "undo.breaks", err.Error()
		return http.StatusConflict
	}
	return 0
}

func (s *server) renderUndo(w http.ResponseWriter, r *http.Request, or *orgRequest, code int, d undoData) {
	if rules.Export(or.env.ActorKind) == rules.ExportMasked && len(d.Conflicts) > 0 {
		// A masked actor is not told of the users it does not see: they
		// count among "… and N more".
		shown := d.Conflicts[:0:0]
		for _, c := range d.Conflicts {
			u, err := s.db.UserGet(r.Context(), or.env.Org.ID, c.Email)
			if err != nil && !errStoreNotFound(err) {
				s.serverError(w, r, err)
				return
			}
			if err == nil && u.IsExternal() && u.AdminRole != schema.RoleCCService {
				d.More++
				continue
			}
			shown = append(shown, c)
		}
		d.Conflicts = shown
	}
	v := or.view
	v.Title = v.L.T("undo.title", d.Batch.ID)
	v.Data = d
	s.render(w, r, code, "undo", v)
}
