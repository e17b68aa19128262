package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// ApplyOptions describe the apply of a saved plan.
type ApplyOptions struct {
	// Plan is the plan as a dry run wrote it (Options.PlanOut); it is read
	// once, as the apply goes.
	Plan io.Reader
	// PlanName names the plan in messages (a path, or a name of the
	// caller's choosing).
	PlanName string
	// Actor applies the plan: it may be another administrator than the
	// plan's author, but must be allowed every change of the plan.
	Actor    string
	LockWait time.Duration
	// Origin is recorded on the batch (see Options.Origin).
	Origin schema.Origin
	// Words is as in Options.
	Words func(error) error
	// Log and Progress are as in Options.
	Log      *slog.Logger
	Progress func(Progress)
	// ChunkSize is how many planned changes share one database query (0:
	// 5,000).
	ChunkSize int
}

// ErrPlanDrift is wrapped when the database moved since a plan was made.
var ErrPlanDrift = errors.New("the plan no longer matches the database")

// MaxListedDrift bounds what a PlanDriftError lists; More counts the rest.
const MaxListedDrift = 20

// PlanDriftError means that users, seats, roles or PBXes the plan depends
// on changed since it was made: nothing was applied. Changes says what
// changed (at most MaxListedDrift), More how many more.
type PlanDriftError struct {
	Plan    string
	Changes []string
	More    int
}

func (e *PlanDriftError) add(format string, args ...any) {
	if len(e.Changes) < MaxListedDrift {
		e.Changes = append(e.Changes, fmt.Sprintf(format, args...))
	} else {
		e.More++
	}
}

func (e *PlanDriftError) found() bool { return len(e.Changes) > 0 }

func (e *PlanDriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s no longer matches the database, so nothing was applied:", e.Plan)
	for _, c := range e.Changes {
		b.WriteString("\n  " + c)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	b.WriteString("\n" + PlanAgain)
	return b.String()
}

func (e *PlanDriftError) Unwrap() error { return ErrPlanDrift }

// PlanAgain is the last line of a PlanDriftError's message, which each
// front end words with its own way of making a plan.
const PlanAgain = "make the plan again with a new dry run, check it, and apply the new one"

// ErrPlanApplied is wrapped when a plan was applied already.
var ErrPlanApplied = errors.New("the plan was applied already")

// PlanAppliedError means the plan was applied already, by Batch: a plan
// is applied at most once. Nothing was applied.
type PlanAppliedError struct {
	Plan  string
	Batch int64
}

func (e *PlanAppliedError) Error() string {
	return fmt.Sprintf("%s was applied already, by batch %d; a plan is applied at most once, so nothing was applied: make a new plan for further changes", e.Plan, e.Batch)
}

func (e *PlanAppliedError) Unwrap() error { return ErrPlanApplied }

// PlanFileError means the file is not a plan ccbulk can apply: not a plan
// at all, or one that was edited, cut short, or made by another
// installation. Nothing was applied.
type PlanFileError struct {
	Plan    string
	Problem string
	// NotAPlan: the file is no plan at all (rather than a plan damaged).
	NotAPlan bool
}

func (e *PlanFileError) Error() string {
	if e.NotAPlan {
		return fmt.Sprintf("%s: %s; nothing was applied: name a plan that a dry run wrote", e.Plan, e.Problem)
	}
	return fmt.Sprintf("%s: %s; nothing was applied: make the plan again with a new dry run", e.Plan, e.Problem)
}

// maxPlanLine bounds one line of a plan (a user of long cells escaped is
// far shorter).
const maxPlanLine = 1 << 20

// planReader reads a plan's lines, hashing the file (SHA-256) and the
// bytes before its seal (the HMAC) as it goes.
type planReader struct {
	name  string
	src   *sealedReader
	gz    *gzip.Reader
	lines *bufio.Reader
	n     int // lines read
}

// sealedReader reads a plan's file up to its seal: it holds back the last
// sealLen bytes read, so that what it returns is exactly the bytes the
// seal covers, which it hashes.
type sealedReader struct {
	r        io.Reader
	sha, mac hash.Hash
	buf      []byte // read, not yet returned: buf[off:]
	off      int
	eof      bool
}

func (s *sealedReader) Read(p []byte) (int, error) {
	for len(s.buf)-s.off <= sealLen && !s.eof {
		if s.off > 0 {
			s.buf = append(s.buf[:0], s.buf[s.off:]...)
			s.off = 0
		}
		if cap(s.buf)-len(s.buf) < 32<<10 {
			s.buf = slices.Grow(s.buf, 64<<10)
		}
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.sha.Write(s.buf[len(s.buf) : len(s.buf)+n])
		s.buf = s.buf[:len(s.buf)+n]
		if errors.Is(err, io.EOF) {
			s.eof = true
		} else if err != nil {
			return 0, err
		}
	}
	avail := len(s.buf) - s.off - sealLen
	if avail <= 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf[s.off:s.off+avail])
	s.mac.Write(p[:n])
	s.off += n
	return n, nil
}

