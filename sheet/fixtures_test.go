package sheet_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/sheet"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/fixtures")

// TestFixtures reads every sheet in fixtures/spreadsheets, written by
// LibreOffice and openpyxl (fixtures/spreadsheets/make.sh), and compares
// what ccbulk reads with testdata/fixtures/NAME.golden: each row number
// and its cells, quoted.
func TestFixtures(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "spreadsheets")
	entries, err := os.ReadDir(dir)
	must(t, err)
	cases := 0
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != ".csv" && ext != ".txt" && ext != ".xlsx" {
			continue
		}
		opts := sheet.Options{}
		for enc := range sheet.Encodings {
			if strings.Contains(name, enc) {
				opts.Encoding = enc
			}
		}
		variants := map[string]sheet.Options{name: opts}
		if ext == ".xlsx" {
			// The second sheet, by name (--sheet).
			second := "Notes"
			if strings.Contains(name, "-pl") {
				second = "Notatki"
			}
			variants[name+"@"+second] = sheet.Options{Sheet: second}
		}
		for golden, opts := range variants {
			cases++
			t.Run(golden, func(t *testing.T) {
				got := dump(t, filepath.Join(dir, name), opts)
				path := filepath.Join("testdata", "fixtures", golden+".golden")
				if *update {
					must(t, os.MkdirAll(filepath.Dir(path), 0o755))
					must(t, os.WriteFile(path, []byte(got), 0o644))
					return
				}
				want, err := os.ReadFile(path)
				must(t, err)
				if got != string(want) {
					t.Errorf("%s reads as\n%s\nwant (%s)\n%s", name, got, path, want)
				}
			})
		}
	}
	if cases < 10 {
		t.Errorf("found %d fixture sheets in %s; run fixtures/spreadsheets/make.sh", cases, dir)
	}
}

// dump renders what the reader yields: the header as row 1, then every
// record; a file-level error ends the dump.
func dump(t *testing.T, path string, opts sheet.Options) string {
	t.Helper()
	var b strings.Builder
	r, err := sheet.Open(path, nil, opts)
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), path, filepath.Base(path)) + "\n"
	}
	defer r.Close()
	line := func(row int, cells []string) {
		q := make([]string, len(cells))
		for i, c := range cells {
			q[i] = fmt.Sprintf("%q", c)
		}
		fmt.Fprintf(&b, "%d: %s\n", row, strings.Join(q, " "))
	}
	line(1, r.Header())
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			return b.String() + "error: " + strings.ReplaceAll(err.Error(), path, filepath.Base(path)) + "\n"
		}
		line(rec.Row, rec.Fields)
	}
}
