package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/tenant"
	"github.com/ccbulk/ccbulk/mapping"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// DefaultChunkSize is how many rows share one database look-up.
const DefaultChunkSize = 5000

// DefaultReadWhole is the size up to which an organization is read whole
// before the first row is checked (one query, a few megabytes) instead of
// looked up chunk by chunk: a first import into a new organization, or any
// import into a small one, then asks the database nothing per chunk.
const DefaultReadWhole = 20_000

// Threshold is a limit written as a count (500) or a share (2%) of a whole.
type Threshold struct {
	N       int     // absolute count; used when Percent is 0
	Percent float64 // share of the whole, 0 < Percent <= 100
}

// Limit returns the threshold as a count out of whole.
func (m Threshold) Limit(whole int) int {
	if m.Percent > 0 {
		return int(float64(whole) * m.Percent / 100)
	}
	return m.N
}

func (m Threshold) String() string {
	if m.Percent > 0 {
		return fmt.Sprintf("%g%%", m.Percent)
	}
	return fmt.Sprint(m.N)
}

// MaxDeactivate bounds how many users --sync may deactivate: a count, or a
// share of the active members.
type MaxDeactivate = Threshold

// DefaultMaxDeactivate is the default of docs/REFERENCE.md §5, Running it.
var DefaultMaxDeactivate = MaxDeactivate{N: 500}

// Options describe one import.
type Options struct {
	File          string    // path, or "-" for CSV on Stdin
	Stdin         io.Reader // read when File is "-"
	Org, Actor    string
	DryRun        bool
	Atomic        bool
	Sync          bool
	MaxDeactivate *MaxDeactivate // nil: DefaultMaxDeactivate
	// MaxRejected, when set, refuses the run (nothing applied) when more
	// rows than that are rejected: a count, or a share of the rows read.
	MaxRejected *Threshold
	// NoActivationEmails queues no activation email, whatever the sheet says.
	NoActivationEmails bool
	Report             string // report path; "" next to the input
	ReportFormat       string // csv, xlsx or jsonl; "" after the input's format
	Encoding           string
	Sheet              string
	Limits             sheet.Limits
	LockWait           time.Duration
	ChunkSize          int
	// ReadWhole: an organization with at most this many users is read
	// whole before the first row is checked (0: DefaultReadWhole; negative:
	// never, always chunk by chunk).
	ReadWhole int
	// Mapping, when set, maps another system's export onto the template's
	// columns (--mapping).
	Mapping *mapping.Profile
	// Name, when File is "-", is how findings and the batch name the
	// input (an upload's file name) instead of <stdin>.
	Name string
	// Origin is recorded on the batch: where the run came from (the HTTP
	// API and its token, the web pages and their session).
	Origin store.Origin

	// Header, when set, is called with the sheet's layout once its header
	// row is matched, before any row is read.
	Header func(*sheet.Layout)

	// Log, when set, receives a line at the end of each phase of the run
	// (locking, reading, writing, committing; a dry run: reading,
	// checking) with its duration, at level Info; the batch id is on
	// every line once the run has one.
	Log *slog.Logger

	// Progress, when set, is called as the run goes: after each chunk of
	// rows read, and as each later phase begins. It runs on the run's own
	// goroutine and should return quickly.
	Progress func(Progress)
	// Plan, when set on a dry run, receives each change the run would make.
	Plan func(PlanItem)
	// PlanOut, when set on a dry run, receives the saved plan (see plan.go)
	// as the run goes; Result.PlanSHA256 is set once it is complete.
	PlanOut io.Writer
}

// Progress is how far an import has got.
type Progress struct {
	// Phase is the phase under way, named as in the log: reading, then
	// writing and committing (a dry run: reading, then checking).
	Phase string
	Rows  int // data rows read so far
	// BytesRead and TotalBytes: the bytes of a CSV file read so far and
	// its size; TotalBytes is 0 when the size is unknown (standard input,
	// a FIFO, an XLSX workbook).
	BytesRead, TotalBytes int64
	// ExpectedRows is the number of data rows an XLSX worksheet declares
	// (0: none): an estimate, which the rows read may pass.
	ExpectedRows int
}

// PlanItem is one change a dry run would make.
type PlanItem struct {
	Row            int // 0 for a --sync deactivation
	Email          string
	Action         string // create, update or deactivate
	Changes        []rules.Change
	SendActivation bool
	// Before is the user as the database holds it (nil for a user the run
	// creates, and for a deactivation); After the user as the run leaves it.
	Before, After *schema.User
	// CopiedFrom is the user whose privileges the row copies (Copy
	// Privileges From), "" when none.
	CopiedFrom string
}

// MaxKeptFindings bounds the findings a Result keeps for display; the report
// holds them all.
const MaxKeptFindings = 20

