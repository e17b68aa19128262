package sheet_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/sheet"
)

// extentOf opens path, reads every row and returns the reader's extent
// before and after the rows.
func extentOf(t *testing.T, path string, stdin io.Reader) (before, after sheet.Extent) {
	t.Helper()
	r, err := sheet.Open(path, stdin, sheet.Options{})
	must(t, err)
	defer r.Close()
	er, ok := r.(sheet.ExtentReader)
	if !ok {
		t.Fatalf("the reader of %s tells no extent", path)
	}
	before = er.Extent()
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
	}
	return before, er.Extent()
}

// TestCSVExtent: a CSV file of known size has read all its bytes at the
// end; standard input has no total.
func TestCSVExtent(t *testing.T) {
	data := "Email,Status\n" + strings.Repeat("someone@x.example,Active\n", 20_000)
	path := writeFile(t, "users.csv", []byte(data))
	before, after := extentOf(t, path, nil)
	if before.TotalBytes != int64(len(data)) || before.BytesRead >= before.TotalBytes {
		t.Errorf("after the header: %+v, want a total of %d and less read", before, len(data))
	}
	if after.BytesRead != int64(len(data)) || after.TotalBytes != int64(len(data)) {
		t.Errorf("at the end: %+v, want %d of %d bytes", after, len(data), len(data))
	}
	_, after = extentOf(t, "-", strings.NewReader(data))
	if after.TotalBytes != 0 || after.BytesRead != int64(len(data)) {
		t.Errorf("standard input at the end: %+v, want %d bytes read of an unknown total", after, len(data))
	}
}

func dimensionSheet(ref string) []byte {
	dim := ""
	if ref != "" {
		dim = `<dimension ref="` + ref + `"/>`
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + dim + `<sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>a@x.example</t></is></c></row>` +
		`</sheetData></worksheet>`)
}

// TestXLSXDeclaredRows: the rows a worksheet declares in its dimension,
// the header aside; none when the element is absent or its ref malformed.
func TestXLSXDeclaredRows(t *testing.T) {
	for _, tc := range []struct {
		name, ref string
		want      int
	}{
		{"present", "A1:P12345", 12344},
		{"absolute", "$A$1:$P$101", 100},
		{"lower case", "a1:p11", 10},
		{"header only", "A1:P1", 0},
		{"one cell", "A1", 0},
		{"absent", "", 0},
		{"no row", "A1:P", 0},
		{"no column", "A1:12345", 0},
		{"row zero", "A1:P0", 0},
		{"past the last row", "A1:P2000000", 0},
		{"signed", "A1:P+5", 0},
		{"not a reference", "bogus", 0},
		{"empty start", ":P10", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := craft(t, map[string]part{"xl/worksheets/sheet1.xml": {data: dimensionSheet(tc.ref)}})
			before, after := extentOf(t, path, nil)
			if before.DeclaredRows != tc.want || after.DeclaredRows != tc.want {
				t.Errorf("ref %q: declared rows %d (after reading %d), want %d", tc.ref, before.DeclaredRows, after.DeclaredRows, tc.want)
			}
		})
	}
	// A dimension far from the start of the worksheet is not looked for.
	late := strings.Replace(string(dimensionSheet("A1:P101")), "<dimension", "<sheetPr>"+strings.Repeat("<x/>", 20_000)+"</sheetPr><dimension", 1)
	path := craft(t, map[string]part{"xl/worksheets/sheet1.xml": {data: []byte(late)}})
	if _, after := extentOf(t, path, nil); after.DeclaredRows != 0 {
		t.Errorf("a dimension after 80 KB: declared rows %d, want 0 (not looked for)", after.DeclaredRows)
	}
	// A worksheet stored elsewhere is found through the relationships.
	path = craft(t, map[string]part{
		"xl/_rels/workbook.xml.rels": {data: movedSheetRels(t, "worksheets/data.xml")},
		"xl/worksheets/data.xml":     {data: dimensionSheet("A1:B51")},
	})
	if _, after := extentOf(t, path, nil); after.DeclaredRows != 50 {
		t.Errorf("moved worksheet: declared rows %d, want 50", after.DeclaredRows)
	}
}
