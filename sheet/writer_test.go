package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// tricky are values a spreadsheet would run as formulas, or mangle, if
// they were not written as text.
var tricky = []string{
	"=HYPERLINK(\"http://evil.example\",\"click\")", "=1+1", "+48 22 123 45 67", "-5", "-Marie", "@admin", "@SUM(A1)",
	"\tTab", "\rCR", "'=already quoted", "''+two", "'plain apostrophe", "00123", "1e5", "TRUE", "FALSE", "2026-11-22",
	"Zażółć gęślą jaźń", "Éloïse Lefèvre-Châtelet", "Łukasz Wójcik", "  spaces around  ", "two\nlines", "a,b;c\"d",
}

// writeSheet writes a header and rows with the writer of format.
func writeSheet(t *testing.T, format sheet.Format, opts sheet.WriterOptions, header []string, rows [][]string, notes map[int][]sheet.CellNote) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := sheet.NewWriter(format, &buf, opts)
	must(t, err)
	must(t, w.WriteHeader(header))
	for i, r := range rows {
		must(t, w.WriteRow(r, notes[i]))
	}
	must(t, w.Close())
	return writeFile(t, "out."+string(format), buf.Bytes())
}

// TestWriteReadRoundTrip: every value ccbulk writes reads back as it was,
// in CSV (with each delimiter) and XLSX.
func TestWriteReadRoundTrip(t *testing.T) {
	header := []string{"Email", "Display Name", "Username"}
	var rows [][]string
	for i, v := range tricky {
		rows = append(rows, []string{"user" + string(rune('a'+i)) + "@x.example", v, v})
	}
	cases := []struct {
		name   string
		format sheet.Format
		delim  rune
	}{
		{"csv", sheet.CSV, 0}, {"csv-comma", sheet.CSV, ','}, {"csv-semicolon", sheet.CSV, ';'}, {"csv-tab", sheet.CSV, '\t'},
		{"xlsx", sheet.XLSX, 0},
	}
	for _, tc := range cases {
		format := tc.format
		t.Run(tc.name, func(t *testing.T) {
			path := writeSheet(t, format, sheet.WriterOptions{BOM: true, Delimiter: tc.delim}, header, rows, nil)
			r, err := sheet.Open(path, nil, sheet.Options{})
			must(t, err)
			defer r.Close()
			if !slices.Equal(r.Header(), header) {
				t.Errorf("header %q", r.Header())
			}
			for i, want := range rows {
				rec, err := r.Next()
				must(t, err)
				if rec.Row != i+2 {
					t.Errorf("row %d, want %d", rec.Row, i+2)
				}
				if !slices.Equal(rec.Fields, want) {
					t.Errorf("row %d: got %q, want %q", i+2, rec.Fields, want)
				}
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the last row: %v", err)
			}
		})
	}
}

// TestCSVWriterDelimiter: the header and rows are split on the delimiter
// asked for; another delimiter is refused.
func TestCSVWriterDelimiter(t *testing.T) {
	for _, d := range []rune{',', ';', '\t'} {
		var buf bytes.Buffer
		w, err := sheet.NewWriter(sheet.CSV, &buf, sheet.WriterOptions{Delimiter: d})
		must(t, err)
		must(t, w.WriteHeader([]string{"Email", "Display Name"}))
		must(t, w.WriteRow([]string{"a@x.example", "b"}, nil))
		must(t, w.Close())
		want := "Email" + string(d) + "Display Name\na@x.example" + string(d) + "b\n"
		if buf.String() != want {
			t.Errorf("delimiter %q: got %q, want %q", d, buf.String(), want)
		}
	}
	if _, err := sheet.NewWriter(sheet.CSV, io.Discard, sheet.WriterOptions{Delimiter: '|'}); err == nil {
		t.Error("delimiter '|' accepted")
	}
}