// Result is what an import did.
type Result struct {
	File           string
	BatchID        int64 // 0: no batch (dry run, or nothing started)
	Org            string
	DryRun         bool
	Applied        bool
	Rows           int
	Created        int
	Updated        int
	Unchanged      int
	Deactivated    int
	Rejected       int
	Warnings       int
	Activations    int
	IgnoredColumns []string
	// AliasedColumns are the headers read as template columns under their
	// French or Polish names (W-HEADER-ALIAS), in file order.
	AliasedColumns []sheet.Alias
	// UnnamedColumns are the letters of the XLSX columns whose header cell
	// is blank and that held values, which were ignored (W-UNKNOWN-COLUMN).
	UnnamedColumns []string
	Report         string // path of the report; "" when none was written
	// StaleReportRemoved is the report an earlier run left beside the
	// input, removed because this run, applied, had no findings; "" when
	// none.
	StaleReportRemoved string
	Findings           []schema.Finding
	MoreFindings       int // findings beyond those kept
	// FindingsByRule counts every row finding by its rule.
	FindingsByRule map[schema.RuleID]int
	// PlanSHA256 is the SHA-256 of the plan a dry run wrote to
	// Options.PlanOut; "" when it wrote none (or none that is complete).
	PlanSHA256 string
}

// ErrSyncLimit is wrapped when --sync would deactivate more users than allowed.
var ErrSyncLimit = errors.New("sync safety limit")

// SyncLimitListed bounds how many of the users a refused --sync would have
// deactivated a SyncLimitError carries: the first ones in email order. The
// count is always the full one.
const SyncLimitListed = 100

// syncLimitShown is how many of them the error's message names.
const syncLimitShown = 20

// SyncLimitError says how many users a refused --sync would have
// deactivated, and who: Emails holds the first SyncLimitListed of them, in
// email order.
type SyncLimitError struct {
	Would, Limit int
	Max          MaxDeactivate
	Emails       []string
}

// More is how many of the users it would have deactivated Emails leaves out.
func (e *SyncLimitError) More() int { return e.Would - len(e.Emails) }

func (e *SyncLimitError) Error() string {
	msg := fmt.Sprintf("--sync would deactivate %d users, over the limit of %d (--max-deactivate %s); nothing was applied: check that the sheet is complete, or raise --max-deactivate", e.Would, e.Limit, e.Max)
	if len(e.Emails) == 0 {
		return msg
	}
	shown := e.Emails[:min(len(e.Emails), syncLimitShown)]
	msg += "; it would deactivate " + strings.Join(shown, ", ")
	if more := e.Would - len(shown); more > 0 {
		msg += fmt.Sprintf(" … and %d more", more)
	}
	return msg
}

func (e *SyncLimitError) Unwrap() error { return ErrSyncLimit }

// ErrMaxRejected is wrapped when more rows were rejected than --max-rejected allows.
var ErrMaxRejected = errors.New("too many rows rejected")

// MaxRejectedError says how many rows a run refused by --max-rejected
// rejected, against its limit.
type MaxRejectedError struct {
	Rejected, Rows, Limit int
	Max                   Threshold
}

func (e *MaxRejectedError) Error() string {
	return fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (--max-rejected %s); nothing was applied: fix the rows the report lists, or raise --max-rejected", e.Rejected, e.Rows, e.Limit, e.Max)
}

func (e *MaxRejectedError) Unwrap() error { return ErrMaxRejected }

// isRefusal reports the errors of a run refused by a limit (--sync's,
// --max-rejected's): nothing was applied, but the run read and checked
// every row, so its report stands.
func isRefusal(err error) bool {
	return errors.Is(err, ErrSyncLimit) || errors.Is(err, ErrMaxRejected) || errors.Is(err, ErrPlanDrift) || errors.Is(err, ErrPlanApplied)
}

// checkMaxRejected refuses the run when more rows were rejected than
// --max-rejected allows.
func (r *run) checkMaxRejected() error {
	m := r.opts.MaxRejected
	if m == nil {
		return nil
	}
	if limit := m.Limit(r.res.Rows); r.res.Rejected > limit {
		return &MaxRejectedError{Rejected: r.res.Rejected, Rows: r.res.Rows, Limit: limit, Max: *m}
	}
	return nil
}

