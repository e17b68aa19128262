package mapping

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// FuzzParse feeds the mapping file parser arbitrary bytes, starting from
// the built-in profiles and the mapping files under fixtures/legacy. Parse
// must never panic; it either returns a profile or Errors that name the
// file and a line inside it; a profile it returns must map a header row
// made of its own sources, and map rows, without panicking.
func FuzzParse(f *testing.F) {
	for _, name := range Builtins() {
		data, _ := Builtin(name)
		f.Add(data)
	}
	files, _ := filepath.Glob("../fixtures/legacy/*.yaml")
	bad, _ := filepath.Glob("../fixtures/legacy/bad/*.yaml")
	for _, file := range append(files, bad...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(testProfile))
	f.Add([]byte("columns:\r  - source: A\r    target: Nope\r")) // lines end in a lone CR
	f.Fuzz(checkParse)
}

// checkParse is FuzzParse's check of one input.
func checkParse(t *testing.T, data []byte) {
	prof, err := Parse("f.yaml", data)
	if err != nil {
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %v is not Errors", err)
		}
		// YAML breaks lines at LF, CRLF and a lone CR.
		unix := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		lines := bytes.Count(unix, []byte("\n")) + bytes.Count(unix, []byte("\r")) + 1
		for _, e := range errs {
			if e.File != "f.yaml" || e.Line < 0 || e.Line > lines || e.Message == "" {
				t.Fatalf("bad error %#v (file has %d lines)", e, lines)
			}
		}
		if _, again := Parse("f.yaml", data); again == nil || again.Error() != err.Error() {
			t.Fatalf("Parse is not deterministic: %v, then %v", err, again)
		}
		return
	}
	var headers []string
	for _, r := range prof.Columns {
		for _, s := range r.Sources {
			headers = append(headers, strings.ReplaceAll(s, "*", "x"))
		}
	}
	headers = append(headers, "Email")
	l, err := prof.Match("in.csv", headers)
	if err != nil {
		var fe *schema.FileError
		if !errors.As(err, &fe) || fe.Rule != schema.FHeader {
			t.Fatalf("Match error %v is not F-HEADER", err)
		}
		return
	}
	var cells [schema.NumColumns]string
	for _, row := range [][]string{nil, headers, {"TRUE", "", "x"}} {
		fs := l.Cells(2, row, &cells)
		if len(fs) > len(prof.Columns) {
			t.Fatalf("%d findings for %d entries", len(fs), len(prof.Columns))
		}
	}
}
