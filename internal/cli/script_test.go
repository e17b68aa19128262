package cli_test

import (
	"archive/zip"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/unicode"

	"github.com/ccbulk/ccbulk/sheet"

	"github.com/ccbulk/ccbulk/internal/cli"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden output in testdata/script/*.txtar")

// binDir holds the real ccbulk binary, built once for the tests that run
// it as users do (signals, closed descriptors, terminals, file modes).
var binDir string

// TestMain builds the real binary, and lets the test binary itself run as
// ccbulk: the command-line scripts run it that way, so that the race
// detector and coverage reach the command line (cli.Main is all that
// cmd/ccbulk's main does).
func TestMain(m *testing.M) {
	testscript.Main(withBinary{m}, map[string]func(){inProcess: func() {
		os.Args[0] = "ccbulk"
		os.Exit(cli.Main())
	}})
}

// inProcess is the name under which the test binary runs as ccbulk. It is
// not "ccbulk", which would take the place of the scripts' own ccbulk
// command (runCCBulk: exit codes, masked output).
const inProcess = "ccbulk-under-test"

// withBinary runs the tests with the real binary built and a database
// server's template ready.
type withBinary struct{ m *testing.M }

func (w withBinary) Run() int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ccbulk-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "ccbulk"), "github.com/ccbulk/ccbulk/cmd/ccbulk")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ccbulk:", err)
		return 1
	}
	return testdb.Main(w.m)
}

// TestScripts runs the CLI end to end: each testdata/script/*.txtar is a
// session of real ccbulk commands against its own fresh database, with the
// expected output beside it (go test -run TestScripts -update rewrites it).
func TestScripts(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			server := os.Getenv("DATABASE_URL")
			if server == "" {
				return errors.New("DATABASE_URL is not set: run the tests with 'make test'")
			}
			url, drop, err := testdb.Create(server)
			if err != nil {
				return err
			}
			env.Defer(drop)
			env.Setenv("DATABASE_URL", url)
			// ccbulk is the test binary (see TestMain), which
			// testscript puts on PATH.
			ccbulk, err := exec.LookPath(inProcess)
			if err != nil {
				return err
			}
			env.Setenv("CCBULK", ccbulk)
			env.Setenv("FIXTURES", filepath.Join(root, "fixtures"))
			env.Setenv("PGTZ", "UTC")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"ccbulk":    runCCBulk,
			"xlsxpart":  xlsxPart,
			"xlsxset":   xlsxSet,
			"decode":    decodeFile,
			"unversion": unversion,
			"sql":       runSQL,
		},
	})
}

// xlsxPart prints one XML part of an XLSX file: "xlsxpart FILE PART".
func xlsxPart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: xlsxpart FILE PART")
	}
	zr, err := zip.OpenReader(ts.MkAbs(args[0]))
	ts.Check(err)
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == args[1] {
			rc, err := f.Open()
			ts.Check(err)
			defer rc.Close()
			data, err := io.ReadAll(rc)
			ts.Check(err)
			_, err = ts.Stdout().Write(data)
			ts.Check(err)
			return
		}
	}
	ts.Fatalf("%s has no part %s", args[0], args[1])
}

// decodeFile prints a file decoded to UTF-8: "decode ENCODING FILE"
// (windows-1250, windows-1252, iso-8859-2, or UTF-16, whose BOM must be
// there), so that a script can compare a report written in its input's
// encoding.
func decodeFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: decode ENCODING FILE")
	}
	enc, ok := sheet.Encodings[args[0]]
	if args[0] == sheet.UTF16 {
		enc, ok = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), true
	}
	if !ok {
		ts.Fatalf("decode: unknown encoding %q", args[0])
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	text, err := enc.NewDecoder().Bytes(data)
	ts.Check(err)
	_, err = ts.Stdout().Write(text)
	ts.Check(err)
}

// xlsxSet edits a workbook as an administrator would in a spreadsheet
// program: "xlsxset FILE SHEET CELL VALUE" types VALUE into CELL.
func xlsxSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: xlsxset FILE SHEET CELL VALUE")
	}
	f, err := excelize.OpenFile(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	ts.Check(f.SetCellStr(args[1], args[2], args[3]))
	ts.Check(f.Save())
}

// runCCBulk runs ccbulk (the test binary as ccbulk, see TestMain):
// "ccbulk [exit=N] ARGS...". With exit=N
// the exit code must be N; otherwise it must be 0 (or, after !, non-zero).
func runCCBulk(ts *testscript.TestScript, neg bool, args []string) {
	want := 0
	if len(args) > 0 && len(args[0]) > 5 && args[0][:5] == "exit=" {
		n, err := strconv.Atoi(args[0][5:])
		ts.Check(err)
		want, args = n, args[1:]
	}
	err := ts.Exec(ts.Getenv("CCBULK"), args...)
	// What changes from run to run is masked, so that scripts compare
	// the rest exactly: times and the build's version in JSON, and the
	// script's own directory in absolute paths ($WORK).
	fmt.Fprint(ts.Stdout(), maskRun(ts.ReadFile("stdout"), ts.Getenv("WORK")))
	fmt.Fprint(ts.Stderr(), maskRun(ts.ReadFile("stderr"), ts.Getenv("WORK")))
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("ccbulk: %v", err)
		}
		got = ee.ExitCode()
	}
	switch {
	case neg && want == 0:
		if got == 0 {
			ts.Fatalf("ccbulk succeeded unexpectedly")
		}
	case got != want:
		ts.Fatalf("ccbulk exited %d, want %d", got, want)
	}
}

var (
	jsonTimes   = regexp.MustCompile(`"(started_at|finished_at)":( ?)"[^"]*"`)
	jsonVersion = regexp.MustCompile(`"version":( ?)"[^"]*"`)
	// userVersion is the number of an export's Version cell, the last
	// cell of a CSV line: the id of the transaction that wrote the user.
	userVersion = regexp.MustCompile(`(?m)@[0-9]+(\r?)$`)
)

// maskVersions writes the number of every Version cell of a CSV export as
// N (ORG@N): it is the id of the database transaction that last wrote the
// user, which depends on everything the server ran before.
func maskVersions(s string) string {
	return userVersion.ReplaceAllString(s, "@N$1")
}

// unversion copies a CSV export with the numbers of its Versions masked:
// "unversion FILE COPY". The organization each Version names stays, so
// that COPY can be compared with a golden file.
func unversion(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unversion FILE COPY")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(maskVersions(string(data))), 0o666))
}

// runSQL runs SQL on the script's database, as a change made outside
// ccbulk would: "sql STATEMENT". Rows a query returns go to stdout, one
// line each, cells separated by "|".
func runSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sql STATEMENT")
	}
	db, err := sql.Open("postgres", ts.Getenv("DATABASE_URL"))
	ts.Check(err)
	defer db.Close()
	rows, err := db.Query(args[0])
	if neg {
		if err == nil {
			rows.Close()
			ts.Fatalf("sql succeeded unexpectedly")
		}
		return
	}
	ts.Check(err)
	defer rows.Close()
	cols, err := rows.Columns()
	ts.Check(err)
	for rows.Next() {
		cells := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		ts.Check(rows.Scan(ptrs...))
		line := make([]string, len(cells))
		for i, c := range cells {
			line[i] = c.String
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(line, "|"))
	}
	ts.Check(rows.Err())
}

// maskRun masks what differs between two runs of the same script: the
// times and version in JSON ("TIME", "VERSION"), and the script's
// directory ($WORK).
func maskRun(out, work string) string {
	out = jsonTimes.ReplaceAllString(out, `"$1":$2"TIME"`)
	out = jsonVersion.ReplaceAllString(out, `"version":$1"VERSION"`)
	out = maskVersions(out)
	if work != "" {
		out = strings.ReplaceAll(out, work, "$WORK")
	}
	return out
}
