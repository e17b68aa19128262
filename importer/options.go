package importer

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/mapping"
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

// Source is an import's input: a reader with a name and, when known, its
// size (an upload streamed from an HTTP body as it comes), or a file by
// its path.
type Source struct {
	// Path names a file (or a FIFO) to read; when set, Reader is not used.
	Path string
	// Reader is read once, as it comes: CSV or XLSX, told apart by content.
	Reader io.Reader
	// Name is how findings and the batch name the input; "" for a reader:
	// <stdin>.
	Name string
	// Size is the reader's size in bytes, for Progress.TotalBytes; 0 when
	// unknown.
	Size int64
}

// Options describe one import.
type Options struct {
	// Source, when set, is the input, in place of File, Stdin and Name.
	Source        *Source
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
	Report             string // report path; "" next to the input (with ReportSink: the report's name)
	// ReportSink, when set, receives the report instead of a file at
	// Report (see ReportSink); the report's place is then the sink's to
	// check.
	ReportSink   ReportSink
	ReportFormat string // csv, xlsx or jsonl; "" after the input's format
	Encoding     string
	Sheet        string
	Limits       sheet.Limits
	LockWait     time.Duration
	ChunkSize    int
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
	Origin schema.Origin
	// Words, when set, words an error the batch records as the front end
	// words it (its flags or query parameters); nil: as the error says it.
	Words func(error) error

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

// Option names an import option in the errors of Options.Validate and
// ParseThreshold. Each front end words them with its own names: the
// command line's flags, the HTTP API's query parameters.
type Option string

// The options Validate checks.
const (
	OptDryRun        Option = "dry-run"
	OptSync          Option = "sync"
	OptMaxDeactivate Option = "max-deactivate"
	OptMaxRejected   Option = "max-rejected"
	OptPlanOut       Option = "plan-out"
	OptReportFormat  Option = "report-format"
)

// OptionProblem is what is wrong with an option.
type OptionProblem int

const (
	// NeedsOption means the option works only together with OptionError.Needs.
	NeedsOption OptionProblem = iota
	// BadPercent means a threshold's percentage is not over 0 and at most 100.
	BadPercent
	// BadCount means a threshold is neither a count (0 or more) nor a
	// percentage.
	BadCount
	// BadChoice means the value is not one of OptionError.Choices.
	BadChoice
)

// OptionError is an import option that cannot be used as given: which
// option, its value and what it needs. It carries data, not wording: the
// front end that took the option words it with its own names for them.
type OptionError struct {
	Option  Option
	Problem OptionProblem
	Value   string   // the value given (BadPercent, BadCount, BadChoice)
	Needs   Option   // the option it works with only (NeedsOption)
	Choices []string // the values allowed (BadChoice)
}

func (e *OptionError) Error() string {
	switch e.Problem {
	case NeedsOption:
		return fmt.Sprintf("option %s works with %s only", e.Option, e.Needs)
	case BadPercent:
		return fmt.Sprintf("option %s %q: a percentage is over 0 and at most 100, like 5%%", e.Option, e.Value)
	case BadChoice:
		return fmt.Sprintf("option %s must be %s, not %q", e.Option, strings.Join(e.Choices, ", "), e.Value)
	}
	return fmt.Sprintf("option %s %q: write a count or a percentage like 5%%", e.Option, e.Value)
}

// ReportFormats are the values Options.ReportFormat may take besides "".
var ReportFormats = []string{ReportCSV, ReportXLSX, ReportJSONL}

// Validate checks the options against each other and their values against
// what they allow, before anything is read: the first problem found, as an
// *OptionError, in this order: MaxDeactivate without Sync, a threshold out
// of range (MaxDeactivate, then MaxRejected), PlanOut without DryRun, an
// unknown ReportFormat.
func (o *Options) Validate() error {
	if o.MaxDeactivate != nil && !o.Sync {
		return &OptionError{Option: OptMaxDeactivate, Problem: NeedsOption, Needs: OptSync}
	}
	for _, t := range []struct {
		opt Option
		max *Threshold
	}{{OptMaxDeactivate, o.MaxDeactivate}, {OptMaxRejected, o.MaxRejected}} {
		if err := t.max.check(t.opt); err != nil {
			return err
		}
	}
	if o.PlanOut != nil && !o.DryRun {
		return &OptionError{Option: OptPlanOut, Problem: NeedsOption, Needs: OptDryRun}
	}
	if o.ReportFormat != "" && !slices.Contains(ReportFormats, o.ReportFormat) {
		return &OptionError{Option: OptReportFormat, Problem: BadChoice, Value: o.ReportFormat, Choices: ReportFormats}
	}
	return nil
}

// check returns an *OptionError for opt when m (nil: not set) is out of
// range.
func (m *Threshold) check(opt Option) error {
	switch {
	case m == nil:
		return nil
	case !(m.Percent >= 0 && m.Percent <= 100): // NaN too
		return &OptionError{Option: opt, Problem: BadPercent, Value: fmt.Sprintf("%g%%", m.Percent)}
	case m.Percent == 0 && m.N < 0:
		return &OptionError{Option: opt, Problem: BadCount, Value: m.String()}
	}
	return nil
}

// ParseThreshold reads the value s of option opt: a count (500) or a share
// of a whole (5%). A value that is neither, or a percentage not over 0 and
// at most 100, is an *OptionError.
func ParseThreshold(opt Option, s string) (*Threshold, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f > 0 && f <= 100) { // NaN too
			return nil, &OptionError{Option: opt, Problem: BadPercent, Value: s}
		}
		return &Threshold{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, &OptionError{Option: opt, Problem: BadCount, Value: s}
	}
	return &Threshold{N: n}, nil
}
