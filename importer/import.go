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
	"time"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
	"github.com/ccbulk/ccbulk/tenant"
)

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
	// Batch is the batch the run records, reported once by Apply as soon
	// as it has started it (0 in every other report).
	Batch int64
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
	File    string
	BatchID int64 // 0: no batch (dry run, or nothing started)
	Org     string
	DryRun  bool
	Applied bool
	Counts
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

// SyncActorError is the cause of F-ACTOR for a sync (or a saved plan made
// with one: Plan) asked by an actor who may not deactivate users. Its
// message names no option: each front end names its own.
type SyncActorError struct {
	Actor string
	Kind  rules.ActorKind
	Plan  bool
}

func (e *SyncActorError) Error() string {
	if e.Plan {
		return fmt.Sprintf("%s is %s, who may not deactivate users; the plan was made with a sync, so it needs a Full Administrator", e.Actor, e.Kind)
	}
	return fmt.Sprintf("%s is %s, who may not deactivate users; a sync needs a Full Administrator", e.Actor, e.Kind)
}

// Counts are what a run did to the rows it read, as a Result, a saved
// plan's summary and the --json object of docs/REFERENCE.md §5 (in this key order) say it.
type Counts struct {
	Rows        int `json:"rows"`
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Unchanged   int `json:"unchanged"`
	Deactivated int `json:"deactivated"`
	Rejected    int `json:"rejected"`
	Warnings    int `json:"warnings"`
}

// ActorError is F-ACTOR or F-ORG: the run may not start.
func actorErr(rule schema.RuleID, format string, args ...any) error {
	return &schema.FileError{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Import runs one import. An *OptionError (see Options.Validate) means
// nothing was read; a *schema.FileError means nothing was applied;
// *schema.LockedError and *SyncLimitError mean the run was refused.
func Import(ctx context.Context, db Store, opts Options) (res Result, err error) {
	var size int64 // the input's size when a Source says it
	if src := opts.Source; src != nil {
		if src.Path != "" {
			opts.File = src.Path
		} else {
			opts.File, opts.Stdin, opts.Name, size = "-", src.Reader, src.Name, src.Size
		}
	}
	if err := opts.Validate(); err != nil {
		return Result{File: opts.File, Org: opts.Org, DryRun: opts.DryRun}, err
	}
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
	if err := db.SchemaCheck(ctx); err != nil {
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
		e := &SyncActorError{Actor: env.Actor.Email, Kind: env.ActorKind}
		return res, &schema.FileError{Rule: schema.FActor, Message: e.Error(), Err: e}
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
	replacesInput := opts.ReportSink == nil && reportReplacesInput(opts, reportPath)
	if opts.ReportSink != nil {
		reportPath = cmp.Or(opts.Report, "report."+reportFormat)
	} else if _, err := os.Stat(opts.File); opts.File == "-" || err == nil {
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
		validator: rules.NewValidator(env), before: before, stopInput: stopInput, log: opts.Log, db: db, size: size}
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
	conn, err := db.ConnOpen(ctx)
	if err != nil {
		return res, err
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
			if derr := discardBatch(ctx, db, conn, opts.Org, res.BatchID, err); derr != nil {
				return res, derr
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
	if res.Applied && res.Report == "" && opts.Report == "" && opts.ReportSink == nil && !replacesInput && file != "-" && IsReport(reportPath) {
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
	reportPlaced             string     // the file the complete report replaced; "" when none (or a device written in place)
	reportSunk               ReportFile // the report committed to Options.ReportSink; nil when none
	size                     int64      // the input's size (Source.Size); 0: unknown, or the reader's to tell
	replacesInput            bool       // the report goes to the input's own path (a report of a report)
	inputBackup              string     // a hard link to the input the report replaced, until the run ends
	commitUnknown            bool       // the connection broke during COMMIT: applied or not is unknown

	before    os.FileInfo // the input file when the run started; nil for standard input
	stopInput func()      // ends the reading of a stream (standard input, a FIFO)

	createdMembers int // active members of the tenant the batch created (already in users)

	planOut *planWriter // the saved plan a dry run writes (Options.PlanOut); nil: none
	db      Store       // the pool: looks up what changed the users of stale rows (R-STALE)

	log *slog.Logger // Options.Log, with the batch once there is one; never nil
}

// phase logs the end of a phase of the run begun at start, with its
// duration and attrs, and returns the time it ended.
func (r *run) phase(name string, start time.Time, attrs ...any) time.Time {
	now := time.Now()
	r.log.Info(name+" done", append([]any{"phase", name, "duration", now.Sub(start).Round(time.Millisecond)}, attrs...)...)
	return now
}
