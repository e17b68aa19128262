// Package runs is what the server's front ends (the HTTP API, the web
// pages) do: imports, undos, the history, reports, exports and the
// template, for an actor of an organization, on the same database as the
// command line. Everything it keeps (reports, dry-run plans) is in
// PostgreSQL, so that any number of serve processes answer the same.
package runs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/mapping"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
	"github.com/ccbulk/ccbulk/tenant"
)

// Service runs imports and the rest for the server's front ends.
type Service struct {
	DB  *store.DB
	Log *slog.Logger // nil: slog.Default()
	// MaxRuns bounds the imports and undos that run at once (0: 1); the
	// others wait for a turn. A run holds up to ConnsPerRun connections
	// at once, so the database pool needs MaxRuns × ConnsPerRun of them
	// and more for the other requests; otherwise runs waiting for their
	// next connection would wait for each other for ever.
	MaxRuns int
	// Lease is how long an apply's heartbeat may be missing before any
	// serve process takes the apply for dead and marks it failed (Sweep);
	// 0: DefaultLease. Every serve process on a database should use the
	// same.
	Lease time.Duration
	// Running, when set, is told how many imports and undos are in
	// flight each time that number changes ('ccbulk serve' sizes the
	// process's memory limit by it: the runs share one heap). Calls are
	// made one at a time, in the order of the changes.
	Running func(inFlight int)

	once  sync.Once
	turns chan struct{}

	mu       sync.Mutex // orders the calls of Running
	inFlight int
}

// ConnsPerRun is the most database connections one import or undo holds
// at once (the lock's, the transaction's, the snapshot's, one more for
// short look-ups).
const ConnsPerRun = 4

