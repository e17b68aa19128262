package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// newBook builds a workbook cell by cell with excelize's ordinary API, the
// way other programs write them: shared strings, real booleans, numbers
// with number formats.
func newBook(t *testing.T, build func(f *excelize.File)) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "book.xlsx", buf.Bytes())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestXLSXCells(t *testing.T) {
	path := newBook(t, func(f *excelize.File) {
		must(t, f.SetSheetName("Sheet1", "Utilisateurs"))
		must(t, f.SetSheetRow("Utilisateurs", "A1", &[]any{"Email", "Username", "Contact Center Premium", "Contact Center Standard", "Display Name", "PBX"}))
		// Row 2: a username typed as text keeps its zeros; real booleans.
		must(t, f.SetCellStr("Utilisateurs", "A2", "zofia@acme.example"))
		must(t, f.SetCellStr("Utilisateurs", "B2", "00123"))
		must(t, f.SetCellBool("Utilisateurs", "C2", true))
		must(t, f.SetCellBool("Utilisateurs", "D2", false))
		must(t, f.SetCellStr("Utilisateurs", "E2", "Zofia Wiśniewska"))
		// Row 3 and 4 blank (row 4 holds an empty string and a styled empty cell).
		must(t, f.SetCellStr("Utilisateurs", "B4", ""))
		style, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
		must(t, err)
		must(t, f.SetCellStyle("Utilisateurs", "C4", "C4", style))
		// Row 5: numbers as Excel shows them; a formula-looking text.
		must(t, f.SetCellStr("Utilisateurs", "A5", "jean@acme.example"))
		must(t, f.SetCellInt("Utilisateurs", "B5", 4711))
		zeros, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("00000")})
		must(t, err)
		must(t, f.SetCellInt("Utilisateurs", "F5", 42))
		must(t, f.SetCellStyle("Utilisateurs", "F5", "F5", zeros))
		must(t, f.SetCellStr("Utilisateurs", "E5", "=1+1"))
		must(t, f.SetCellFloat("Utilisateurs", "D5", 1.5, -1, 64))
		// Row 7: numbers in a column formatted as Text (@), a long
		// number, and a float shown with Excel's 15 digits.
		must(t, f.SetCellStr("Utilisateurs", "A7", "piotr@acme.example"))
		text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
		must(t, err)
		must(t, f.SetCellInt("Utilisateurs", "B7", 123))
		must(t, f.SetCellStyle("Utilisateurs", "B7", "B7", text))
		must(t, f.SetCellInt("Utilisateurs", "E7", 48221234567))
		must(t, f.SetCellFloat("Utilisateurs", "F7", 0.1+0.2, -1, 64))
		// A CSV cell neutralized by ccbulk, saved as XLSX by a spreadsheet
		// program, keeps its apostrophe as text: it is read without it.
		must(t, f.SetCellStr("Utilisateurs", "C7", "'-Marie"))
		// Row 6: a formula's cached result is read, not the formula.
		must(t, f.SetCellStr("Utilisateurs", "A6", "anna@acme.example"))
		must(t, f.SetCellFormula("Utilisateurs", "C6", "TRUE()"))
		must(t, f.SetCellValue("Utilisateurs", "C6", true))
		// A second sheet.
		_, err = f.NewSheet("Other")
		must(t, err)
		must(t, f.SetSheetRow("Other", "A1", &[]any{"Email", "Status"}))
		must(t, f.SetSheetRow("Other", "A3", &[]any{"b@x.example", "Inactive"}))
	})
	got, err := readAll(t, path, sheet.Options{})
	must(t, err)
	want := []string{
		"1: Email|Username|Contact Center Premium|Contact Center Standard|Display Name|PBX",
		"2: zofia@acme.example|00123|TRUE|FALSE|Zofia Wiśniewska",
		"5: jean@acme.example|4711||1.5|=1+1|00042",
		"6: anna@acme.example||TRUE",
		"7: piotr@acme.example|123|-Marie||48221234567|0.3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("first sheet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got, err = readAll(t, path, sheet.Options{Sheet: "Other"})
	must(t, err)
	if want := "1: Email|Status\n3: b@x.example|Inactive"; strings.Join(got, "\n") != want {
		t.Errorf("--sheet Other:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	_, err = readAll(t, path, sheet.Options{Sheet: "Users"})
	wantErr := `F-FORMAT: the workbook has no sheet "Users"; its sheets are "Utilisateurs", "Other"`
	if err == nil || !strings.HasSuffix(err.Error(), wantErr) {
		t.Errorf("--sheet Users: got %v, want …%s", err, wantErr)
	}
}

func ptr[T any](v T) *T { return &v }

// TestXLSXValuesUnderBlankHeader: values in a column whose header cell is
// blank, in the middle of the header or after its last cell, are ignored
// and the columns named once by their letters (docs/REFERENCE.md §2, The sheet: W-UNKNOWN-COLUMN);
// the rows are read.
func TestXLSXValuesUnderBlankHeader(t *testing.T) {
	path := newBook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Email", nil, "Status"}))
		must(t, f.SetSheetRow("Sheet1", "A2", &[]any{"a@x.example", nil, "Active"}))
		must(t, f.SetSheetRow("Sheet1", "A3", &[]any{"b@x.example", "note", "Active", nil, "stray"}))
		must(t, f.SetSheetRow("Sheet1", "A4", &[]any{"c@x.example", "  ", "Inactive", nil, nil, "more"}))
		must(t, f.SetSheetRow("Sheet1", "A5", &[]any{"d@x.example", nil, "Active", nil, "again"}))
	})
	r, err := sheet.Open(path, nil, sheet.Options{})
	must(t, err)
	defer r.Close()
	var got []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		got = append(got, fmt.Sprintf("%d: %q", rec.Row, rec.Fields))
	}
	want := []string{`2: ["a@x.example" "" "Active"]`, `3: ["b@x.example" "note" "Active"]`,
		`4: ["c@x.example" "  " "Inactive"]`, `5: ["d@x.example" "" "Active"]`}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	u, ok := r.(sheet.UnnamedColumnsReader)
	if !ok {
		t.Fatal("the XLSX reader does not name its unnamed columns")
	}
	if cols := u.UnnamedColumns(); !slices.Equal(cols, []string{"B", "E", "F"}) {
		t.Errorf("unnamed columns %q, want B, E, F", cols)
	}
}

