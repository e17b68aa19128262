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
