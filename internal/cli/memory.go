package cli

import (
	"os"
	"runtime/debug"
)

// memoryLimit is the heap size past which the garbage collector works
// harder, for the commands that stream a million rows (import, export).
// Their live heap is small (compact per-key state and a few chunks of
// rows) but Go would let garbage grow to twice that before collecting.
// GOMEMLIMIT, when set, wins.
const memoryLimit = 96 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