// ActorError is F-ACTOR or F-ORG: the run may not start.
func actorErr(rule schema.RuleID, format string, args ...any) error {
	return &schema.FileError{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Import runs one import. A *schema.FileError means nothing was applied;
// *store.LockedError and *SyncLimitError mean the run was refused.
func Import(ctx context.Context, db *sqlx.DB, opts Options) (res Result, err error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.MaxDeactivate == nil {
		opts.MaxDeactivate = &DefaultMaxDeactivate
	}
	res = Result{File: opts.File, Org: opts.Org, DryRun: opts.DryRun}
	if opts.File == "" {
		return res, errors.New("no file named")
	}
	if err := store.CheckSchema(ctx, db); err != nil {
		return res, err
	}
	env, err := tenant.Load(ctx, db, opts.Org, opts.Actor)
	if err != nil {
		return res, err
	}
	opts.Org, res.Org = env.Org.ID, env.Org.ID // --org may name it in any letter case
	if rule := rules.Allowed(env.ActorKind, rules.CapImport); rule != "" {
		return res, actorErr(schema.FActor, "%s is %s, who may not import into %s", env.Actor.Email, env.ActorKind, opts.Org)
	}
	if opts.Sync && rules.Allowed(env.ActorKind, rules.CapManageUsers) != "" {
		return res, actorErr(schema.FActor, "%s is %s, who may not deactivate users; --sync needs a Full Administrator", env.Actor.Email, env.ActorKind)
	}

	digest := sha256.New()
	var stdin io.Reader
	var before os.FileInfo // the file as it was when the run started
	// The input stops when the run does, or once the rows have been
	// read: a reader blocked on an idle stream then returns.
	inputCtx, stopInput := context.WithCancel(ctx)
	defer stopInput()
	// What the input holds (CSV or XLSX) is told from its first bytes,
	// before the report place is checked: the report's format follows it.
	file := opts.File
	var format sheet.Format
	switch {
	case file == "-" || isStream(file):
		// Read through a cancelReader: a signal stops the run also
		// while standard input is open and idle.
		in := opts.Stdin
		if file != "-" {
			// A FIFO (import <(command)) can be read only once: it is
			// read as standard input is, and hashed as it is read.
			f, err := openStream(ctx, file)
			if err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				return res, &schema.FileError{Rule: schema.FFormat, File: file, Message: "cannot open the file: " + err.Error()}
			}
			defer f.Close()
			in, file = f, "-"
		}
		peek := sheet.PeekStdin(io.TeeReader(newCancelReader(inputCtx, in), digest))
		stdin = peek
		if format, err = peek.PeekFormat(); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, inputErr(opts.File, err)
		}
	default:
		before, _ = os.Stat(opts.File) // sheet.Open reports a missing file
		if format, err = sheet.DetectFile(file); err != nil {
			return res, err
		}
	}

	// Where the report would go is checked before the first row is read,
	// whether or not a report turns out to be needed.
	// (A missing input is left to sheet.Open to report.)
	reportPath, reportFormat := reportTarget(opts, format)
	replacesInput := reportReplacesInput(opts, reportPath)
	if _, err := os.Stat(opts.File); opts.File == "-" || err == nil {
		checkAgainst := opts.File
		if replacesInput {
			checkAgainst = "" // a report of a report: the new one replaces it at the end
		}
		if err := checkReportTarget(reportPath, checkAgainst); err != nil {
			return res, err
		}
	}

	src, err := sheet.Open(file, stdin, sheet.Options{Format: format, Encoding: opts.Encoding, Sheet: opts.Sheet, Limits: opts.Limits})
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err() // stopped while reading the header
		}
		return res, err
	}
	defer src.Close()
	if file != "-" {
		if err := hashFile(opts.File, digest); err != nil {
			return res, &schema.FileError{Rule: schema.FFormat, File: opts.File, Message: "cannot read the file: " + err.Error()}
		}
	}
	name := displayName(opts.File)
	if opts.File == "-" && opts.Name != "" {
		name = opts.Name
	}
	var layout *sheet.Layout
	if opts.Mapping != nil {
		layout, err = opts.Mapping.Match(name, src.Header())
	} else {
		layout, err = sheet.MatchHeader(name, src.Header())
	}
	if err != nil {
		return res, err
	}
	res.IgnoredColumns = layout.Unknown
	res.AliasedColumns = layout.Aliased
	if opts.Header != nil {
		opts.Header(layout)
	}

	run := &run{opts: opts, env: env, layout: layout, src: src, res: &res, name: name,
		validator: rules.NewValidator(env), before: before, stopInput: stopInput, log: opts.Log, db: db}
	if run.log == nil {
		run.log = slog.New(slog.DiscardHandler)
	}
	run.reportPath, run.reportFormat = reportPath, reportFormat
	run.replacesInput = replacesInput
	defer run.abortReport()
	defer run.dropInputBackup()

	if err := run.startPlan(ctx, db); err != nil {
		return res, err
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return res, store.Explain(err)
	}
	defer conn.Close()

	if opts.DryRun {
		err = run.dryRun(ctx, db, conn)
		if err == nil {
			err = run.finishPlan(hex.EncodeToString(digest.Sum(nil)))
		}
		if err == nil || isRefusal(err) {
			if cerr := run.commitReport(); cerr != nil {
				err = cerr
			}
		}
	} else {
		// For standard input the digest is complete only once the run has
		// read it all; the batch records it when it finishes.
		err = run.apply(ctx, db, conn, func() string { return hex.EncodeToString(digest.Sum(nil)) })
		if isFileError(err) && res.BatchID != 0 {
			// The file was refused part-way through (F-FORMAT, F-ENCODING,
			// F-LIMIT): nothing was applied, and the run leaves no batch
			// behind, so the database is exactly as it was.
			if derr := store.DiscardBatch(context.WithoutCancel(ctx), conn, opts.Org, res.BatchID); derr != nil {
				return res, fmt.Errorf("%w (and removing the unfinished batch %d failed: %v)", err, res.BatchID, derr)
			}
			res.BatchID = 0
		}
	}
	if err != nil {
		if !isRefusal(err) {
			run.withdrawReport()
		}
		return res, err
	}
	if u, ok := src.(sheet.UnnamedColumnsReader); ok {
		res.UnnamedColumns = u.UnnamedColumns() // every row has been read
	}
	if res.Applied && res.Report == "" && opts.Report == "" && !replacesInput && file != "-" && IsReport(reportPath) {
		// A clean run: the report an earlier run left beside this input
		// lists rows that are now fixed.
		if os.Remove(reportPath) == nil {
			res.StaleReportRemoved = reportPath
		}
	}
	return res, nil
}