// template is a small honest workbook whose parts the crafted ones replace.
func template(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Email", "Status"}))
	must(t, f.SetSheetRow("Sheet1", "A2", &[]any{"a@x.example", "Active"}))
	var buf bytes.Buffer
	must(t, f.Write(&buf))
	return buf.Bytes()
}

// part is a crafted zip entry: its content, or for a raw entry the
// compressed bytes and the size its header declares.
type part struct {
	data     []byte
	raw      bool
	declared uint64
}

// craft returns the template workbook with parts replaced or added.
func craft(t *testing.T, parts map[string]part) string {
	t.Helper()
	src := template(t)
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	must(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name string, p part) {
		if p.raw {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, UncompressedSize64: p.declared, CompressedSize64: uint64(len(p.data))})
			must(t, err)
			_, err = w.Write(p.data)
			must(t, err)
			return
		}
		method := zip.Deflate
		if len(p.data) == 0 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		must(t, err)
		_, err = w.Write(p.data)
		must(t, err)
	}
	for _, zf := range zr.File {
		if p, ok := parts[zf.Name]; ok {
			write(zf.Name, p)
			delete(parts, zf.Name)
			continue
		}
		rc, err := zf.Open()
		must(t, err)
		data, err := io.ReadAll(rc)
		must(t, err)
		write(zf.Name, part{data: data})
	}
	for name, p := range parts {
		write(name, p)
	}
	must(t, zw.Close())
	return writeFile(t, "crafted.xlsx", buf.Bytes())
}

