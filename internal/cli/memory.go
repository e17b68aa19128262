package cli

import (
	"os"
	"runtime/debug"
)

// Memory for the commands that stream a million rows (import, export).
// Their live heap is small (compact per-key state, a few chunks of rows)
// but they allocate a string per cell: with Go's default the collector
// runs each time the heap doubles, thousands of times. Instead it runs as
// the heap nears a limit, which leaves peak memory flat and known. GOGC or
// GOMEMLIMIT, when set, win.
const (
	importLimitCSV = 96 << 20  // the validator's state is about 42 MB per million rows
	exportLimitCSV = 32 << 20  // nothing kept but the row at hand
	limitXLSX      = 160 << 20 // excelize holds more
)

func limitMemory(limit int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(-1)
}

// Memory of 'ccbulk serve'. Its runs share one heap and one collector:
// under Go's default (GOGC=100) the collector ran each time the heap grew
// by its live size, a few megabytes while one run read a workbook, and a
// workbook's dry run cost a third more CPU over HTTP than on the command
// line. Instead the heap may grow to five times its live size, within a
// memory limit that grows with the runs in flight: one run gets the
// import's limit for a workbook (limitXLSX), and each further run less, so
// that four at once stay under 400 MB. GOGC or GOMEMLIMIT, when set, win.
const (
	serveGCPercent    = 400
	serveMemoryBase   = 96 << 20
	serveMemoryPerRun = 64 << 20
)

// serveMemoryLimit is the memory limit of 'ccbulk serve' while inFlight
// imports and undos run.
func serveMemoryLimit(inFlight int) int64 {
	return serveMemoryBase + int64(max(inFlight, 0))*serveMemoryPerRun
}

// limitServeMemory sets the collector of 'ccbulk serve' and returns what
// resizes its memory limit as runs start and end (runs.Service.Running);
// nil when GOGC or GOMEMLIMIT is set.
func limitServeMemory() func(inFlight int) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	debug.SetGCPercent(serveGCPercent)
	resize := func(inFlight int) { debug.SetMemoryLimit(serveMemoryLimit(inFlight)) }
	resize(0)
	return resize
}