type run struct {
	opts      Options
	env       *rules.Env
	layout    *sheet.Layout
	src       sheet.Reader
	res       *Result
	name      string
	validator *rules.Validator

	reportPath, reportFormat string
	report                   *reportWriter
	reportPlaced             string // the file the complete report replaced; "" when none (or a device written in place)
	replacesInput            bool   // the report goes to the input's own path (a report of a report)
	inputBackup              string // a hard link to the input the report replaced, until the run ends
	commitUnknown            bool   // the connection broke during COMMIT: applied or not is unknown

	before    os.FileInfo // the input file when the run started; nil for standard input
	stopInput func()      // ends the reading of a stream (standard input, a FIFO)

	createdMembers int // active members of the tenant the batch created (already in users)

	planOut *planWriter // the saved plan a dry run writes (Options.PlanOut); nil: none
	db      *sqlx.DB    // the pool: looks up what changed the users of stale rows (R-STALE)

	log *slog.Logger // Options.Log, with the batch once there is one; never nil
}

// phase logs the end of a phase of the run begun at start, with its
// duration and attrs, and returns the time it ended.
func (r *run) phase(name string, start time.Time, attrs ...any) time.Time {
	now := time.Now()
	r.log.Info(name+" done", append([]any{"phase", name, "duration", now.Sub(start).Round(time.Millisecond)}, attrs...)...)
	return now
}

// checkUnchanged refuses the run when the input file changed while it was
// read: what was checked might not be what the batch records (its SHA-256)
// or what the person meant to import.
func (r *run) checkUnchanged() error {
	if r.before == nil {
		return nil
	}
	now, err := os.Stat(r.opts.File)
	if err == nil && os.SameFile(r.before, now) && now.Size() == r.before.Size() && now.ModTime().Equal(r.before.ModTime()) {
		return nil
	}
	return &schema.FileError{Rule: schema.FFormat, File: r.name,
		Message: "the file changed while it was being read (it was replaced, or its size or modification time changed); nothing was applied: import it again once it is complete"}
}

// chunkRow is a row kept until its chunk has been looked up and checked.
type chunkRow struct {
	row      int
	cells    []string
	in       rules.Input
	findings []schema.Finding
}

// readAhead is how many parsed chunks the reader may hold ahead of the
// database work: while the server looks up and stages one chunk, the next
// ones are read and parsed.
const readAhead = 2

// parsedChunk is a chunk as the reader hands it on: its rows, and the error
// that ended the reading, if any.
type parsedChunk struct {
	rows   []chunkRow
	err    error
	extent sheet.Extent // how far the reader had got at the end of the chunk
}

// eachChunk reads the sheet in chunks, parses each row, fetches the
// database state the chunk needs in two queries, and hands the chunk on.
// Reading and parsing run in a goroutine of their own, a few chunks ahead.
// With whole (the organization read whole: readWhole) it looks nothing up.
func (r *run) eachChunk(ctx context.Context, q store.Querier, whole *rules.Snapshot, fn func([]chunkRow, *rules.Snapshot) error) error {
	readCtx, cancel := context.WithCancel(ctx)
	chunks := make(chan parsedChunk, readAhead)
	go r.readChunks(readCtx, chunks)
	defer func() {
		cancel()
		// A stream (standard input, a FIFO) is read through a
		// cancelReader: stopping it ends a read blocked on an idle input.
		if r.stopInput != nil {
			r.stopInput()
		}
		for range chunks { // the reader stops before the sheet is closed
		}
	}()
	var err error
	for {
		var c parsedChunk
		var ok bool
		select {
		case c, ok = <-chunks:
		case <-ctx.Done():
			return ctx.Err() // stopped: do not wait for input that may never come
		}
		if !ok {
			break
		}
		r.res.Rows += len(c.rows)
		if c.err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the read failed because the run was stopped
			}
			return c.err
		}
		snap := whole
		if snap == nil {
			if snap, err = r.snapshot(ctx, q, c.rows); err != nil {
				return err
			}
		}
		if err := r.staleOrigins(ctx, c.rows, snap); err != nil {
			return err
		}
		if err := fn(c.rows, snap); err != nil {
			return err
		}
		if r.opts.Progress != nil {
			r.opts.Progress(Progress{Phase: "reading", Rows: r.res.Rows, BytesRead: c.extent.BytesRead,
				TotalBytes: c.extent.TotalBytes, ExpectedRows: c.extent.DeclaredRows})
		}
	}
	return ctx.Err()
}