// TestCSVWriterEncoding: a CSV written in a legacy encoding or UTF-16 reads
// back with that --encoding (UTF-16 by its BOM); a character the legacy
// encoding lacks is written as "?".
func TestCSVWriterEncoding(t *testing.T) {
	for _, tc := range []struct {
		enc, read string
		value     string
		want      string
		prefix    string
	}{
		{"windows-1250", "windows-1250", "Łucja Świątek", "Łucja Świątek", "Email;"},
		{"windows-1252", "windows-1252", "Élodie → Łucja", "Élodie ? ?ucja", "Email;"},
		{"iso-8859-2", "iso-8859-2", "Żaneta Ćwik", "Żaneta Ćwik", "Email;"},
		{sheet.UTF16, "", "Łucja 😀", "Łucja 😀", "\xff\xfeE\x00"},
		{"", "", "Łucja", "Łucja", "\xef\xbb\xbfEmail;"},
	} {
		var buf bytes.Buffer
		w, err := sheet.NewWriter(sheet.CSV, &buf, sheet.WriterOptions{BOM: true, Delimiter: ';', Encoding: tc.enc})
		must(t, err)
		must(t, w.WriteHeader([]string{"Email", "Display Name"}))
		must(t, w.WriteRow([]string{"a@x.example", tc.value}, nil))
		must(t, w.Close())
		if !strings.HasPrefix(buf.String(), tc.prefix) {
			t.Errorf("%s: starts %q, want %q", tc.enc, buf.String()[:8], tc.prefix)
		}
		path := writeFile(t, "enc.csv", buf.Bytes())
		r, err := sheet.Open(path, nil, sheet.Options{Encoding: tc.read})
		must(t, err)
		rec, err := r.Next()
		must(t, err)
		if rec.Fields[1] != tc.want {
			t.Errorf("%s: read back %q, want %q", tc.enc, rec.Fields[1], tc.want)
		}
		if d := r.(sheet.DialectReader).Dialect(); d.Delimiter != ';' || !strings.EqualFold(d.Encoding, tc.read) && tc.enc != sheet.UTF16 {
			t.Errorf("%s: dialect %+v", tc.enc, d)
		}
		r.Close()
	}
	if _, err := sheet.NewWriter(sheet.CSV, io.Discard, sheet.WriterOptions{Encoding: "koi8-r"}); err == nil {
		t.Error("encoding koi8-r accepted")
	}
}

// TestCSVWriterNeutralizes: in the CSV bytes, every cell a spreadsheet
// would run as a formula starts with an apostrophe.
func TestCSVWriterNeutralizes(t *testing.T) {
	path := writeSheet(t, sheet.CSV, sheet.WriterOptions{BOM: true}, []string{"Email", "First Name"},
		[][]string{{"a@x.example", "=1+1"}, {"b@x.example", "-5"}, {"c@x.example", "Zoé"}, {"d@x.example", "'=x"}, {"e@x.example", "@a"}, {"f@x.example", "+1"}}, nil)
	data, err := os.ReadFile(path)
	must(t, err)
	want := "\uFEFFEmail,First Name\na@x.example,'=1+1\nb@x.example,'-5\nc@x.example,Zoé\nd@x.example,''=x\ne@x.example,'@a\nf@x.example,'+1\n"
	if string(data) != want {
		t.Errorf("got\n%q\nwant\n%q", data, want)
	}
}

// partXML returns one part of an XLSX file.
func partXML(t *testing.T, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	must(t, err)
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			must(t, err)
			defer rc.Close()
			b, err := io.ReadAll(rc)
			must(t, err)
			return string(b)
		}
	}
	t.Fatalf("%s has no part %s", filepath.Base(path), name)
	return ""
}

