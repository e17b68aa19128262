package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/importer"
)

// TestProgressLine: the line shows a percentage and an estimate only when
// a total is known (a CSV file's size, an XLSX worksheet's dimension),
// never more than 100%, and the later phases with their elapsed time.
func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       importer.Progress
		elapsed time.Duration
		want    string
	}{
		{"known size", importer.Progress{Phase: "reading", Rows: 420_000, BytesRead: 42, TotalBytes: 100}, 11 * time.Second,
			"reading 42% 420,000 rows, 38,181 rows/s, about 16s left"},
		{"unknown size", importer.Progress{Phase: "reading", Rows: 420_000, BytesRead: 42}, 11 * time.Second,
			"reading 420,000 rows, 38,181 rows/s"},
		{"xlsx dimension", importer.Progress{Phase: "reading", Rows: 250_000, ExpectedRows: 1_000_000}, 10 * time.Second,
			"reading 25% 250,000 rows, 25,000 rows/s, about 30s left"},
		{"past the dimension", importer.Progress{Phase: "reading", Rows: 12_000, ExpectedRows: 10_000}, 2 * time.Second,
			"reading 100% 12,000 rows, 6,000 rows/s"},
		{"whole file read", importer.Progress{Phase: "reading", Rows: 5_000, BytesRead: 100, TotalBytes: 100}, time.Second,
			"reading 100% 5,000 rows, 5,000 rows/s"},
		{"the size wins over the dimension", importer.Progress{Phase: "reading", Rows: 10, BytesRead: 50, TotalBytes: 100, ExpectedRows: 1000}, time.Second,
			"reading 50% 10 rows, 10 rows/s, about 1s left"},
		{"percent rounds down", importer.Progress{Phase: "reading", Rows: 999, BytesRead: 999, TotalBytes: 1000}, time.Second,
			"reading 99% 999 rows, 999 rows/s, about 1s left"},
		{"no time yet", importer.Progress{Phase: "reading", Rows: 0, BytesRead: 0, TotalBytes: 100}, 0,
			"reading 0% 0 rows"},
		{"nothing read yet", importer.Progress{Phase: "reading", Rows: 0, TotalBytes: 100}, time.Second,
			"reading 0% 0 rows, 0 rows/s"},
		{"writing", importer.Progress{Phase: "writing", Rows: 420_000}, 3*time.Second + 900*time.Millisecond, "writing… 3s"},
		{"committing", importer.Progress{Phase: "committing", Rows: 420_000}, 0, "committing… 0s"},
		{"checking", importer.Progress{Phase: "checking", Rows: 10}, 75 * time.Second, "checking… 1m15s"},
	} {
		if got := progressLine(tc.p, tc.elapsed); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRoughDuration: estimates round up to the second under a minute, to
// 10 seconds under 10 minutes, then to the minute.
func TestRoughDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1s"},
		{100 * time.Millisecond, "1s"},
		{15 * time.Second, "15s"},
		{14*time.Second + time.Millisecond, "15s"},
		{59*time.Second + 500*time.Millisecond, "60s"},
		{time.Minute, "1m"},
		{2*time.Minute + 34*time.Second, "2m30s"},
		{2*time.Minute + 36*time.Second, "2m40s"},
		{9*time.Minute + 56*time.Second, "10m"},
		{25*time.Minute + 31*time.Second, "26m"},
		{time.Hour + 4*time.Minute + 40*time.Second, "1h05m"},
	} {
		if got := roughDuration(tc.d); got != tc.want {
			t.Errorf("roughDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1_234_567: "1,234,567", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressDrawsAndClears: the first progress is drawn at once, later
// ones at most every progressEvery unless a phase begins, and done clears
// the line; a nil progress (standard error not a terminal) does nothing.
func TestProgressDrawsAndClears(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.update(importer.Progress{Phase: "reading", Rows: 5000, BytesRead: 10, TotalBytes: 100})
	p.update(importer.Progress{Phase: "reading", Rows: 10000, BytesRead: 20, TotalBytes: 100}) // within progressEvery: not drawn
	p.update(importer.Progress{Phase: "writing", Rows: 10000})
	p.done()
	p.done()
	out := buf.String()
	if n := strings.Count(out, "\r\033[K"); n != 3 {
		t.Errorf("%d lines drawn or cleared, want 3 (reading, writing, cleared): %q", n, out)
	}
	if !strings.Contains(out, "reading 10% 5,000 rows") || !strings.Contains(out, "writing… 0s") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("got %q", out)
	}
	var none *progress
	none.update(importer.Progress{Phase: "reading", Rows: 1})
	printed := false
	none.above(func() { printed = true })
	none.done()
	if !printed {
		t.Error("a nil progress did not run what is printed above it")
	}
}

// TestProgressAbove: a plan line printed while the progress line is drawn
// clears it first, and is not followed by a second clearing.
func TestProgressAbove(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.update(importer.Progress{Phase: "reading", Rows: 5000})
	p.above(func() { buf.WriteString("create a@x.example\n") })
	p.above(func() { buf.WriteString("create b@x.example\n") })
	p.done()
	if got, want := buf.String(), "\r\033[Kreading 5,000 rows, "; !strings.HasPrefix(got, want) {
		t.Fatalf("got %q, want it to start with %q", got, want)
	}
	if got := buf.String(); !strings.HasSuffix(got, "rows/s\r\033[Kcreate a@x.example\ncreate b@x.example\n") {
		t.Errorf("the plan lines are not printed on a cleared line, once: %q", got)
	}
}