// readChunks reads and parses the sheet into chunks of ChunkSize rows, sent
// on out (closed at the end); a read error comes with the rows before it.
func (r *run) readChunks(ctx context.Context, out chan<- parsedChunk) {
	defer close(out)
	headers := r.layout.ColumnHeaders()
	var cells [schema.NumColumns]string
	cell := func(c schema.Column) string { return cells[c] }
	newChunk := func() []chunkRow { return make([]chunkRow, 0, r.opts.ChunkSize) }
	send := func(c parsedChunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	chunk := newChunk()
	defer func() {
		// A panic in this goroutine would bypass every caller: it fails
		// the run like any other error.
		if p := recover(); p != nil {
			send(parsedChunk{err: fmt.Errorf("internal error while reading the sheet: %v", p)})
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		rec, err := r.src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		// The reader reuses its record: the chunk keeps its own copy.
		original := slices.Clone(r.layout.OriginalCells(rec.Fields))
		mapped := r.layout.Cells(rec.Row, rec.Fields, &cells)
		in, fs := rules.ParseRow(rec.Row, cell, headers)
		if err := r.checkVersionOrg(rec.Row, &in); err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		if len(mapped) > 0 {
			fs = append(mapped, fs...)
		}
		chunk = append(chunk, chunkRow{row: rec.Row, cells: original, in: in, findings: fs})
		if len(chunk) == r.opts.ChunkSize {
			if !send(parsedChunk{rows: chunk, extent: r.extent()}) {
				return
			}
			chunk = newChunk()
		}
	}
	if len(chunk) > 0 {
		send(parsedChunk{rows: chunk, extent: r.extent()})
	}
}

// extent returns how far the sheet's reader has got, when it can tell.
func (r *run) extent() sheet.Extent {
	if er, ok := r.src.(sheet.ExtentReader); ok {
		return er.Extent()
	}
	return sheet.Extent{}
}

// progressPhase tells Options.Progress that the phase name has begun.
func (r *run) progressPhase(name string) {
	if r.opts.Progress != nil {
		r.opts.Progress(Progress{Phase: name, Rows: r.res.Rows})
	}
}

// readWhole returns every user of the organization as the rules' snapshot
// when there are at most Options.ReadWhole of them, and nil otherwise (the
// chunks are then looked up one by one).
func (r *run) readWhole(ctx context.Context, q store.Querier) (*rules.Snapshot, error) {
	limit := cmp.Or(r.opts.ReadWhole, DefaultReadWhole)
	if limit < 0 {
		return nil, nil
	}
	n, err := store.CountUsersUpTo(ctx, q, r.env.Org.ID, limit+1)
	if err != nil || n > limit {
		return nil, err
	}
	snap := &rules.Snapshot{Users: make(map[string]*schema.User, n), Usernames: make(map[rules.UsernameKey]string, n)}
	err = store.EachUser(ctx, q, r.env.Org.ID, func(u *schema.User) error {
		kept := *u // EachUser reuses u
		snap.Users[kept.Email] = &kept
		snap.Usernames[rules.KeyOf(kept.PBX, kept.Username)] = kept.Email
		return nil
	})
	return snap, err
}

// snapshot fetches the users a chunk names and the holders of the
// usernames it would take.
func (r *run) snapshot(ctx context.Context, q store.Querier, chunk []chunkRow) (*rules.Snapshot, error) {
	emails := make([]string, 0, len(chunk)+8)
	for i := range chunk {
		in := &chunk[i].in
		if in.Email != "" {
			emails = append(emails, in.Email)
		}
		if in.CopyFrom.Set {
			emails = append(emails, in.CopyFrom.V)
		}
	}
	users, err := store.FetchUsers(ctx, q, r.env.Org.ID, emails)
	if err != nil {
		return nil, err
	}
	var pbxes, names []string
	for i := range chunk {
		in := &chunk[i].in
		if in.Email == "" {
			continue
		}
		before := users[in.Email]
		pbx, name, _ := rules.Placement(r.env, *in, before)
		if rules.KeepsUsername(before, pbx, name) {
			continue // the user keeps the username: R-USERNAME has nothing to check
		}
		if pbx != "" {
			pbxes = append(pbxes, pbx)
			names = append(names, strings.ToLower(name))
		}
	}
	holders, err := store.FetchUsernameHolders(ctx, q, r.env.Org.ID, pbxes, names)
	if err != nil {
		return nil, err
	}
	snap := &rules.Snapshot{Users: users, Usernames: make(map[rules.UsernameKey]string, len(holders))}
	for _, h := range holders {
		snap.Usernames[rules.KeyOf(h.PBX, h.Username)] = h.Email
	}
	return snap, nil
}

// check validates one row, counts it and reports its findings.
func (r *run) check(cr *chunkRow, snap *rules.Snapshot) (rules.Outcome, error) {
	out := r.validator.Check(cr.in, cr.findings, snap)
	if r.opts.NoActivationEmails {
		out.SendActivation = false
	}
	res := r.res
	switch out.Kind {
	case rules.Rejected:
		res.Rejected++
	case rules.Created:
		res.Created++
	case rules.Updated:
		res.Updated++
	case rules.Unchanged:
		res.Unchanged++
	}
	if out.SendActivation {
		res.Activations++
	}
	if len(out.Findings) == 0 {
		return out, nil
	}
	for _, f := range out.Findings {
		if f.Severity() == schema.SevWarning {
			res.Warnings++
			break
		}
	}
	if res.FindingsByRule == nil {
		res.FindingsByRule = map[schema.RuleID]int{}
	}
	for _, f := range out.Findings {
		res.FindingsByRule[f.Rule]++
		if len(res.Findings) < MaxKeptFindings {
			res.Findings = append(res.Findings, f)
		} else {
			res.MoreFindings++
		}
	}
	if r.report == nil {
		var dialect sheet.Dialect
		if d, ok := r.src.(sheet.DialectReader); ok {
			dialect = d.Dialect()
		}
		w, err := newReportWriter(r.reportPath, r.reportFormat, r.layout.OriginalHeaders(), dialect)
		if err != nil {
			return out, err
		}
		r.report = w
	}
	email := cr.in.Email
	if email == "" {
		email = strings.TrimSpace(r.cellOf(cr, schema.ColEmail))
	}
	return out, r.report.Write(cr.row, email, cr.cells, out.Findings)
}

func (r *run) cellOf(cr *chunkRow, c schema.Column) string {
	h := cr.in.Headers[c]
	for i, oh := range r.layout.OriginalHeaders() {
		if oh == h && i < len(cr.cells) {
			return cr.cells[i]
		}
	}
	return ""
}

// commitReport completes the report (flushed, synced, in place). An import
// calls it inside its transaction, just before COMMIT, so that a report that
// cannot be completed (a full disk) rolls the run back.
func (r *run) commitReport() error {
	if r.report == nil {
		return nil
	}
	out := r.report.out
	if r.replacesInput && !out.InPlace() {
		// The report replaces the input: keep the input under a second
		// name until the run has committed, so that a run whose COMMIT
		// then fails gives it back.
		backup := filepath.Join(filepath.Dir(out.Path()), "."+filepath.Base(out.Path())+".ccbulk-"+strconv.Itoa(os.Getpid())+"-input")
		os.Remove(backup)
		if os.Link(out.Path(), backup) == nil {
			r.inputBackup = backup
		}
	}
	err := r.report.Commit()
	r.report = nil
	if err == nil {
		r.res.Report = r.reportPath
		if !out.InPlace() {
			r.reportPlaced = out.Path()
		}
	}
	return err
}

// withdrawReport removes a report already in place when the run then failed
// without applying (its COMMIT failed): a report must not describe a run
// that did not happen. When the COMMIT's outcome is unknown (the connection
// broke during it) the report stays: its rows are right if the batch was
// applied, and they still need fixing if it was not.
func (r *run) withdrawReport() {
	if r.res.Report == "" || r.res.Applied || r.commitUnknown {
		return
	}
	switch {
	case r.reportPlaced != "" && r.inputBackup != "":
		// The report replaced the input: the input comes back.
		if os.Rename(r.inputBackup, r.reportPlaced) == nil {
			r.inputBackup = ""
		}
		r.reportPlaced = ""
	case r.reportPlaced != "" && !r.replacesInput: // never a device or FIFO written in place, never the input
		os.Remove(r.reportPlaced)
		r.reportPlaced = ""
	}
	r.res.Report = ""
}

// dropInputBackup removes the second name of an input that the run's report
// replaced.
func (r *run) dropInputBackup() {
	if r.inputBackup != "" {
		os.Remove(r.inputBackup)
		r.inputBackup = ""
	}
}

func (r *run) abortReport() {
	if r.report != nil {
		r.report.Abort()
		r.report = nil
	}
}

// dryRun checks every row and reports the plan; it writes nothing. With
// --sync it lists the users that would be deactivated, inside a
// transaction that is rolled back.
func (r *run) dryRun(ctx context.Context, db *sqlx.DB, conn *sqlx.Conn) error {
	start := time.Now()
	// The rules look up on a snapshot, as a real run's do (index probes
	// only, whatever the statistics say), and a saved plan reads the
	// state of each user the rules saw there too.
	look, err := store.OpenSnapshot(ctx, db)
	if err != nil {
		return err
	}
	defer look.Close()
	if r.planOut != nil {
		r.planOut.q = look
	}
	return withRollback(ctx, conn, func(tx *sqlx.Tx) error {
		if r.opts.Sync {
			if err := store.CreateStaging(ctx, tx); err != nil {
				return err
			}
		}
		whole, err := r.readWhole(ctx, look)
		if err != nil {
			return err
		}
		err = r.eachChunk(ctx, look, whole, func(chunk []chunkRow, snap *rules.Snapshot) error {
			var listed []string
			for i := range chunk {
				out, err := r.check(&chunk[i], snap)
				if err != nil {
					return err
				}
				if chunk[i].in.Email != "" {
					listed = append(listed, chunk[i].in.Email)
				}
				r.plan(ctx, &chunk[i], out)
			}
			if r.opts.Sync {
				return store.StageListed(ctx, conn, listed)
			}
			return nil
		})
		if err == nil {
			err = r.checkUnchanged()
		}
		if err != nil {
			return err
		}
		start = r.phase("reading", start, "rows", r.res.Rows, "rejected", r.res.Rejected)
		if r.opts.Sync {
			r.progressPhase("checking")
			defer func() { r.phase("checking", start, "deactivated", r.res.Deactivated) }()
			// Over the limit, the plan still lists who would have been
			// deactivated (the transaction rolls back either way).
			refused := r.checkSyncLimit(ctx, tx)
			var limit *SyncLimitError
			if refused != nil && !errors.As(refused, &limit) {
				return refused
			}
			if refused == nil {
				if err := r.planDeactivations(ctx, tx); err != nil {
					return err
				}
			}
			emails, err := store.Deactivate(ctx, tx, r.env.Org.ID, 0)
			if err != nil {
				return err
			}
			for _, e := range emails {
				r.planItem(PlanItem{Email: e, Action: "deactivate", Changes: []rules.Change{{Field: rules.FStatus, Old: "active", New: "inactive"}}})
			}
			if refused != nil {
				return refused
			}
			r.res.Deactivated = len(emails)
		}
		if err := r.flushPlan(ctx); err != nil {
			return err
		}
		return r.checkMaxRejected()
	})
}

func (r *run) plan(ctx context.Context, cr *chunkRow, out rules.Outcome) {
	row := cr.row
	var p PlanItem
	switch {
	case out.Kind == rules.Created:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "create", Changes: out.Changes, SendActivation: out.SendActivation}
	case out.Kind == rules.Updated:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "update", Changes: out.Changes, SendActivation: out.SendActivation}
	case out.Kind == rules.Unchanged && out.SendActivation:
		p = PlanItem{Row: row, Email: out.After.Email, Action: "activate", SendActivation: true}
	default:
		return
	}
	p.Before, p.After = out.Before, &out.After
	if cr.in.CopyFrom.Set {
		p.CopiedFrom = cr.in.CopyFrom.V
	}
	r.planItem(p)
	r.planRow(ctx, p)
}

