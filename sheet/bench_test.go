package sheet_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// benchSheet returns a CSV of n users with every template column filled
// the way an export fills it, names with diacritics included.
func benchSheet(n int) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(schema.Headers()) // into memory; Error below reports a failure
	firsts := []string{"Łukasz", "Hélène", "Jürgen", "Begoña", "Siobhán", "Zofia"}
	lasts := []string{"Wójcik", "Lefèvre", "Müller", "Peña", "O'Brien", "Dąbrowska"}
	for i := range n {
		first, last := firsts[i%len(firsts)], lasts[i%len(lasts)]
		_ = w.Write([]string{
			fmt.Sprintf("user.%d@acme.example", i), first, last, first + " " + last, fmt.Sprintf("u%d", i),
			[]string{"paris", "warsaw"}[i%2], "Active", "", []string{"TRUE", "FALSE"}[i%3%2], "FALSE",
			"FALSE", "FALSE", "FALSE", "", "", "",
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// BenchmarkReadAndParse reads a CSV and parses every row's cells: the
// per-row work of an import before the database and the validator.
func BenchmarkReadAndParse(b *testing.B) {
	const rows = 10_000
	data := benchSheet(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src, err := sheet.Open("-", bytes.NewReader(data), sheet.Options{})
		if err != nil {
			b.Fatal(err)
		}
		layout, err := sheet.MatchHeader("bench.csv", src.Header())
		if err != nil {
			b.Fatal(err)
		}
		headers := schema.Headers()
		var hs [schema.NumColumns]string
		copy(hs[:], headers)
		n := 0
		for {
			rec, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			fields := rec.Fields
			in, fs := rules.ParseRow(rec.Row, func(c schema.Column) string { return layout.Cell(fields, c) }, hs)
			if len(fs) > 0 || in.Email == "" {
				b.Fatalf("row %d: %v", rec.Row, fs)
			}
			n++
		}
		src.Close()
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// BenchmarkRead reads a CSV without parsing the cells.
func BenchmarkRead(b *testing.B) {
	const rows = 10_000
	data := benchSheet(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src, err := sheet.Open("-", bytes.NewReader(data), sheet.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := src.Next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		src.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// BenchmarkUnescapeFormula takes the formula escapes off the cells of a
// row as a reader does, every cell of every row: most hold no apostrophe.
func BenchmarkUnescapeFormula(b *testing.B) {
	row := []string{"lukasz.wojcik.17@acme.example", "Łukasz", "Wójcik", "Łukasz Wójcik", "lwojcik17", "warsaw",
		"Active", "", "TRUE", "FALSE", "FALSE", "FALSE", "FALSE", "Supervisors", "", "", "O'Brien", "'=1+2"}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range row {
			_ = sheet.UnescapeFormula(c)
		}
	}
}
