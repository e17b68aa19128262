package cli_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/sheet"
)

// maxWorkbookMemory is what any workbook within the default limits may
// cost the import that reads it (peak resident memory of the process).
const maxWorkbookMemory = 300 << 20

// TestCraftedWorkbookMemory: the worst workbooks within the default limits
// are read by the real binary in less than maxWorkbookMemory. excelize
// keeps about a hundred bytes per shared string, and more while the table
// is small enough to be held in memory (up to --max-xml-size): the worst
// are a table of sheet.DefaultLimits.MaxSharedStrings strings, empty or as
// long as fits in memory. One string more is F-LIMIT before excelize
// opens the file (a 439 KB workbook of empty strings took 3.9 GB before).
func TestCraftedWorkbookMemory(t *testing.T) {
	tn := newDemoTenant(t, testdb.ServerURL(t))
	n := sheet.DefaultLimits.MaxSharedStrings
	for _, tc := range []struct {
		name, item string
		count      int
		exit       int
		stderr     string
	}{
		{name: "empty strings at the limit", item: `<si/>`, count: n},
		{name: "one-letter strings at the limit, held in memory", item: `<si><t>a</t></si>`, count: n},
		{name: "one string over the limit", item: `<si/>`, count: n + 1, exit: 1,
			stderr: "F-LIMIT: the workbook's shared-strings table holds 1000001 strings, over the limit of 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSharedStringsBook(t, filepath.Join(dir, "book.xlsx"), tc.item, tc.count)
			h := tn.start(t, dir, nil, "import", "book.xlsx", "--org", "acme", "--actor", primaryAdmin, "--dry-run")
			r := h.wait(t)
			if r.code != tc.exit || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.exit, r.stdout, r.stderr)
			}
			ru, ok := h.cmd.ProcessState.SysUsage().(*syscall.Rusage)
			if !ok {
				t.Skip("no resource usage on this system")
			}
			peak := ru.Maxrss << 10 // kilobytes on Linux
			t.Logf("peak resident memory %d MB", peak>>20)
			if peak > maxWorkbookMemory {
				t.Errorf("reading the workbook took %d MB, over %d MB", peak>>20, maxWorkbookMemory>>20)
			}
		})
	}
}

// writeSharedStringsBook writes a workbook whose sheet is a header Email
// and the primary administrator's row, both shared strings, in a table of
// count strings: those two, then item repeated.
func writeSharedStringsBook(t *testing.T, path, item string, count int) {
	t.Helper()
	f := excelize.NewFile()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"Email"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("Sheet1", "A2", &[]any{primaryAdmin}); err != nil {
		t.Fatal(err)
	}
	var book bytes.Buffer
	if err := f.Write(&book); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Email</t></si><si><t>` + primaryAdmin + `</t></si>` +
		strings.Repeat(item, count-2) + `</sst>`
	zr, err := zip.NewReader(bytes.NewReader(book.Bytes()), int64(book.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	found := false
	for _, zf := range zr.File {
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == "xl/sharedStrings.xml" {
			found = true
			_, err = io.WriteString(w, sst)
		} else {
			var rc io.ReadCloser
			if rc, err = zf.Open(); err == nil {
				_, err = io.Copy(w, rc)
				rc.Close()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatal("excelize wrote no xl/sharedStrings.xml")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTerminalEcho: text from a sheet that reaches the terminal (headers,
// cells, findings quoting them, the dry run's plan, an F-HEADER message)
// has its control and non-printing characters escaped, so that a cell
// holding ESC [2J cannot clear the screen and a CR cannot forge a line of
// the summary. The database and the report keep the text as it is.
func TestTerminalEcho(t *testing.T) {
	tn := newDemoTenant(t, testdb.ServerURL(t))
	dir := t.TempDir()
	sheetText := "Email,\"PBX\r\",First Name,\"Notes\x1b[2J\"\n" +
		"new.one@acme.example,\"lyon\x1b[2J\",Ann,hi\n" +
		"new.two@acme.example,paris,\"Bob\rapplied as batch 99\u202e\",x\n"
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(sheetText), 0o600); err != nil {
		t.Fatal(err)
	}
	r := tn.run(t, dir, nil, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin, "--dry-run", "--report", "report.csv")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\nstdout:\n%q\nstderr:\n%q", r.code, r.stdout, r.stderr)
	}
	for _, raw := range []string{"\x1b", "\r", "\u202e"} {
		if strings.Contains(r.stdout, raw) || strings.Contains(r.stderr, raw) {
			t.Errorf("the output holds %q as it is:\n%q\n%q", raw, r.stdout, r.stderr)
		}
	}
	for _, want := range []string{
		`users.csv:1: Notes\x1b[2J: W-UNKNOWN-COLUMN: matches no column of the template; it was ignored`,
		`users.csv:2: PBX\r: R-TEXT: holds the control character U+001B at character 5`,
		`  row 3: create new.two@acme.example: `,
		`First Name "Bob\napplied as batch 99\u202e"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout should hold %s:\n%s", want, r.stdout)
		}
	}
	// The report keeps the cells as they are.
	report, err := os.ReadFile(filepath.Join(dir, "report.csv"))
	if err != nil || !strings.Contains(string(report), "lyon\x1b[2J") {
		t.Errorf("the report should keep the cell as it is: %q, %v", report, err)
	}

	// A header refused with F-HEADER is named escaped too.
	if err := os.WriteFile(filepath.Join(dir, "dup.csv"), []byte("Email,\"E-mail\r\"\na@acme.example,b@acme.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = tn.run(t, dir, nil, "import", "dup.csv", "--org", "acme", "--actor", primaryAdmin)
	if r.code != 1 || strings.ContainsAny(r.stderr, "\r\x1b") || !strings.Contains(r.stderr, `dup.csv:1: E-mail\r: F-HEADER: columns A and B ("Email" and "E-mail\r")`) {
		t.Errorf("exit %d, stderr %q; want F-HEADER naming the header escaped", r.code, r.stderr)
	}
}