func (r *run) planItem(p PlanItem) {
	if r.opts.Plan != nil {
		r.opts.Plan(p)
	}
}

// apply runs the import for real: lock, batch, one transaction.
func (r *run) apply(ctx context.Context, db *sqlx.DB, conn *sqlx.Conn, sha func() string) error {
	tenant := r.env.Org.ID
	start := time.Now()
	if err := store.Lock(ctx, conn, tenant, r.opts.LockWait); err != nil {
		return err
	}
	// The lock ends with the connection anyway: an error unlocking changes nothing.
	defer func() { _ = store.Unlock(context.WithoutCancel(ctx), conn, tenant) }()

	mode := "apply"
	switch {
	case r.opts.Sync:
		mode = "sync"
	case r.opts.Atomic:
		mode = "atomic"
	}
	batch := &store.Batch{Tenant: tenant, Kind: "import", Actor: r.env.Actor.Email, FileName: r.name, FileSHA256: sha(), Mode: mode, Origin: r.opts.Origin}
	if err := store.StartBatch(ctx, conn, batch); err != nil {
		return err
	}
	r.res.BatchID = batch.ID
	r.log = r.log.With("batch", batch.ID)
	start = r.phase("locking", start, "org", tenant)

	var aborted bool
	err := store.WithTx(ctx, conn, func(tx *sqlx.Tx) error {
		// The rules check the state before the batch: a snapshot taken
		// before the transaction writes anything, on a connection of its
		// own, so that the server looks up one chunk while it writes
		// another.
		look, err := store.OpenSnapshot(ctx, db)
		if err != nil {
			return err
		}
		defer look.Close()
		whole, err := r.readWhole(ctx, look)
		if err != nil {
			return err
		}
		if whole != nil {
			// Nothing more to look up: end the snapshot at once. An open
			// snapshot older than the batch makes every insert of the
			// batch slower (a quarter slower for a million new users).
			look.Close()
		}
		if err := store.CreateStaging(ctx, tx); err != nil {
			return err
		}
		w := startWriter(ctx, conn, tenant, batch.ID)
		err = r.eachChunk(ctx, look, whole, func(chunk []chunkRow, snap *rules.Snapshot) error {
			var c chunkWrites
			var created []store.Staged
			for i := range chunk {
				out, err := r.check(&chunk[i], snap)
				if err != nil {
					return err
				}
				if r.opts.Sync && chunk[i].in.Email != "" {
					c.listed = append(c.listed, chunk[i].in.Email)
				}
				s := store.Staged{Row: chunk[i].row, User: out.After, SendActivation: out.SendActivation}
				switch {
				case out.Kind == rules.Created:
					if created == nil {
						created = make([]store.Staged, 0, len(chunk)-i)
					}
					created = append(created, s)
					if s.User.Status == schema.StatusActive && s.User.HomeOrg == "" {
						r.createdMembers++
					}
				case out.Kind == rules.Updated || (out.Kind == rules.Unchanged && out.SendActivation):
					c.staged = append(c.staged, s)
				}
			}
			if created != nil {
				// Sorted here, while the writer writes the chunks before.
				c.created = []store.NewUsers{store.SortNewUsers(created)}
			}
			return w.send(c)
		})
		if werr := w.finish(err != nil); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		// Reading, checking and copying the new users run together, a
		// chunk at a time: one phase.
		start = r.phase("reading", start, "rows", r.res.Rows, "rejected", r.res.Rejected, "created", r.res.Created)
		r.progressPhase("writing")
		look.Close()
		if err := r.checkUnchanged(); err != nil {
			return err
		}
		refused := r.checkMaxRejected()
		if r.opts.Sync && refused == nil {
			refused = r.checkSyncLimit(ctx, tx)
		}
		if refused != nil {
			// Refused by a limit: nothing is applied, and the report of
			// the rows read stands.
			if err := r.commitReport(); err != nil {
				return err
			}
			aborted = true
			return refused
		}
		if r.opts.Atomic && r.res.Rejected > 0 {
			if err := r.commitReport(); err != nil {
				return err
			}
			aborted = true
			return errAborted
		}
		if _, err := store.Merge(ctx, tx, tenant, batch.ID); err != nil {
			return err
		}
		if r.opts.Sync {
			emails, err := store.Deactivate(ctx, tx, tenant, batch.ID)
			if err != nil {
				return err
			}
			r.res.Deactivated = len(emails)
		}
		b := *batch
		b.Status, b.FileSHA256 = "applied", sha()
		r.fillCounts(&b)
		if err := store.FinishBatch(ctx, tx, &b); err != nil {
			return err
		}
		// The report is complete and in place before the COMMIT: if it
		// cannot be written, nothing is applied.
		if err := r.commitReport(); err != nil {
			return err
		}
		start = r.phase("writing", start, "updated", r.res.Updated, "deactivated", r.res.Deactivated)
		r.progressPhase("committing")
		return nil
	})
	if err == nil {
		r.res.Applied = true
		r.phase("committing", start)
		return nil
	}
	status := "failed"
	if aborted {
		status = "aborted" // refused by --atomic, --max-rejected or the --sync limit: nothing applied
	}
	b := *batch
	b.Status, b.FileSHA256 = status, sha()
	r.fillCounts(&b)
	if errors.Is(err, errAborted) {
		b.Error = batchError(ctx, atomicAborted(r.res.Rejected))
	} else {
		b.Error = batchError(ctx, err)
	}
	recorded, ferr := finishFailed(ctx, db, conn, &b)
	if errors.Is(err, errAborted) {
		return ferr
	}
	if !recorded && ferr == nil && (ctx.Err() != nil || errors.Is(err, store.ErrConnectionLost)) {
		// The batch is no longer running: the commit went through
		// before the run was stopped or the connection broke. The run
		// never claims less than what happened.
		if st, serr := store.BatchStatus(context.WithoutCancel(ctx), db, tenant, batch.ID); serr == nil && st == "applied" {
			r.res.Applied = true
			return nil
		}
	}
	if ctx.Err() != nil {
		// Stopped (SIGINT, SIGTERM): the server reports the cancelled
		// statement as its own error; say what happened instead.
		return fmt.Errorf("batch %d: %w", batch.ID, ctx.Err())
	}
	if errors.Is(err, store.ErrConnectionLost) {
		if ferr != nil && errors.Is(err, store.ErrCommit) {
			r.commitUnknown = true
			return fmt.Errorf("%w; it broke while batch %d was being committed, so whether it was applied cannot be known until the database is back: then 'ccbulk batches --org %s' shows it (applied, or still running: not applied, and the next run marks it failed)", err, batch.ID, tenant)
		}
		return fmt.Errorf("%w; nothing of batch %d was applied (its transaction was rolled back); run the import again when the database is back", err, batch.ID)
	}
	if ferr != nil && ctx.Err() == nil {
		return fmt.Errorf("%w (and recording the batch as %s failed too: %v)", err, status, ferr)
	}
	return err
}