// seal returns the bytes held back at the end of the file (read to its end).
func (s *sealedReader) seal() []byte { return s.buf[s.off:] }

func openPlan(r io.Reader, name string, key []byte) (*planReader, error) {
	p := &planReader{name: name, src: &sealedReader{r: r, sha: sha256.New(), mac: hmac.New(sha256.New, key)}}
	raw := bufio.NewReaderSize(p.src, 64<<10)
	magic, err := raw.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return nil, &PlanFileError{Plan: name, Problem: "this is not a plan of ccbulk", NotAPlan: true}
	}
	if p.gz, err = gzip.NewReader(raw); err != nil {
		return nil, p.readErr(err)
	}
	p.gz.Multistream(false)
	p.lines = bufio.NewReaderSize(p.gz, 64<<10)
	return p, nil
}

func (p *planReader) bad(problem string) error { return &PlanFileError{Plan: p.name, Problem: problem} }

// readErr words an error met reading the plan.
func (p *planReader) readErr(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return p.bad("the plan is cut short (truncated)")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), strings.Contains(err.Error(), "flate"):
		return p.bad("the plan was changed after it was written (its data does not check)")
	}
	return fmt.Errorf("reading %s: %w", p.name, err)
}

// next returns the next line (without its newline), valid until the next call.
func (p *planReader) next() ([]byte, error) {
	var line []byte
	for {
		chunk, err := p.lines.ReadSlice('\n')
		if len(line)+len(chunk) > maxPlanLine {
			return nil, p.bad(fmt.Sprintf("line %d is longer than a plan's lines are", p.n+1))
		}
		if err == nil {
			p.n++
			if line == nil {
				return chunk[:len(chunk)-1], nil
			}
			line = append(line, chunk...)
			return line[:len(line)-1], nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			line = append(line, chunk...)
			continue
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // a plan's lines end with its summary
		}
		return nil, p.readErr(err)
	}
}

// line reads and decodes the next line.
func (p *planReader) line() (*planLine, error) {
	b, err := p.next()
	if err != nil {
		return nil, err
	}
	var l planLine
	if err := json.Unmarshal(b, &l); err != nil {
		if p.n == 1 {
			return nil, &PlanFileError{Plan: p.name, Problem: "this is not a plan of ccbulk (its first line is not a plan's header)", NotAPlan: true}
		}
		return nil, p.bad(fmt.Sprintf("line %d is not a line of a plan (%v): the plan was changed after it was written", p.n, err))
	}
	return &l, nil
}

// end checks, after the summary line, that the compressed stream ends
// there and that the seal follows it and matches, and returns the plan's
// SHA-256.
func (p *planReader) end() (string, error) {
	if _, err := p.lines.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return "", p.readErr(err)
		}
		return "", p.bad("the plan has data after its summary: it was changed after it was written")
	}
	return p.checkSeal()
}

// checkSeal reads the file to its end and checks its seal.
func (p *planReader) checkSeal() (string, error) {
	if _, err := io.Copy(io.Discard, p.src); err != nil {
		return "", fmt.Errorf("reading %s: %w", p.name, err)
	}
	got := p.src.seal()
	if len(got) != sealLen || !bytes.HasPrefix(got, []byte(`{"hmac":"`)) || got[len(got)-1] != '\n' {
		return "", p.bad("the plan is cut short (truncated), or was changed after it was written: it does not end with its seal")
	}
	if !hmac.Equal(got, seal(p.src.mac.Sum(nil))) {
		return "", p.bad("the plan was changed after it was written, or was made by another installation of ccbulk (its seal does not match)")
	}
	return hex.EncodeToString(p.src.sha.Sum(nil)), nil
}