// turn waits for a turn to run, or for ctx to end; release ends the turn.
func (s *Service) turn(ctx context.Context) (release func(), err error) {
	s.once.Do(func() { s.turns = make(chan struct{}, max(s.MaxRuns, 1)) })
	select {
	case s.turns <- struct{}{}:
		s.running(+1)
		return func() {
			s.running(-1)
			<-s.turns
		}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// running counts a run starting (+1) or ending (-1) and tells Running.
func (s *Service) running(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight += delta
	if s.Running != nil {
		s.Running(s.inFlight)
	}
}

// Origin kinds recorded on a batch.
const (
	OriginAPI = "api"
	OriginWeb = "web"
	OriginCLI = "cli"
)

// ErrNotFound is wrapped when a batch, plan or report does not exist in
// the organization (HTTP 404).
var ErrNotFound = errors.New("not found")

// NotFoundError says what does not exist.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ErrBadRequest is wrapped when a request's options are wrong (HTTP 400,
// exit 2 on the command line).
var ErrBadRequest = fmt.Errorf("bad request: %w", outcome.ErrUsage)

// BadRequestError is a wrong option of a request.
type BadRequestError struct{ Message string }

func (e *BadRequestError) Error() string { return e.Message }

func (e *BadRequestError) Unwrap() error { return ErrBadRequest }

// ImportRequest is one import: who, from where, the upload and every
// option of 'ccbulk import'.
type ImportRequest struct {
	Org, Actor string
	Origin     schema.Origin
	// Name is the upload's file name (recorded on the batch); Body is
	// read once, as it comes: CSV or XLSX, told apart by content.
	Name string
	Body io.Reader

	DryRun, Atomic, Sync bool
	MaxDeactivate        *importer.Threshold
	MaxRejected          *importer.Threshold
	// Mapping names a built-in mapping profile ("" for none); a path is
	// refused: the server reads no file a request names.
	Mapping            string
	Sheet, Encoding    string
	NoActivationEmails bool
	LockWait           time.Duration
	// ReportFormat is csv, xlsx or jsonl; "" after the upload's format.
	ReportFormat string
	Limits       sheet.Limits // zero: sheet.DefaultLimits
}

// options returns the importer's options of the request.
func (req ImportRequest) options() importer.Options {
	return importer.Options{File: "-", Stdin: req.Body, Org: req.Org, Actor: req.Actor, Origin: req.Origin, Words: outcome.ServerWords,
		DryRun: req.DryRun, Atomic: req.Atomic, Sync: req.Sync, MaxDeactivate: req.MaxDeactivate,
		MaxRejected: req.MaxRejected, NoActivationEmails: req.NoActivationEmails, Encoding: req.Encoding,
		Sheet: req.Sheet, LockWait: req.LockWait, Limits: req.Limits, ReportFormat: req.ReportFormat}
}

// Validate checks the request's options as the importer does
// (importer.Options.Validate), before anything is read: a
// *BadRequestError naming the query parameters of docs/REFERENCE.md §6.
func (req ImportRequest) Validate() error {
	opts := req.options()
	return OptionError(opts.Validate())
}

// QueryParam is the query parameter of the HTTP API that sets opt.
func QueryParam(opt importer.Option) string { return strings.ReplaceAll(string(opt), "-", "_") }

// OptionError words an *importer.OptionError (from Options.Validate or
// importer.ParseThreshold) with the query parameters of the HTTP API, as a
// *BadRequestError; any other error (nil too) is returned as it is.
func OptionError(err error) error {
	var oe *importer.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	name := QueryParam(oe.Option)
	var msg string
	switch oe.Problem {
	case importer.NeedsOption:
		msg = fmt.Sprintf("%s works with %s=true only", name, QueryParam(oe.Needs))
	case importer.BadPercent:
		msg = fmt.Sprintf("%s=%q: a percentage is over 0 and at most 100, like 5%%", name, oe.Value)
	case importer.BadChoice:
		msg = fmt.Sprintf("%s=%q: use %s", name, oe.Value, strings.Join(oe.Choices, " or "))
	default:
		msg = fmt.Sprintf("%s=%q: write a count like 500 or a percentage like 5%%", name, oe.Value)
	}
	return &BadRequestError{Message: msg}
}

// Outcome is what an import did, as the --json object of docs/REFERENCE.md §5 says it,
// with where its report is kept.
type Outcome struct {
	Result importer.Result
	JSON   outcome.Import
	// ReportRef names the stored report: the batch id, or the dry run's
	// plan id; "" when the run wrote no report.
	ReportRef    string
	ReportFormat string
	PlanID       string // a dry run's plan id

	plan  *os.File      // the dry run's saved plan, until it is kept
	items *atomic.Int64 // the plan's changes from rows, as the dry run counts them
}

// Import runs one import and keeps its report (and, for a dry run, its
// plan) in the database. The returned error is the one that ended the
// run, classified by outcome.HTTPStatus; the Outcome is filled in either
// way. A cancelled ctx (the client went away) stops the run with nothing
// applied.
func (s *Service) Import(ctx context.Context, req ImportRequest) (Outcome, error) {
	started := time.Now()
	var out Outcome
	opts := req.options()
	opts.Log = s.log()
	if opts.Limits == (sheet.Limits{}) {
		opts.Limits = sheet.DefaultLimits
	}
	finish := func(res importer.Result, err error) (Outcome, error) {
		out.Result = res
		out.JSON = outcome.ImportOf(res, outcome.Run{Started: started, Finished: time.Now(), Err: err})
		out.JSON.Report = nil
		return out, err
	}
	res := importer.Result{File: "-", Org: req.Org, DryRun: req.DryRun}
	if err := req.Validate(); err != nil {
		return finish(res, err)
	}
	if req.Mapping != "" {
		if _, ok := mapping.Builtin(req.Mapping); !ok {
			return finish(res, &BadRequestError{Message: fmt.Sprintf("mapping %q is not a built-in profile: use one of %s", req.Mapping, strings.Join(mapping.Builtins(), ", "))})
		}
		prof, err := mapping.Load(req.Mapping)
		if err != nil {
			return finish(res, &BadRequestError{Message: "mapping: " + err.Error()})
		}
		opts.Mapping = prof
		if opts.Encoding == "" {
			opts.Encoding = prof.Encoding
		}
	}
	release, err := s.turn(ctx)
	if err != nil {
		return finish(res, err)
	}
	defer release()
	dir, err := os.MkdirTemp("", "run-")
	if err != nil {
		return finish(res, fmt.Errorf("a place for the report: %w", err))
	}
	defer os.RemoveAll(dir)
	report := &reportSpool{dir: dir}
	defer report.close()
	opts.ReportSink = report
	name := req.Name
	if name == "" {
		name = "upload"
	}
	opts.Name = name
	var plan *os.File
	if req.DryRun {
		// The saved plan goes to a private file (the directory is the
		// process's own), then into the plan's row.
		if plan, err = os.OpenFile(filepath.Join(dir, "plan"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return finish(res, fmt.Errorf("a place for the plan: %w", err))
		}
		defer plan.Close()
		opts.PlanOut = plan
		// The plan's changes are counted as the dry run hands them over,
		// so that its apply can show how far it has got (the --sync
		// deactivations, written last, are in res.Deactivated).
		items := new(atomic.Int64)
		out.items = items
		opts.Plan = func(importer.PlanItem) { items.Add(1) }
	}
	res, err = importer.Import(ctx, pgimporter.New(s.DB), opts)
	out.plan = plan
	if res.Org == "" {
		res.Org = req.Org
	}
	res.File = name
	if req.DryRun {
		out.PlanID = newID()
	}
	if res.Report != "" {
		out.ReportFormat = report.format
		if serr := s.keepReport(context.WithoutCancel(ctx), req, res, report, &out); serr != nil && err == nil {
			s.log().Error("keeping the report", "org", res.Org, "batch", res.BatchID, "err", serr)
			if !res.Applied {
				err = serr
			}
		}
	} else if req.DryRun {
		err = errors.Join(err, s.keepPlan(context.WithoutCancel(ctx), req, res, &out))
	}
	o, err := finish(res, err)
	if o.PlanID != "" {
		o.JSON.PlanID = &o.PlanID
	}
	return o, err
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// newID returns a random identifier for a plan.
func newID() string {
	var b [18]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// keepPlan records a dry run, with its saved plan (plan, written by the
// importer) when the importer finished it.
func (s *Service) keepPlan(ctx context.Context, req ImportRequest, res importer.Result, out *Outcome) error {
	id, plan := out.PlanID, out.plan
	limit := func(t *importer.Threshold) string {
		if t == nil {
			return ""
		}
		return t.String()
	}
	options, err := json.Marshal(map[string]any{"atomic": req.Atomic, "sync": req.Sync, "mapping": req.Mapping,
		"sheet": req.Sheet, "encoding": req.Encoding, "activation_emails": !req.NoActivationEmails, "file": req.Name,
		"max_deactivate": limit(req.MaxDeactivate), "max_rejected": limit(req.MaxRejected)})
	if err != nil {
		return err
	}
	result, err := json.Marshal(outcome.ImportOf(res, outcome.Run{Started: time.Now(), Finished: time.Now()}))
	if err != nil {
		return err
	}
	var body []byte
	var sha *string
	var items *int64
	if plan != nil && res.PlanSHA256 != "" {
		if body, err = readPlan(plan); err != nil {
			return err
		}
		sha = &res.PlanSHA256
		if out.items != nil {
			n := out.items.Load() + int64(res.Deactivated)
			items = &n
		}
	}
	return s.DB.PlanSave(ctx, store.PlanSaveParams{ID: id, Tenant: res.Org, Actor: strings.ToLower(req.Actor),
		Options: options, Result: result, Body: body, SHA256: sha, Items: items})
}

// readPlan reads the saved plan the importer wrote to f.
func readPlan(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	return body, nil
}

// keepReport stores the report the importer wrote to its sink: of the
// batch, or of the dry run's plan.
func (s *Service) keepReport(ctx context.Context, req ImportRequest, res importer.Result, report *reportSpool, out *Outcome) error {
	body, err := report.body()
	if err != nil {
		return err
	}
	switch {
	case body == nil && res.DryRun:
		return s.keepPlan(ctx, req, res, out) // the report was withdrawn: the plan stays
	case body == nil:
		return nil // withdrawn or aborted: nothing to keep
	case res.DryRun:
		if err := s.keepPlan(ctx, req, res, out); err != nil {
			return err
		}
		err = s.DB.ReportSave(ctx, store.ReportSaveParams{Plan: out.PlanID, Format: out.ReportFormat, Body: body})
		out.ReportRef = out.PlanID
	case res.BatchID != 0:
		err = s.DB.ReportSave(ctx, store.ReportSaveParams{Batch: res.BatchID, Format: out.ReportFormat, Body: body})
		out.ReportRef = fmt.Sprint(res.BatchID)
	default:
		return nil // a run that recorded nothing keeps no report
	}
	return err
}

// Report is a stored report.
type Report struct {
	Format string // csv, xlsx or jsonl
	Body   []byte
}

// ContentType is the report's media type.
func (r Report) ContentType() string { return ContentType(r.Format) }

// ContentType is the media type of a file of this format.
func ContentType(format string) string {
	switch format {
	case importer.ReportXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case importer.ReportJSONL:
		return "application/jsonl"
	}
	return "text/csv; charset=utf-8"
}

// Report returns the report of a batch (ref is its id) or of a dry run's
// plan (ref is the plan id) of the organization. format "" is the format
// it was written in; a CSV report is served as XLSX and the other way
// round; jsonl only when it was written so.
func (s *Service) Report(ctx context.Context, org, actor, ref, format string) (Report, error) {
	if _, err := tenant.Load(ctx, s.DB, org, actor); err != nil {
		return Report{}, err
	}
	kr, err := s.DB.ReportGet(ctx, org, ref)
	if errors.Is(err, store.ErrNotFound) {
		return Report{}, &NotFoundError{What: fmt.Sprintf("no report of %s in %s: the run had no finding, or it ran from the command line (its report is beside its file)", ref, org)}
	}
	if err != nil {
		return Report{}, err
	}
	r := Report(kr)
	if format == "" || format == r.Format {
		return r, nil
	}
	if r.Format == importer.ReportJSONL || format == importer.ReportJSONL {
		return Report{}, &NotFoundError{What: fmt.Sprintf("the report of %s was written as %s; it is served as csv or xlsx, or as jsonl when the import asked report_format=jsonl", ref, r.Format)}
	}
	body, err := convertReport(r.Body, sheet.Format(format))
	if err != nil {
		return Report{}, &NotFoundError{What: fmt.Sprintf("the report of %s was written as %s and cannot be served as %s (%v): ask for format=%s", ref, r.Format, format, err, r.Format)}
	}
	return Report{Format: format, Body: body}, nil
}

// convertReport rewrites a CSV report as XLSX or the other way round, cell
// for cell.
func convertReport(body []byte, to sheet.Format) ([]byte, error) {
	src, err := sheet.Open("-", bytes.NewReader(body), sheet.Options{Limits: sheet.DefaultLimits})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out bytes.Buffer
	w, err := sheet.NewWriter(to, &out, sheet.WriterOptions{SheetName: "Report"})
	if err != nil {
		return nil, err
	}
	header := src.Header()
	if err := w.WriteHeader(header); err != nil {
		return nil, err
	}
	cells := make([]string, len(header))
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		clear(cells)
		copy(cells, rec.Fields)
		if err := w.WriteRow(cells, nil); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Undo undoes a batch of the organization (or, with dryRun, says what the
// undo would change).
func (s *Service) Undo(ctx context.Context, org, actor string, batch int64, dryRun bool, origin schema.Origin) (outcome.Undo, error) {
	started := time.Now()
	res := importer.UndoResult{UndoOf: batch, Org: org, DryRun: dryRun}
	release, err := s.turn(ctx)
	if err != nil {
		return outcome.UndoOf(res, outcome.Run{Started: started, Finished: time.Now(), Err: err}), err
	}
	defer release()
	if _, err = s.batchOf(ctx, org, batch); err == nil {
		res, err = importer.Undo(ctx, pgimporter.New(s.DB), importer.UndoOptions{Batch: batch, Org: org, Actor: actor, DryRun: dryRun, Origin: origin, Words: outcome.ServerWords})
	}
	return outcome.UndoOf(res, outcome.Run{Started: started, Finished: time.Now(), Err: err}), err
}

// history is the application layer, through which the server reads an
// organization's batches as the command line does.
func (s *Service) history() *app.Admin { return &app.Admin{Store: s.DB.Admin()} }

// batchOf returns a batch of the organization (its stored id), or a
// *NotFoundError.
func (s *Service) batchOf(ctx context.Context, org string, id int64) (schema.Batch, error) {
	b, err := s.history().Batch(ctx, org, id)
	if errors.Is(err, app.ErrNotFound) {
		return b, &NotFoundError{What: fmt.Sprintf("no batch %d in %s", id, org)}
	}
	return b, err
}

// Batches returns the organization's batches, newest first.
func (s *Service) Batches(ctx context.Context, org, actor string) ([]outcome.Batch, error) {
	env, err := tenant.Load(ctx, s.DB, org, actor)
	if err != nil {
		return nil, err
	}
	bs, err := s.history().Batches(ctx, env.Org.ID, 0)
	if err != nil {
		return nil, err
	}
	out := make([]outcome.Batch, len(bs))
	for i, b := range bs {
		out[i] = outcome.BatchOf(b)
	}
	return out, nil
}

// BatchChanges receives a batch's changes as they are read (never held
// all at once): the batch, each field it changed, and each activation
// email it queued.
type BatchChanges interface {
	Begin(outcome.Batch) error
	Change(outcome.Change) error
	Activation(outcome.Activation) error
}

// Batch reads one batch of the organization with its changes, as
// 'ccbulk batches show' does, into w.
func (s *Service) Batch(ctx context.Context, org, actor string, id int64, w BatchChanges) error {
	env, err := tenant.Load(ctx, s.DB, org, actor)
	if err != nil {
		return err
	}
	b, err := s.batchOf(ctx, env.Org.ID, id)
	if err != nil {
		return err
	}
	if err := w.Begin(outcome.BatchOf(b)); err != nil {
		return err
	}
	err = s.history().BatchChanges(ctx, env.Org.ID, id, func(uc schema.UserChange) error {
		for _, cc := range importer.Columns(uc) {
			if err := w.Change(outcome.ChangeOf(cc)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.history().BatchActivations(ctx, env.Org.ID, id, func(a schema.Activation) error {
		return w.Activation(outcome.ActivationOf(a))
	})
}

// Export writes every user the actor may see to w (docs/REFERENCE.md §5's export).
// Nothing is written to w before the actor and the format are checked.
func (s *Service) Export(ctx context.Context, org, actor string, format sheet.Format, w io.Writer) (exporter.Result, error) {
	if _, err := tenant.Load(ctx, s.DB, org, actor); err != nil {
		return exporter.Result{}, err
	}
	return exporter.Export(ctx, s.DB, w, exporter.Options{Org: org, Actor: actor, Format: format})
}

// Template writes the empty template sheet.
func (s *Service) Template(format sheet.Format, w io.Writer) error {
	return exporter.Template(w, format, false)
}

// CheckActor returns F-ORG or F-ACTOR when the actor may not act in the
// organization now (its role is read again each time).
func (s *Service) CheckActor(ctx context.Context, org, actor string) error {
	_, err := tenant.Load(ctx, s.DB, org, actor)
	return err
}