// TestXLSXWriterFeatures opens a written workbook back and checks what an
// administrator sees: bold frozen header, autofilter, widths, drop-downs on
// the flag columns, highlighted cells with comments, instructions, and
// every cell typed text.
func TestXLSXWriterFeatures(t *testing.T) {
	header := schema.Headers()
	row := make([]string, len(header))
	row[schema.ColEmail], row[schema.ColFirstName], row[schema.ColPremium] = "a@x.example", "=1+1", "yes"
	row2 := make([]string, len(header))
	row2[schema.ColEmail], row2[schema.ColUsername] = "b@x.example", "00123"
	notes := map[int][]sheet.CellNote{0: {{Col: int(schema.ColPremium), Text: `R-BOOL: "yes" is not TRUE or FALSE`}}}
	path := writeSheet(t, sheet.XLSX, sheet.WriterOptions{SheetName: "Users", Instructions: []string{"How to fill in this sheet", "", "One row per user."}},
		header, [][]string{row, row2}, notes)

	f, err := excelize.OpenFile(path)
	must(t, err)
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Users", "Instructions"}) {
		t.Errorf("sheets %q", got)
	}
	// The header: bold, frozen.
	for i, h := range header {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if v, _ := f.GetCellValue("Users", cell); v != h {
			t.Errorf("%s = %q, want %q", cell, v, h)
		}
		id, err := f.GetCellStyle("Users", cell)
		must(t, err)
		st, err := f.GetStyle(id)
		must(t, err)
		if st.Font == nil || !st.Font.Bold {
			t.Errorf("header cell %s is not bold", cell)
		}
		width, err := f.GetColWidth("Users", columnName(i))
		must(t, err)
		if width < 12 || width > 40 {
			t.Errorf("column %s is %g wide", columnName(i), width)
		}
	}
	panes, err := f.GetPanes("Users")
	must(t, err)
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, want the first row frozen", panes)
	}
	// The autofilter covers the header and every row.
	last := columnName(len(header)-1) + "3"
	ws := partXML(t, path, "xl/worksheets/sheet1.xml")
	if !strings.Contains(strings.ReplaceAll(ws, "$", ""), `<autoFilter ref="A1:`+last+`"`) {
		t.Errorf("no autofilter A1:%s in the worksheet", last)
	}
	cols := regexp.MustCompile(`<col min="(\d+)"`).FindAllStringSubmatch(ws, -1)
	if len(cols) != len(header) {
		t.Errorf("%d <col> widths, want %d", len(cols), len(header))
	}
	for i, c := range cols {
		if c[1] != strconv.Itoa(i+1) {
			t.Errorf("<col> %d is column %s: Excel wants them in ascending order", i+1, c[1])
		}
	}
	if dn := f.GetDefinedName(); len(dn) != 1 || dn[0].Name != "_xlnm._FilterDatabase" || !strings.HasSuffix(dn[0].RefersTo, "$A$1:$"+columnName(len(header)-1)+"$3") {
		t.Errorf("defined names %+v", dn)
	}
	// Drop-downs on exactly the flag columns.
	dvs, err := f.GetDataValidations("Users")
	must(t, err)
	var got, want []string
	for _, dv := range dvs {
		if dv.Type != "list" || dv.Formula1 != `"TRUE,FALSE"` {
			t.Errorf("validation %s: %s %s", dv.Sqref, dv.Type, dv.Formula1)
		}
		got = append(got, dv.Sqref)
	}
	for c := range schema.NumColumns {
		if c.IsFlag() {
			want = append(want, columnName(int(c))+"2:"+columnName(int(c))+"1048576")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("drop-downs on %q, want %q", got, want)
	}
	// The finding: a comment on the cell, highlighted.
	comments, err := f.GetComments("Users")
	must(t, err)
	premium := columnName(int(schema.ColPremium)) + "2"
	if len(comments) != 1 || comments[0].Cell != premium || comments[0].Text != `R-BOOL: "yes" is not TRUE or FALSE` {
		t.Errorf("comments %+v, want one on %s", comments, premium)
	}
	id, err := f.GetCellStyle("Users", premium)
	must(t, err)
	st, err := f.GetStyle(id)
	must(t, err)
	if len(st.Fill.Color) == 0 || st.Fill.Color[0] != "FFC7CE" {
		t.Errorf("%s fill %+v, want highlighted", premium, st.Fill)
	}
	// Every cell is text; nothing is a formula.
	if strings.Contains(ws, "<f>") || strings.Contains(ws, "<f ") {
		t.Error("the worksheet holds a formula")
	}
	for _, cell := range []string{"A2", "B2", columnName(int(schema.ColUsername)) + "3"} {
		typ, err := f.GetCellType("Users", cell)
		must(t, err)
		if typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want an inline string", cell, typ)
		}
	}
	if v, _ := f.GetCellValue("Users", "B2"); v != "=1+1" {
		t.Errorf("B2 = %q", v)
	}
	// The instructions.
	rows, err := f.GetRows("Instructions")
	must(t, err)
	if len(rows) != 3 || rows[0][0] != "How to fill in this sheet" || rows[2][0] != "One row per user." {
		t.Errorf("instructions %q", rows)
	}
}

func columnName(i int) string {
	s, _ := excelize.ColumnNumberToName(i + 1)
	return s
}

// FuzzFormulaEscape: no fragment of EscapeFormula's output, split on a
// comma, a semicolon or a tab, starts with a formula trigger, and
// UnescapeFormula gives back the original of EscapeFormula
// and EscapeText.
func FuzzFormulaEscape(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Add("a;=1+2;b")
	f.Add("x,'=y")
	f.Add(",\t=")
	f.Add("a\t\t-1;;@x,+")
	f.Fuzz(func(t *testing.T, s string) {
		e := sheet.EscapeFormula(s)
		// However a spreadsheet splits the cell (on commas, semicolons or
		// tabs), no fragment starts with a formula trigger.
		for _, sep := range []string{",", ";", "\t"} {
			for i, frag := range strings.Split(e, sep) {
				if frag != "" && strings.ContainsRune("=+-@\t\r", rune(frag[0])) {
					t.Errorf("EscapeFormula(%q) = %q: split on %q, fragment %d %q runs as a formula", s, e, sep, i, frag)
				}
			}
		}
		if back := sheet.UnescapeFormula(e); back != s {
			t.Errorf("UnescapeFormula(EscapeFormula(%q)) = %q", s, back)
		}
		if back := sheet.UnescapeFormula(sheet.EscapeText(s)); back != s {
			t.Errorf("UnescapeFormula(EscapeText(%q)) = %q", s, back)
		}
	})
}