// orBad returns err, met before the plan's seal was checked, unless the
// plan turns out to be damaged: then that is what went wrong. The plan's
// content is trusted only once its seal matches, so an error that content
// caused (an organization that does not exist, a value the database
// refuses) is reported as the damage it may come from. The rest of the
// plan is read (not applied) to its end to know.
func (p *planReader) orBad(err error) error {
	var bad *PlanFileError
	if err == nil || errors.As(err, &bad) {
		return err
	}
	if _, cerr := io.Copy(io.Discard, p.gz); cerr != nil {
		return p.readErr(cerr)
	}
	if _, serr := p.checkSeal(); errors.As(serr, &bad) {
		return serr
	}
	return err
}

// Apply applies a saved plan (see plan.go) as one batch, under the tenant's
// lock, in one transaction: exactly the plan's changes, written as an import
// writes them (store.Create, staging and store.Merge, the audit trail,
// activation emails), or nothing. The plan is read once, as the apply goes:
// each user's state is checked (and the row locked) before its change is
// written, and the plan's integrity is checked at its end.
//
// Errors: *PlanFileError (not a plan, edited, truncated, another
// installation's), *PlanAppliedError (applied already), *PlanDriftError
// (users, seats, roles or PBXes changed since the plan), an F-ACTOR
// *schema.FileError (the actor may not make every change of the plan),
// *schema.LockedError. In every case nothing was applied.
func Apply(ctx context.Context, db Store, opts ApplyOptions) (res Result, err error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = planChunk
	}
	if opts.PlanName == "" {
		opts.PlanName = "the plan"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res = Result{File: opts.PlanName}
	if opts.Plan == nil {
		return res, errors.New("no plan to apply")
	}
	if err := db.SchemaCheck(ctx); err != nil {
		return res, err
	}
	key, err := db.PlanKey(ctx)
	if err != nil {
		return res, err
	}
	pr, err := openPlan(opts.Plan, opts.PlanName, key)
	if err != nil {
		return res, err
	}
	hdr, err := pr.line()
	if err != nil {
		return res, err
	}
	switch {
	case hdr.Format == 0 || hdr.Org == "":
		return res, &PlanFileError{Plan: opts.PlanName, Problem: "this is not a plan of ccbulk (its first line is not a plan's header)", NotAPlan: true}
	case hdr.Format > PlanFormat:
		return res, pr.bad(fmt.Sprintf("the plan is of format %d, which this ccbulk (format %d) cannot read", hdr.Format, PlanFormat))
	case hdr.Format < PlanFormat:
		return res, pr.bad(fmt.Sprintf("the plan is of format %d, which an earlier ccbulk wrote and this one (format %d) no longer applies", hdr.Format, PlanFormat))
	}
	res.File, res.Org = hdr.Input, hdr.Org
	env, err := tenant.Load(ctx, db, hdr.Org, opts.Actor)
	if err != nil {
		return res, pr.orBad(err)
	}
	tenant := env.Org.ID
	res.Org = tenant
	if rules.Allowed(env.ActorKind, rules.CapImport) != "" {
		return res, actorErr(schema.FActor, "%s is %s, who may not change users of %s, so may not apply a plan", env.Actor.Email, env.ActorKind, tenant)
	}
	if hdr.Options.Sync && rules.Allowed(env.ActorKind, rules.CapManageUsers) != "" {
		e := &SyncActorError{Actor: env.Actor.Email, Kind: env.ActorKind, Plan: true}
		return res, pr.orBad(&schema.FileError{Rule: schema.FActor, Message: e.Error(), Err: e})
	}

	start := time.Now()
	conn, err := db.ConnOpen(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if err := conn.TenantLock(ctx, tenant, opts.LockWait); err != nil {
		return res, err
	}
	// The lock ends with the connection anyway: an error unlocking changes nothing.
	defer func() { _ = conn.TenantUnlock(context.WithoutCancel(ctx), tenant) }()
	batch := &schema.Batch{Tenant: tenant, Kind: "import", Actor: env.Actor.Email, FileName: hdr.Input, Mode: hdr.Options.mode(), Origin: opts.Origin}
	if err := conn.BatchStart(ctx, batch); err != nil {
		return res, err
	}
	res.BatchID = batch.ID
	if opts.Progress != nil {
		opts.Progress(Progress{Phase: "reading", Batch: batch.ID})
	}
	ending := &batchEnd{db: db, conn: conn, name: "batch", again: "apply the plan again"}
	log = log.With("batch", batch.ID)
	if err := conn.PlanRecord(ctx, schema.PlanRecordParams{Tenant: tenant, Batch: batch.ID, Author: hdr.Actor}); err != nil {
		return res, err
	}
	log.Info("locking done", "phase", "locking", "duration", time.Since(start).Round(time.Millisecond), "org", tenant)
	start = time.Now()

	a := &applier{ctx: ctx, tenant: tenant, batch: batch.ID, env: env, plan: pr, res: &res,
		drift: &PlanDriftError{Plan: opts.PlanName}, progress: opts.Progress, chunkSize: opts.ChunkSize}
	var refused bool // drift, applied already or a change the actor may not make: recorded as aborted
	var summary *planSummary
	var planSHA string // once the whole plan has been read and checked
	err = withTx(ctx, conn, func(tx Tx) error {
		a.tx = tx
		now, err := tx.OrgStateGet(ctx, tenant)
		if err != nil {
			return err
		}
		orgDrift(hdr.OrgState, now, a.drift)
		if err := tx.StagingCreate(ctx); err != nil {
			return err
		}
		sha, s, err := a.read()
		if err != nil {
			return pr.orBad(err)
		}
		summary, planSHA = s, sha
		// The plan is whole and as it was made: what it says now counts.
		if id, err := tx.PlanAppliedBy(ctx, tenant, sha); err != nil {
			return err
		} else if id != 0 {
			refused = true
			return &PlanAppliedError{Plan: opts.PlanName, Batch: id}
		}
		if a.deniedTotal > 0 {
			refused = true
			more := ""
			if a.deniedTotal > len(a.denied) {
				more = fmt.Sprintf("\n  … and %d more", a.deniedTotal-len(a.denied))
			}
			return actorErr(schema.FActor, "%s is %s, and the plan (made by %s) holds %d %s it may not make:\n  %s%s\nask an administrator who may make them to apply it",
				env.Actor.Email, env.ActorKind, hdr.Actor, a.deniedTotal, plural(a.deniedTotal, "change", "changes"), strings.Join(a.denied, "\n  "), more)
		}
		if a.drift.found() {
			refused = true
			return a.drift
		}
		log.Info("reading done", "phase", "reading", "duration", time.Since(start).Round(time.Millisecond), "items", a.items)
		start = time.Now()
		if a.progress != nil {
			a.progress(Progress{Phase: "writing", Rows: a.items})
		}
		if _, err := tx.UserMerge(ctx, tenant, batch.ID); err != nil {
			return err
		}
		if len(a.deactivate) > 0 {
			if err := tx.DeactivationStage(ctx, a.deactivate); err != nil {
				return err
			}
			emails, err := tx.UserDeactivate(ctx, tenant, batch.ID)
			if err != nil {
				return err
			}
			if len(emails) != len(a.deactivate) {
				return fmt.Errorf("the plan deactivates %d users, but %d could be: nothing was applied", len(a.deactivate), len(emails))
			}
			res.Deactivated = len(emails)
		}
		if err := tx.UsernameCheck(ctx); errors.Is(err, schema.ErrUsernameTaken) {
			refused = true
			a.drift.add("a username the plan gives was taken since: %s", strings.TrimPrefix(err.Error(), schema.ErrUsernameTaken.Error()+" "))
			return a.drift
		} else if err != nil {
			return err
		}
		res.Rows, res.Unchanged, res.Rejected, res.Warnings = s.Rows, s.Unchanged, s.Rejected, s.Warnings
		if err := tx.PlanRecord(ctx, schema.PlanRecordParams{Tenant: tenant, Batch: batch.ID, Author: hdr.Actor, SHA256: sha}); err != nil {
			if errors.Is(err, schema.ErrPlanApplied) {
				refused, planSHA = true, sha
				return &PlanAppliedError{Plan: opts.PlanName}
			}
			return err
		}
		b := *batch
		b.FileSHA256 = s.InputSHA256
		b.Rows, b.Created, b.Updated, b.Unchanged = res.Rows, res.Created, res.Updated, res.Unchanged
		b.Deactivated, b.Rejected, b.Warnings = res.Deactivated, res.Rejected, res.Warnings
		if err := ending.applied(ctx, tx, b); err != nil {
			return err
		}
		log.Info("writing done", "phase", "writing", "duration", time.Since(start).Round(time.Millisecond), "updated", res.Updated, "deactivated", res.Deactivated)
		start = time.Now()
		if a.progress != nil {
			a.progress(Progress{Phase: "committing", Rows: a.items})
		}
		return nil
	})
	if summary != nil {
		res.Rows, res.Unchanged, res.Rejected, res.Warnings = summary.Rows, summary.Unchanged, summary.Rejected, summary.Warnings
		res.IgnoredColumns = summary.IgnoredColumns
		res.FindingsByRule = map[schema.RuleID]int{}
		for rule, n := range summary.FindingsByRule {
			res.FindingsByRule[schema.RuleID(rule)] = n
		}
	}
	if err == nil {
		res.Applied = true
		log.Info("committing done", "phase", "committing", "duration", time.Since(start).Round(time.Millisecond))
		return res, nil
	}
	res.Created, res.Updated, res.Deactivated, res.Activations = 0, 0, 0, 0
	var bad *PlanFileError
	if errors.As(err, &bad) {
		// Not a plan that can be applied: the run leaves no batch behind.
		if derr := discardBatch(ctx, db, conn, tenant, batch.ID, err); derr != nil {
			return res, derr
		}
		res.BatchID = 0
		return res, err
	}
	var again *PlanAppliedError
	if errors.As(err, &again) && again.Batch == 0 {
		// The database's own guard refused it (another apply raced past
		// the check): name the batch that applied it.
		again.Batch, _ = db.PlanAppliedBy(context.WithoutCancel(ctx), tenant, planSHA)
	}
	b := *batch
	b.Status, b.Error = "failed", batchError(ctx, opts.Words, err)
	if refused {
		b.Status = "aborted"
	}
	if summary != nil {
		b.FileSHA256 = summary.InputSHA256
		b.Rows, b.Unchanged, b.Rejected, b.Warnings = summary.Rows, summary.Unchanged, summary.Rejected, summary.Warnings
	}
	if planSHA != "" && refused {
		// The refused batch names the plan it refused (several refused
		// batches may name one plan; only one applied batch can).
		_ = conn.PlanRecord(context.WithoutCancel(ctx), schema.PlanRecordParams{Tenant: tenant, Batch: batch.ID, Author: hdr.Actor, SHA256: planSHA})
	}
	end := ending.failed(ctx, b, err)
	res.Applied = end.Applied
	return res, end.Err
}

// applier applies a plan's changes, a chunk at a time, inside the batch's
// transaction.
type applier struct {
	ctx       context.Context
	tx        Tx
	tenant    string
	batch     int64
	env       *rules.Env
	plan      *planReader
	res       *Result
	progress  func(Progress)
	chunkSize int

	items       int
	drift       *PlanDriftError
	denied      []string // changes the actor may not make (at most MaxListedForbidden)
	deniedTotal int
	deactivate  []string // emails, once checked
}

// read reads the plan to its end, checking and writing each chunk of
// changes, and returns the plan's SHA-256 and summary. Once anything has
// drifted or been denied, it writes nothing more but reads on, so that the
// plan's integrity and whether it was applied already are still known.
func (a *applier) read() (string, *planSummary, error) {
	chunk := make([]*planLine, 0, a.chunkSize)
	for {
		l, err := a.plan.line()
		if err != nil {
			return "", nil, err
		}
		switch {
		case l.Summary != nil:
			if err := a.apply(chunk); err != nil {
				return "", nil, err
			}
			sha, err := a.plan.end()
			if err != nil {
				return "", nil, err
			}
			if l.Summary.Items != a.items {
				return "", nil, a.plan.bad(fmt.Sprintf("the plan holds %d changes, not the %d it says", a.items, l.Summary.Items))
			}
			return sha, l.Summary, nil
		case l.Format != 0:
			return "", nil, a.plan.bad(fmt.Sprintf("line %d is a second header", a.plan.n))
		default:
			if err := a.plan.checkItem(l); err != nil {
				return "", nil, err
			}
			a.items++
			chunk = append(chunk, l)
			if len(chunk) == a.chunkSize {
				if err := a.apply(chunk); err != nil {
					return "", nil, err
				}
				chunk = make([]*planLine, 0, a.chunkSize) // the lines are kept by the writes
			}
		}
	}
}

// checkItem checks that a line is a planned change ccbulk could have written.
func (p *planReader) checkItem(l *planLine) error {
	ok := l.Email != ""
	switch l.Action {
	case actionCreate:
		ok = ok && l.After != nil && l.Before == nil && l.State == "" && l.After.Email == l.Email
	case actionUpdate:
		ok = ok && l.After != nil && l.Before != nil && l.State != "" && l.After.Email == l.Email && l.Before.Email == l.Email
	case actionActivate, actionDeactivate:
		ok = ok && l.Before != nil && l.State != "" && l.Before.Email == l.Email
	default:
		ok = false
	}
	if !ok {
		return p.bad(fmt.Sprintf("line %d is not a change a plan holds: the plan was changed after it was written", p.n))
	}
	return nil
}

// apply checks a chunk of planned changes against the database (locking the
// rows of the users they touch) and, while nothing has drifted or been
// denied, writes them.
func (a *applier) apply(chunk []*planLine) error {
	if len(chunk) == 0 {
		return nil
	}
	emails := make([]string, 0, len(chunk))
	for _, l := range chunk {
		emails = append(emails, l.Email)
		for _, u := range l.Uses {
			emails = append(emails, u.Email)
		}
	}
	now, err := a.tx.UserStateLock(a.ctx, a.tenant, emails)
	if err != nil {
		return err
	}
	var moved []*planLine // users changed since the plan, to be named
	for _, l := range chunk {
		cur, exists := now[l.Email]
		switch {
		case l.Action == actionCreate && exists:
			a.drift.add("user %s was created since the plan", l.Email)
		case l.Action == actionCreate:
		case !exists:
			a.drift.add("user %s was deleted since the plan", l.Email)
		case cur != l.State:
			if len(moved) < MaxListedDrift {
				moved = append(moved, l)
			} else {
				a.drift.More++
			}
		}
		for _, u := range l.Uses {
			if state, ok := now[u.Email]; !ok || state != u.State {
				a.drift.add("user %s, whose privileges row %d copies, changed since the plan", u.Email, l.Row)
			}
		}
		a.permit(l)
	}
	if err := a.nameMoved(moved); err != nil {
		return err
	}
	writing := !a.drift.found() && a.deniedTotal == 0
	if !writing {
		return nil
	}
	var created []schema.Staged
	var staged []schema.Staged
	for _, l := range chunk {
		switch l.Action {
		case actionCreate:
			created = append(created, schema.Staged{Row: l.Row, User: schema.User(*l.After), SendActivation: l.Activation})
			a.res.Created++
		case actionUpdate:
			staged = append(staged, schema.Staged{Row: l.Row, User: schema.User(*l.After), SendActivation: l.Activation})
			a.res.Updated++
		case actionActivate:
			staged = append(staged, schema.Staged{Row: l.Row, User: schema.User(*l.Before), SendActivation: true})
		case actionDeactivate:
			a.deactivate = append(a.deactivate, l.Email)
		}
		if l.Activation {
			a.res.Activations++
		}
	}
	if len(created) > 0 {
		if err := a.tx.UserCreate(a.ctx, schema.UserCreateParams{Tenant: a.tenant, Batch: a.batch, Users: []schema.NewUsers{schema.SortNewUsers(created)}}); err != nil {
			return err
		}
	}
	if err := a.tx.UserStage(a.ctx, staged); err != nil {
		return err
	}
	if a.progress != nil {
		a.progress(Progress{Phase: "reading", Rows: a.items})
	}
	return nil
}

// nameMoved adds to the drift the users of lines whose state moved since
// the plan, each with the fields in which it differs now from the plan's
// view of it: their rows are read (at most MaxListedDrift of them a chunk)
// only to say so.
func (a *applier) nameMoved(moved []*planLine) error {
	if len(moved) == 0 {
		return nil
	}
	emails := make([]string, len(moved))
	for i, l := range moved {
		emails[i] = l.Email
	}
	users, err := a.tx.UserFetchByEmails(a.ctx, a.tenant, emails)
	if err != nil {
		return err
	}
	for _, l := range moved {
		if u := users[l.Email]; u != nil {
			a.drift.add("user %s changed since the plan (%s)", l.Email, changedFields((*schema.User)(l.Before), u))
		} else {
			a.drift.add("user %s was deleted since the plan", l.Email)
		}
	}
	return nil
}

// permit checks that the applying actor may make a planned change, as an
// import by that actor would check it (docs/REFERENCE.md §3, Who may do what).
func (a *applier) permit(l *planLine) {
	k := a.env.ActorKind
	if k == rules.FullCustomer {
		return // may make every change a plan can hold
	}
	var before, after *schema.User
	if l.Before != nil {
		before = (*schema.User)(l.Before)
	}
	if l.After != nil {
		after = (*schema.User)(l.After)
	}
	caps := deniedChanges(k, planChanges(l.Action, l.Email, before, after), "creating the user", "deleting the user")
	if l.Activation && rules.Allowed(k, rules.CapSendActivation) != "" {
		caps = append(caps, "sending an activation email")
	}
	for _, d := range caps {
		a.deniedTotal++
		if len(a.denied) < MaxListedForbidden {
			a.denied = append(a.denied, l.Email+": "+d)
		}
	}
}

// changedFields names, as the sheet's columns, the fields in which a user
// now differs from the plan's view of it.
func changedFields(before, now *schema.User) string {
	var names []string
	for _, c := range rules.Diff(before, now) {
		if c.Field == rules.FAdminRole {
			names = append(names, "admin role")
			continue
		}
		names = append(names, fieldColumns[string(c.Field)].Header())
	}
	if before.Primary != now.Primary {
		names = append(names, "primary administrator")
	}
	if len(names) == 0 {
		return "changed outside ccbulk's fields"
	}
	return strings.Join(names, ", ")
}

// orgDrift adds to d what changed in the organization since the plan saw it.
func orgDrift(saw, now schema.OrgState, d *PlanDriftError) {
	seats := func(tier string, sawSeats, sawUsed, nowSeats, nowUsed int) {
		if sawSeats == nowSeats && sawUsed == nowUsed {
			return
		}
		of := func(n int) string {
			if n < 0 {
				return "no limit"
			}
			return fmt.Sprint(n)
		}
		if sawSeats == nowSeats {
			d.add("%s seats: the plan saw %d used of %s, now %d used", tier, sawUsed, of(sawSeats), nowUsed)
		} else {
			d.add("%s seats: the plan saw %d used of %s, now %d used of %s", tier, sawUsed, of(sawSeats), nowUsed, of(nowSeats))
		}
	}
	seats(schema.ColPremium.Header(), saw.PremiumSeats, saw.PremiumUsed, now.PremiumSeats, now.PremiumUsed)
	seats(schema.ColStandard.Header(), saw.StandardSeats, saw.StandardUsed, now.StandardSeats, now.StandardUsed)
	if !slices.Equal(saw.PBXes, now.PBXes) {
		for _, p := range now.PBXes {
			if !slices.Contains(saw.PBXes, p) {
				d.add("PBX %s was added since the plan", p)
			}
		}
		for _, p := range saw.PBXes {
			if !slices.Contains(now.PBXes, p) {
				d.add("PBX %s was removed since the plan", p)
			}
		}
		if len(saw.PBXes) > 0 && len(now.PBXes) > 0 && saw.PBXes[0] != now.PBXes[0] {
			d.add("the first PBX (the default) was %s, now %s", saw.PBXes[0], now.PBXes[0])
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range saw.Roles {
			if !yield(n) {
				return
			}
		}
		for n := range now.Roles {
			if _, ok := saw.Roles[n]; !ok && !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		was, inSaw := saw.Roles[n]
		is, inNow := now.Roles[n]
		switch {
		case !inNow:
			d.add("CC role %s was deleted since the plan", n)
		case !inSaw:
			d.add("CC role %s was created since the plan", n)
		case was != is:
			d.add("CC role %s: the plan saw permissions %s, now %s", n, orNone(was), orNone(is))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