// deflated compresses data the way a zip entry holds it.
func deflated(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("x")
	must(t, err)
	_, err = w.Write(data)
	must(t, err)
	must(t, zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	must(t, err)
	rc, err := zr.File[0].OpenRaw()
	must(t, err)
	raw, err := io.ReadAll(rc)
	must(t, err)
	return raw
}

func sheetXML(rows string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + rows + `</sheetData></worksheet>`)
}

// TestXLSXHostile: workbooks built to exhaust memory or disk are refused
// with F-LIMIT (or F-FORMAT when they are not workbooks at all) before
// excelize unpacks them.
func TestXLSXHostile(t *testing.T) {
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>`
	wideRow := `<row r="2">` + strings.Repeat(`<c t="inlineStr"><is><t>x</t></is></c>`, 20_000) + `</row>`
	bomb := bytes.Repeat([]byte(" "), 3<<20)
	for _, tc := range []struct {
		name   string
		parts  map[string]part
		file   []byte // instead of parts
		limits sheet.Limits
		rule   schema.RuleID
		want   string
	}{
		{name: "zip bomb: a worksheet inflating past --max-unzip-size",
			parts:  map[string]part{"xl/worksheets/sheet1.xml": {data: append(sheetXML(header), bomb...)}},
			limits: sheet.Limits{MaxUnzipSize: 2 << 20}, rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: the workbook decompresses to more than 2MiB (--max-unzip-size); it is not an honest sheet of users, or raise the limit"},
		{name: "zip bomb over the default limit (declared sizes)",
			parts: map[string]part{"xl/worksheets/sheet2.xml": {raw: true, data: deflated(t, sheetXML("")), declared: 5 << 30}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: the workbook decompresses to more than 4GiB (--max-unzip-size); it is not an honest sheet of users, or raise the limit"},
		{name: "a part that inflates past its declared size",
			parts: map[string]part{"xl/worksheets/sheet1.xml": {raw: true, data: deflated(t, append(sheetXML(header), bomb...)), declared: 4096}},
			rule:  schema.FFormat,
			want:  "crafted.xlsx: F-FORMAT: part xl/worksheets/sheet1.xml of the workbook is corrupt (zip: not a valid zip file); save it again from the spreadsheet program"},
		{name: "a styles part too large to hold in memory",
			parts:  map[string]part{"xl/styles.xml": {data: append([]byte(`<styleSheet>`), bomb...)}},
			limits: sheet.Limits{MaxXMLSize: 1 << 20}, rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: part xl/styles.xml of the workbook decompresses to 3145740 bytes, over the limit of 1MiB (--max-xml-size); it is not an honest sheet of users, or raise the limit"},
		{name: "many small worksheets held in memory",
			parts: func() map[string]part {
				m := map[string]part{}
				for i := 2; i <= 10; i++ {
					m[fmt.Sprintf("xl/worksheets/sheet%d.xml", i)] = part{data: bomb[:1<<20]}
				}
				return m
			}(),
			limits: sheet.Limits{MaxXMLSize: 1 << 20}, rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: the parts of the workbook held in memory add up to more than 8MiB (8 × --max-xml-size); it is not an honest sheet of users, or raise the limit"},
		{name: "too many parts",
			parts: func() map[string]part {
				m := map[string]part{}
				for i := range 10_001 {
					m[fmt.Sprintf("xl/media/image%d.png", i)] = part{}
				}
				return m
			}(),
			rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: the workbook has 10011 parts, over the limit of 10000; it is not an honest sheet of users"},
		{name: "a header spanning every column",
			parts: map[string]part{"xl/worksheets/sheet1.xml": {data: sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>`)}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx:1: F-LIMIT: the header has 16384 columns, over the limit of 1024; remove the extra columns"},
		{name: "a row of cells without references",
			parts: map[string]part{"xl/worksheets/sheet1.xml": {data: sheetXML(header + wideRow)}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: part xl/worksheets/sheet1.xml of the workbook: row element 2 has more than 16384 cells; it is not an honest sheet of users"},
		{name: "a giant cell",
			parts: map[string]part{"xl/worksheets/sheet1.xml": {data: sheetXML(header + `<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("a", 2<<20) + `</t></is></c></row>`)}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: part xl/worksheets/sheet1.xml of the workbook: a text longer than 1048576 bytes; it is not an honest sheet of users"},
		{name: "a giant shared string",
			parts: map[string]part{"xl/sharedStrings.xml": {data: []byte(`<sst><si><t>` + strings.Repeat("a", 2<<20) + `</t></si></sst>`)}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: part xl/sharedStrings.xml of the workbook: a text longer than 1048576 bytes; it is not an honest sheet of users"},
		{name: "elements nested without end",
			parts: map[string]part{"xl/worksheets/sheet1.xml": {data: sheetXML(header + strings.Repeat("<a>", 100_000))}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: part xl/worksheets/sheet1.xml of the workbook: elements nested more than 256 deep; it is not an honest sheet of users"},
		{name: "a shared-strings table of many empty strings",
			parts:  map[string]part{"xl/sharedStrings.xml": {data: sharedStrings(1001)}},
			limits: sheet.Limits{MaxSharedStrings: 1000}, rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: the workbook's shared-strings table holds 1001 strings, over the limit of 1000; it is not an honest sheet of users; save the sheet as CSV UTF-8 (which has no such table) and import that, or split the workbook"},
		{name: "over the default count of shared strings (a 25 KB file)",
			parts: map[string]part{"xl/sharedStrings.xml": {data: sharedStrings(1_000_001)}},
			rule:  schema.FLimit,
			want:  "crafted.xlsx: F-LIMIT: the workbook's shared-strings table holds 1000001 strings, over the limit of 1000000; it is not an honest sheet of users; save the sheet as CSV UTF-8 (which has no such table) and import that, or split the workbook"},
		{name: "a shared-strings table too large",
			parts:  map[string]part{"xl/sharedStrings.xml": {data: append([]byte(`<sst>`), bomb...)}},
			limits: sheet.Limits{MaxSharedStringsSize: 1 << 20}, rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: the workbook's shared-strings table decompresses to 3145733 bytes, over the limit of 1MiB; it is not an honest sheet of users; save the sheet as CSV UTF-8 (which has no such table) and import that, or split the workbook"},
		{name: "a worksheet stored at another path, nested without end",
			parts: map[string]part{
				"xl/_rels/workbook.xml.rels": {data: movedSheetRels(t, "worksheets/data.xml")},
				"xl/worksheets/data.xml":     {data: sheetXML(header + strings.Repeat("<a>", 100_000))},
			},
			rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: part xl/worksheets/data.xml of the workbook: elements nested more than 256 deep; it is not an honest sheet of users"},
		{name: "a worksheet stored outside xl/worksheets, a row of cells without references",
			parts: map[string]part{
				"xl/_rels/workbook.xml.rels": {data: movedSheetRels(t, "/xl/odd/Place.xml")},
				"xl/odd/Place.xml":           {data: sheetXML(header + wideRow)},
			},
			rule: schema.FLimit,
			want: "crafted.xlsx: F-LIMIT: part xl/odd/Place.xml of the workbook: row element 2 has more than 16384 cells; it is not an honest sheet of users"},
		{name: "not a zip",
			file: []byte("Email,Status\na@x.example,Active\n"),
			rule: schema.FFormat,
			want: "crafted.xlsx: F-FORMAT: is named .xlsx but is not an XLSX workbook (an XLSX file is a zip archive; this one starts with \"Email,St\"); if it is a CSV file, name it .csv"},
		{name: "encrypted or .xls",
			file: append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 1024)...),
			rule: schema.FFormat,
			want: "crafted.xlsx: F-FORMAT: is a password-protected workbook or an Excel 97-2003 (.xls) file; save it as Excel Workbook (.xlsx) without a password, or as CSV UTF-8"},
		{name: "too many rows",
			parts:  map[string]part{"xl/worksheets/sheet1.xml": {data: sheetXML(header + `<row r="2"><c r="A2"><v>1</v></c></row><row r="4"><c r="A4"><v>2</v></c></row>`)}},
			limits: sheet.Limits{MaxRows: 1}, rule: schema.FLimit,
			want: "crafted.xlsx:4: F-LIMIT: the sheet has more than 1 data rows; split it or raise --max-rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			if tc.file != nil {
				path = writeFile(t, "crafted.xlsx", tc.file)
			} else {
				path = craft(t, tc.parts)
			}
			_, err := readAll(t, path, sheet.Options{Limits: tc.limits})
			var fe *schema.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want %s", err, tc.rule)
			}
			if fe.Rule != tc.rule {
				t.Errorf("rule %s, want %s", fe.Rule, tc.rule)
			}
			if got := strings.ReplaceAll(err.Error(), path, "crafted.xlsx"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestXLSXCraftedStillReads: the crafting helper itself yields a readable
// workbook, so the refusals above are the guard's doing; a worksheet at
// another path is the one read (so its guard matters), and a table of
// shared strings at the limit is read.
func TestXLSXCraftedStillReads(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>` +
		`<row r="3">` + strings.Repeat(`<c t="inlineStr"><is><t>x</t></is></c>`, 1) + `</row>`
	for name, parts := range map[string]map[string]part{
		"sheet1.xml": {"xl/worksheets/sheet1.xml": {data: sheetXML(rows)}},
		"data.xml": {
			"xl/_rels/workbook.xml.rels": {data: movedSheetRels(t, "worksheets/data.xml")},
			"xl/worksheets/data.xml":     {data: sheetXML(rows)},
		},
		"shared strings at the limit": {
			"xl/sharedStrings.xml":     {data: sharedStrings(1000)},
			"xl/worksheets/sheet1.xml": {data: sheetXML(rows)},
		},
	} {
		got, err := readAll(t, craft(t, parts), sheet.Options{Limits: sheet.Limits{MaxSharedStrings: 1000}})
		must(t, err)
		if want := "1: Email\n3: x"; strings.Join(got, "\n") != want {
			t.Errorf("%s: got %q, want %q", name, strings.Join(got, "\n"), want)
		}
	}
}

// sharedStrings is a shared-strings table of n empty strings.
func sharedStrings(n int) []byte {
	return []byte(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + strings.Repeat(`<si/>`, n) + `</sst>`)
}

// movedSheetRels is the template's workbook relationships with the first
// worksheet stored at target instead.
func movedSheetRels(t *testing.T, target string) []byte {
	t.Helper()
	src := template(t)
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	must(t, err)
	for _, zf := range zr.File {
		if zf.Name == "xl/_rels/workbook.xml.rels" {
			rc, err := zf.Open()
			must(t, err)
			data, err := io.ReadAll(rc)
			must(t, err)
			if !bytes.Contains(data, []byte(`Target="worksheets/sheet1.xml"`)) {
				t.Fatalf("the template's relationships name no worksheets/sheet1.xml: %s", data)
			}
			return bytes.Replace(data, []byte(`Target="worksheets/sheet1.xml"`), []byte(`Target="`+target+`"`), 1)
		}
	}
	t.Fatal("the template has no xl/_rels/workbook.xml.rels")
	return nil
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "4GiB": 4 << 30, "500MB": 500e6, "64 MiB": 64 << 20, "2g": 2 << 30, "10kb": 10e3} {
		got, err := sheet.ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "4 GB of data", "1.5GiB", "GiB", "99999999999999GiB"} {
		if got, err := sheet.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}
