package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/sheet"
)

// TestRenderServeRows: the rows of ccbulk serve are in the table with their
// ratio to the command line, their verdict against the target and the
// server's peak RSS against 400 MB; the XLSX rows count the rows of the
// workbook uploaded (not BENCH_ROWS), the CSV rows BENCH_ROWS.
func TestRenderServeRows(t *testing.T) {
	res := results{
		"dry-xlsx-cli":      {{secs: 10, rssKB: 200 << 10}},
		"dry-xlsx-http":     {{secs: 12, rssKB: 150 << 10}},
		"dry-xlsx-http4":    {{secs: 30, rssKB: 390 << 10}},
		"import-cli-tenant": {{secs: 10, rssKB: 100 << 10}},
		"import-http":       {{secs: 13, rssKB: 120 << 10}},
	}
	md := render(nil, &sheets{rows: 1000, serveXLSXRows: 100}, nil, res, machineInfo{}, time.Now(), false, true).markdown
	for _, tc := range []struct{ name, want string }{
		{"XLSX dry run on the command line, the workbook's rows", "(reference) | 100 | 10.00 |"},
		{"XLSX dry run over HTTP, within 1.3×", "| 100 | 12.00 | 8 | 1.20× | ≤ 1.3× ✔ | 150 |"},
		{"four at once, four workbooks' rows", "| 400 | 30.00 |"},
		{"four at once, RSS verdict", "| 390 | ≤ 400 ✔ |"},
		{"CSV on the command line, BENCH_ROWS", "into another empty tenant (reference) | 1,000 | 10.00 |"},
		{"CSV applied over HTTP, over 1.2×", "| 1,000 | 13.00 | 76 | 1.30× | ≤ 1.2× ✘ | 120 |"},
		{"what the figures of serve are", "VmHWM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(md, tc.want) {
				t.Errorf("the table has no %q:\n%s", tc.want, md)
			}
		})
	}
}

// TestServeProcReadsProc: the server's CPU and peak RSS come from /proc
// (here the test's own process).
func TestServeProcReadsProc(t *testing.T) {
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: &exec.Cmd{Process: self}}
	if kb := p.peakKB(); kb <= 0 {
		t.Errorf("peakKB() = %d, want the test's VmHWM", kb)
	}
	if cpu := p.cpu(); cpu < 0 {
		t.Errorf("cpu() = %v", cpu)
	}
}

// TestServeWorkbookSize: the workbook uploaded to ccbulk serve has
// BENCH_SERVE_XLSX_ROWS rows (the first rows of the main workbook), made
// beside the main sheets; when it asks for as many rows or more, it is
// the main workbook itself.
func TestServeWorkbookSize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      int
		serve     int
		wantRows  int
		wantShare bool // the main workbook serves
	}{
		{"smaller than BENCH_ROWS", 30, 12, 12, false},
		{"as large as BENCH_ROWS", 20, 20, 20, true},
		{"capped at BENCH_ROWS", 20, 50, 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sh, err := generate(dir, tc.rows, nil, true, tc.serve)
			if err != nil {
				t.Fatal(err)
			}
			if sh.serveRows() != tc.wantRows {
				t.Errorf("serveRows() = %d, want %d", sh.serveRows(), tc.wantRows)
			}
			if share := sh.serveXLSX == sh.xlsx; share != tc.wantShare {
				t.Errorf("serve workbook %s, main workbook %s: shared=%v, want %v", sh.serveXLSX, sh.xlsx, share, tc.wantShare)
			}
			if got := countRows(t, sh.serveXLSX); got != tc.wantRows {
				t.Errorf("%s has %d rows, want %d", filepath.Base(sh.serveXLSX), got, tc.wantRows)
			}
			if got := countRows(t, sh.xlsx); got != tc.rows {
				t.Errorf("%s has %d rows, want %d", filepath.Base(sh.xlsx), got, tc.rows)
			}
			// Made once: a second call finds them and writes nothing.
			fi, _ := os.Stat(sh.serveXLSX)
			if _, err := generate(dir, tc.rows, nil, true, tc.serve); err != nil {
				t.Fatal(err)
			}
			if fi2, _ := os.Stat(sh.serveXLSX); !fi2.ModTime().Equal(fi.ModTime()) {
				t.Errorf("the serve workbook was made again")
			}
		})
	}
}

// countRows counts the data rows of a workbook.
func countRows(t *testing.T, path string) int {
	t.Helper()
	src, err := sheet.Open(path, nil, sheet.Options{Limits: sheet.DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestServeXLSXRowsSetting: BENCH_SERVE_XLSX_ROWS defaults to 100,000,
// is capped at BENCH_ROWS, and is 0 (no workbook) when the XLSX or the
// serve rows are skipped.
func TestServeXLSXRowsSetting(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", "postgres://bench.invalid/x")
	t.Setenv("CCBULK", self)
	t.Setenv("BENCH_DIR", t.TempDir())
	for _, tc := range []struct {
		name, rows, serve, skip string
		want                    int
	}{
		{"default", "1000000", "", "", 100_000},
		{"set", "1000000", "20000", "", 20_000},
		{"capped at BENCH_ROWS", "5000", "", "", 5000},
		{"no XLSX", "1000000", "", "xlsx", 0},
		{"no serve", "1000000", "", "serve", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BENCH_ROWS", tc.rows)
			t.Setenv("BENCH_SERVE_XLSX_ROWS", tc.serve)
			t.Setenv("BENCH_SKIP", tc.skip)
			c, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if got := c.serveXLSX(); got != tc.want {
				t.Errorf("serveXLSX() = %d, want %d", got, tc.want)
			}
		})
	}
}