// finishFailed records a batch that did not apply, on the run's connection,
// or on a fresh one from the pool when the run's connection is gone. A batch
// it cannot record stays running until the next run on the tenant marks it
// failed.
func finishFailed(ctx context.Context, db *sqlx.DB, conn *sqlx.Conn, b *store.Batch) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	recorded, err := store.FinishBatchIfRunning(ctx, conn, b)
	if err == nil {
		return recorded, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return store.FinishBatchIfRunning(ctx, db, b)
}

var errAborted = errors.New("atomic import aborted")

func isFileError(err error) bool {
	var fe *schema.FileError
	return errors.As(err, &fe)
}

func (r *run) checkSyncLimit(ctx context.Context, q store.Querier) error {
	active, missing, err := store.SyncCandidates(ctx, q, r.env.Org.ID)
	if err != nil {
		return err
	}
	// A percentage is of the active members before the batch: the new
	// ones are in users already.
	active -= r.createdMembers
	if limit := r.opts.MaxDeactivate.Limit(active); missing > limit {
		emails, err := store.MissingEmails(ctx, q, SyncLimitListed)
		if err != nil {
			return err
		}
		return &SyncLimitError{Would: missing, Limit: limit, Max: *r.opts.MaxDeactivate, Emails: emails}
	}
	return nil
}

