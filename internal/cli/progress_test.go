package cli_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// shellLine quotes args for sh -c.
func shellLine(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestProgressOnTerminal runs the real binary under a pseudo-terminal
// (script(1)): the progress line shows the phase and a percentage for a
// CSV file and for an XLSX workbook that declares its dimension, then the
// later phases, and is cleared at the end. With standard error a pipe,
// nothing of it is drawn.
func TestProgressOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) is not installed: no pseudo-terminal to run the binary under")
	}
	tn := newTenant(t)
	big := tn.bigSheet("big.csv", 20_000)

	_, stderr := tn.mustRun(0, "import", big, "--org", "acme", "--actor", marie, "--dry-run")
	if strings.ContainsAny(stderr, "\r\x1b") || strings.Contains(stderr, "rows/s") {
		t.Errorf("standard error is not a terminal, yet a progress line was drawn: %q", stderr)
	}

	onTerminal := func(args ...string) string {
		t.Helper()
		cmd := newCommand(t, "script", "-qfec", shellLine(append([]string{filepath.Join(binDir, "ccbulk")}, args...)...), "/dev/null")
		cmd.Env, cmd.Dir = tn.env(), tn.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ccbulk %s under a terminal: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// A dry run's plan, on the same terminal, is printed on a cleared line.
	out := onTerminal("import", big, "--org", "acme", "--actor", marie, "--dry-run")
	if !strings.Contains(out, "\x1b[Kreading ") || !strings.Contains(out, "bulk0019999@acme.example") {
		t.Errorf("dry run on a terminal: no progress line, or not the whole plan:\n%.2000q", out)
	}
	for _, line := range regexp.MustCompile(`\x1b\[Kreading [^\r\n]*`).FindAllString(out, -1) {
		if strings.Contains(line, "create") {
			t.Errorf("dry run on a terminal: a plan line follows the progress line on the same line: %q", line)
			break
		}
	}
	reading := regexp.MustCompile(`\r\x1b\[Kreading [0-9]+% [0-9,]+ rows`)
	out = onTerminal("import", big, "--org", "acme", "--actor", marie)
	if !reading.MatchString(out) || !strings.Contains(out, "\r\x1b[Kcommitting… ") || !strings.Contains(out, "rows/s") {
		t.Errorf("CSV import on a terminal: no progress line with a percentage, then committing:\n%q", out)
	}
	if i, j := strings.LastIndex(out, "\r\x1b[K"), strings.Index(out, ": 20000 rows:"); i < 0 || j < 0 || i > j {
		t.Errorf("the progress line is not cleared before the summary:\n%q", out)
	}

	book := filepath.Join(tn.dir, "users.xlsx")
	tn.mustRun(0, "export", "--org", "acme", "--actor", marie, "--format", "xlsx", "-o", book)
	// Excel declares the used range of a worksheet; say it did.
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetDimension(f.GetSheetList()[0], "A1:P40025"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out = onTerminal("import", book, "--org", "acme", "--actor", marie, "--dry-run")
	if !reading.MatchString(out) {
		t.Errorf("XLSX import on a terminal: no progress line with a percentage:\n%q", out)
	}
}
