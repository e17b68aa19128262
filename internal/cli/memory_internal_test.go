package cli

import (
	"runtime/debug"
	"testing"
)

// For the tests of package cli_test.
var ServeMemoryLimit = serveMemoryLimit

const ServeGCPercent = serveGCPercent

// TestServeMemoryLimit: serve's memory limit grows with the runs in
// flight: one run gets the import's limit for a workbook, four at once
// stay under 400 MB; GOGC or GOMEMLIMIT, when set, leave the collector as
// they say.
func TestServeMemoryLimit(t *testing.T) {
	gc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	resize := limitServeMemory()
	if resize == nil {
		t.Fatal("limitServeMemory() = nil without GOGC and GOMEMLIMIT")
	}
	if got := debug.SetGCPercent(serveGCPercent); got != serveGCPercent {
		t.Errorf("GOGC is %d, want %d", got, serveGCPercent)
	}
	for _, tc := range []struct {
		inFlight int
		want     int64
	}{
		{0, serveMemoryBase},
		{1, limitXLSX},
		{4, serveMemoryBase + 4*serveMemoryPerRun},
		{0, serveMemoryBase},
	} {
		resize(tc.inFlight)
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("%d runs in flight: memory limit %d, want %d", tc.inFlight, got, tc.want)
		}
	}
	if four := serveMemoryLimit(4); four >= 400e6 {
		t.Errorf("four runs at once may use %d bytes, over the 400 MB of issue 17", four)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(limit)
			t.Setenv(env, "200")
			if limitServeMemory() != nil {
				t.Errorf("with %s set, limitServeMemory() resizes the memory limit", env)
			}
			if got := debug.SetGCPercent(100); got != 100 {
				t.Errorf("with %s set, GOGC was changed to %d", env, got)
			}
			if got := debug.SetMemoryLimit(-1); got != limit {
				t.Errorf("with %s set, the memory limit was changed to %d", env, got)
			}
		})
	}
}
