package importer

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/mapping"
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