func (r *run) fillCounts(b *store.Batch) {
	res := r.res
	b.Rows, b.Created, b.Updated, b.Unchanged = res.Rows, res.Created, res.Updated, res.Unchanged
	b.Deactivated, b.Rejected, b.Warnings = res.Deactivated, res.Rejected, res.Warnings
}

func withRollback(ctx context.Context, conn *sqlx.Conn, fn func(tx *sqlx.Tx) error) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return store.Explain(err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func hashFile(path string, h io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

func displayName(file string) string {
	if file == "-" {
		return "<stdin>"
	}
	return file
}

// reportTarget returns the report's path and format: --report-format, else
// the extension of --report, else the input's own format (as its content
// shows it, whatever its name).
func reportTarget(opts Options, input sheet.Format) (path, format string) {
	format = opts.ReportFormat
	if format == "" && opts.Report != "" {
		format = strings.ToLower(strings.TrimPrefix(filepath.Ext(opts.Report), "."))
	}
	if format != ReportCSV && format != ReportXLSX && format != ReportJSONL {
		format = string(input)
	}
	path = opts.Report
	if path == "" {
		path = DefaultReportPath(opts.File, format)
	}
	return path, format
}

// inputErr is an error met while looking at the first bytes of standard
// input or a stream: a finding about them as it is, a read error as
// F-FORMAT naming the input.
func inputErr(file string, err error) error {
	var fe *schema.FileError
	if errors.As(err, &fe) {
		if file != "-" {
			fe.File = file
		}
		return fe
	}
	return &schema.FileError{Rule: schema.FFormat, File: displayName(file), Err: err, Message: "cannot read the input: " + err.Error()}
}
