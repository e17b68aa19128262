package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRenderServeRows: the rows of ccbulk serve are in the table with their
// ratio to the command line, their verdict against the target and the
// server's peak RSS against 400 MB.
func TestRenderServeRows(t *testing.T) {
	res := results{
		"dry-xlsx-cli":      {{secs: 10, rssKB: 200 << 10}},
		"dry-xlsx-http":     {{secs: 12, rssKB: 150 << 10}},
		"dry-xlsx-http4":    {{secs: 30, rssKB: 390 << 10}},
		"import-cli-tenant": {{secs: 10, rssKB: 100 << 10}},
		"import-http":       {{secs: 13, rssKB: 120 << 10}},
	}
	md := render(nil, &sheets{rows: 1000}, nil, res, machineInfo{}, time.Now(), false, true).markdown
	for _, tc := range []struct{ name, want string }{
		{"XLSX dry run over HTTP, within 1.3×", "| 1.20× | ≤ 1.3× ✔ | 150 |"},
		{"four at once, under 400 MB", "| 4,000 | 30.00 |"},
		{"four at once, RSS verdict", "| 390 | ≤ 400 ✔ |"},
		{"CSV applied over HTTP, over 1.2×", "| 1.30× | ≤ 1.2× ✘ | 120 |"},
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
