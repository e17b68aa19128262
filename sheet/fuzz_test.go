package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
)

// The fuzz targets of package sheet. 'go test' runs each on its seed corpus
// (the f.Add calls and testdata/fuzz/NAME); 'make fuzz' explores further.

// fuzzLimits keep one fuzz input cheap: a hostile file is refused with
// F-LIMIT long before it costs real memory.
var fuzzLimits = Limits{MaxRows: 10_000, MaxColumns: 256, MaxUnzipSize: 32 << 20, MaxXMLSize: 8 << 20}

var fuzzEncodings = []string{"", "windows-1250", "windows-1252", "iso-8859-2"}

// FuzzCSVReader feeds arbitrary bytes to the CSV reader (through the
// standard-input path, in every --encoding). Whatever the bytes, the reader
// must not panic, must fail only with a *schema.FileError naming the file,
// and must yield rows whose spreadsheet numbers increase, whose cells are
// valid UTF-8 and fit under the header.
func FuzzCSVReader(f *testing.F) {
	seeds := []string{
		"Email\n",
		"Email,First Name\na@b.example,Ann\n",
		"\uFEFFEmail;Status;Contact Center Premium\r\nx@y.example;Active;VRAI\r\n",
		"Email\tPBX\nx@y.example\tparis\n",
		"\"Email\",\"Display Name\"\n\"a@b.example\",\"two\nlines\"\n\nc@d.example,\"\"\"quoted\"\"\"\n",
		"Email\n'=1+1\n'-2\n",
		"Email,First Name\na@b.example,\"unterminated\n",
		"Email,First Name\na@b.example,Ann,extra\n",
		"Email,First Name\na@b.example\n",
		"Email\na\x00b@c.example\n",
		"Email\n\xff\xfe@bad.example\n",
		"\xff\xfeE\x00m\x00a\x00i\x00l\x00\n\x00",
		"E\x00m\x00a\x00i\x00l\x00\n\x00",
		"Email,Nazwisko\nz@w.example,Wi\xb6niewska\n",
		"\n\n\n",
		"",
		"Email,Email\na@b.example,c@d.example\n",
		"Email,First Name,Row,Status,Findings\na@b.example,Ann,2,error,R-BOOL: x\n",
		"Email,First Name,Row,Result,Findings\na@b.example,Ann,2,error,R-BOOL: x\n",
	}
	for _, s := range seeds {
		for enc := range fuzzEncodings {
			f.Add([]byte(s), uint8(enc))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		opts := Options{Encoding: fuzzEncodings[int(enc)%len(fuzzEncodings)], Limits: fuzzLimits}
		r, err := Open("-", bytes.NewReader(data), opts)
		if err != nil {
			checkFileError(t, err, "<stdin>", 0)
			return
		}
		defer r.Close()
		checkRecords(t, r, "<stdin>")
	})
}

// FuzzXLSXReader feeds arbitrary bytes, named .xlsx, to the XLSX reader,
// seeded with small valid workbooks: the reader must not panic, must fail
// only with a *schema.FileError, and must yield sane rows.
func FuzzXLSXReader(f *testing.F) {
	for _, book := range seedWorkbooks(f) {
		f.Add(book)
	}
	f.Add([]byte("Email\na@b.example\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		readXLSXBytes(t, data)
	})
}

// FuzzXLSXParts keeps the zip container valid and fuzzes the XML inside
// it (the worksheet and the shared strings), which random bytes of a whole
// workbook rarely reach past the zip checksums.
func FuzzXLSXParts(f *testing.F) {
	books := seedWorkbooks(f)
	for _, book := range books {
		parts := zipParts(f, book)
		f.Add(parts["xl/worksheets/sheet1.xml"], parts["xl/sharedStrings.xml"], uint8(0))
	}
	f.Add([]byte(`<worksheet><sheetData><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>Email</t></is></c></row></sheetData></worksheet>`), []byte{}, uint8(1))
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>99</v></c></row></sheetData></worksheet>`), []byte(`<sst><si><t>Email</t></si></sst>`), uint8(2))
	f.Fuzz(func(t *testing.T, sheetXML, sharedStrings []byte, which uint8) {
		base := zipParts(t, books[int(which)%len(books)])
		base["xl/worksheets/sheet1.xml"] = sheetXML
		if len(sharedStrings) > 0 {
			base["xl/sharedStrings.xml"] = sharedStrings
		}
		readXLSXBytes(t, rezip(t, base))
	})
}

func readXLSXBytes(t *testing.T, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fuzz.xlsx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, nil, Options{Limits: fuzzLimits})
	if err != nil {
		checkFileError(t, err, path, 0)
		return
	}
	defer r.Close()
	checkRecords(t, r, path)
}

// checkRecords reads every record of r and checks what a reader promises.
func checkRecords(t *testing.T, r Reader, name string) {
	t.Helper()
	header := r.Header()
	if isBlank(header) || len(header) > fuzzLimits.MaxColumns {
		t.Fatalf("header of %d cells", len(header))
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			t.Fatalf("header cell %q is not valid UTF-8", h)
		}
	}
	prev := 1
	for n := 0; ; n++ {
		if n > fuzzLimits.MaxRows {
			t.Fatalf("more than %d rows read despite the limit", fuzzLimits.MaxRows)
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			checkFileError(t, err, name, prev)
			return
		}
		if rec.Row <= prev {
			t.Fatalf("row %d after row %d", rec.Row, prev)
		}
		if rec.Line < 1 {
			t.Fatalf("row %d on line %d", rec.Row, rec.Line)
		}
		prev = rec.Row
		if len(rec.Fields) > len(header) {
			t.Fatalf("row %d has %d cells under a header of %d", rec.Row, len(rec.Fields), len(header))
		}
		if isBlank(rec.Fields) {
			t.Fatalf("row %d is blank but was returned", rec.Row)
		}
		for _, c := range rec.Fields {
			if !utf8.ValidString(c) {
				t.Fatalf("row %d: cell %q is not valid UTF-8", rec.Row, c)
			}
		}
	}
}

// checkFileError checks that err is a file-level finding that names the
// file (and a row not before minRow, when it names one).
func checkFileError(t *testing.T, err error, name string, minRow int) {
	t.Helper()
	var fe *schema.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T is not a *schema.FileError: %v", err, err)
	}
	switch fe.Rule {
	case schema.FHeader, schema.FEncoding, schema.FFormat, schema.FLimit:
	default:
		t.Fatalf("rule %s is not a file-level rule of a reader: %v", fe.Rule, err)
	}
	if fe.File != name {
		t.Fatalf("error names file %q, want %q: %v", fe.File, name, err)
	}
	if fe.Message == "" || fe.Row < 0 || (fe.Row > 0 && fe.Row < minRow) {
		t.Fatalf("bad file error (row %d after row %d): %v", fe.Row, minRow, err)
	}
	if !utf8.ValidString(fe.Error()) {
		t.Fatalf("message is not valid UTF-8: %q", fe.Error())
	}
}

// seedWorkbooks returns small valid workbooks: the writer's own output (with
// drop-downs and comments), and ones excelize writes with shared strings,
// numbers, booleans and gaps.
func seedWorkbooks(tb testing.TB) [][]byte {
	tb.Helper()
	var books [][]byte
	var buf bytes.Buffer
	w, err := NewWriter(XLSX, &buf, WriterOptions{SheetName: "Users", Instructions: []string{"Fill in one row per user."}})
	if err != nil {
		tb.Fatal(err)
	}
	must(tb, w.WriteHeader(schema.Headers()))
	must(tb, w.WriteRow([]string{"a@b.example", "Ann", "Émile", "=cmd|' /C calc'!A0", "", "paris", "Active", "", "TRUE"},
		[]CellNote{{Col: 3, Text: "R-TEXT: looks like a formula"}}))
	must(tb, w.Close())
	books = append(books, slices.Clone(buf.Bytes()))

	book := excelize.NewFile()
	must(tb, book.SetSheetRow("Sheet1", "A1", &[]any{"Email", "First Name", "Contact Center Premium", "Status"}))
	must(tb, book.SetSheetRow("Sheet1", "A2", &[]any{"x@y.example", "Łukasz", true, "Active"}))
	must(tb, book.SetSheetRow("Sheet1", "A4", &[]any{"z@y.example", 42, false}))
	must(tb, book.SetCellFormula("Sheet1", "B5", "1+1"))
	must(tb, book.SetCellStr("Sheet1", "A5", "f@y.example"))
	buf.Reset()
	must(tb, book.Write(&buf))
	must(tb, book.Close())
	books = append(books, slices.Clone(buf.Bytes()))
	return books
}

func zipParts(tb testing.TB, book []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		tb.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		parts[f.Name] = b
	}
	return parts
}

func rezip(tb testing.TB, parts map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(parts[n]); err != nil {
			tb.Fatal(err)
		}
	}
	must(tb, zw.Close())
	return buf.Bytes()
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// FuzzMatchHeader checks header matching on any header row: no panic;
// F-HEADER or a layout in which every column sits at a distinct position
// whose header names that column, Email is present, and the unknown
// headers are exactly those that name no column.
func FuzzMatchHeader(f *testing.F) {
	f.Add("Email", "First Name", "", "", "")
	f.Add(" EMAIL ", "first  name", "Notes", "Row", "Status")
	f.Add("Email", "Status", "Row", "Status", "Findings")
	f.Add("Email", "Status", "Row", "Result", "Findings")
	f.Add("Adresse électronique", "Prénom", "Rola CC", "Row", "Status")
	f.Add("Email", "E-mail", "", "", "")
	f.Add("\uFEFFEmail", "Nom d’affichage", "Findings", "Row", "Status")
	f.Add("Name", "", "", "", "")
	f.Fuzz(func(t *testing.T, a, b, c, d, e string) {
		headers := []string{a, b, c, d, e}
		l, err := MatchHeader("f.csv", headers)
		if err != nil {
			var fe *schema.FileError
			if !errors.As(err, &fe) || fe.Rule != schema.FHeader || fe.File != "f.csv" || fe.Row != 1 {
				t.Fatalf("want F-HEADER on f.csv:1, got %v", err)
			}
			return
		}
		if !l.Has(schema.ColEmail) {
			t.Fatal("matched without an Email column")
		}
		seen := map[int]bool{}
		for col := range schema.NumColumns {
			i := l.Index[col]
			if i < 0 {
				continue
			}
			if i >= len(headers) || seen[i] {
				t.Fatalf("column %s at position %d", col, i)
			}
			seen[i] = true
			if got, ok := schema.LookupHeader(headers[i]); !ok || got != col {
				t.Fatalf("column %s at %d, but %q names %v", col, i, headers[i], got)
			}
		}
		for _, u := range l.Unknown {
			if _, ok := schema.LookupHeader(u); ok {
				t.Fatalf("%q is reported unknown but names a column", u)
			}
		}
		if l.Report != nil {
			if len(l.Report) != 3 || l.Report[2] != l.Report[0]+2 || l.Report[2] >= len(headers) {
				t.Fatalf("report columns at %v", l.Report)
			}
		}
		orig := l.OriginalHeaders()
		if want := len(headers) - len(l.Report); len(orig) != want {
			t.Fatalf("%d original headers, want %d", len(orig), want)
		}
		if cells := l.OriginalCells(headers[:2]); len(cells) != len(orig) {
			t.Fatalf("%d original cells of a short row, want %d", len(cells), len(orig))
		}
	})
}

// FuzzRoundTrip writes a header and two rows with the CSV and the XLSX
// writers and reads them back with Open: every cell a user can hold
// (anything R-TEXT accepts) must come back as it was written. Blank rows
// are skipped by the readers and trailing blank cells may be dropped, so
// both sides are compared without them. In XLSX, a value under a blank last
// header cell is ignored (a spreadsheet cannot tell a blank last header cell
// from none), and every column whose header cell is blank and that holds a
// value is named by the reader (W-UNKNOWN-COLUMN, docs/REFERENCE.md §2, The sheet).
func FuzzRoundTrip(f *testing.F) {
	f.Add("Email", "Notes", "a@b.example", "=1+1", "c@d.example", " spaced ", false)
	f.Add("Email", "Nom; prénom", "a@b.example", "Dupont; Jean", "", "", true)
	f.Add("Email", "Nom;Prénom;Poste", "a@b.example", "x", "", "", true)
	f.Add("Email", "Display\tName", "a@b.example", "two\nlines", "x@y.example", "'-quoted", false)
	f.Add("=Email", "@note", "+1", "-2", "\t3", "\r4", true)
	f.Add("Email", "Notes", "a@b.example", "a;=1+2;b", "c@d.example", "x,'-y\t'@z", false)
	f.Add("Email", "Notes", "a@b.example", "crlf\r\ninside", "c@d.example", "\"quotes\"", true)
	f.Add("Email", "", "a@b.example", "under a blank header", "c@d.example", " ", false)
	f.Add(" ", "Email", "note", "a@b.example", "", "c@d.example", false)
	f.Fuzz(func(t *testing.T, h1, h2, a1, a2, b1, b2 string, bom bool) {
		header := []string{h1, h2}
		rows := [][]string{{a1, a2}, {b1, b2}}
		for _, s := range []string{h1, h2, a1, a2, b1, b2} {
			if !userText(s) || strings.Contains(s, "\r\n") {
				return
			}
		}
		if isBlank(header) {
			return
		}
		for _, format := range []Format{CSV, XLSX} {
			var buf bytes.Buffer
			w, err := NewWriter(format, &buf, WriterOptions{BOM: bom})
			if err != nil {
				t.Fatal(err)
			}
			must(t, w.WriteHeader(header))
			for _, r := range rows {
				must(t, w.WriteRow(r, nil))
			}
			must(t, w.Close())

			path := filepath.Join(t.TempDir(), "roundtrip."+string(format))
			must(t, os.WriteFile(path, buf.Bytes(), 0o600))
			r, err := Open(path, nil, Options{})
			if err != nil {
				t.Fatalf("%s: reading back: %v\nfile: %q", format, err, buf.Bytes())
			}
			width := len(r.Header())
			got := [][]string{trimTrailing(r.Header())}
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					r.Close()
					t.Fatalf("%s: reading back: %v\nfile: %q", format, err, buf.Bytes())
				}
				got = append(got, trimTrailing(slices.Clone(rec.Fields)))
			}
			var unnamed []string
			if u, ok := r.(UnnamedColumnsReader); ok {
				unnamed = u.UnnamedColumns()
			}
			r.Close()
			want := [][]string{trimTrailing(header)}
			var wantUnnamed []string
			for _, row := range rows {
				if !isBlank(row) {
					if format == XLSX {
						row = row[:min(len(row), width)]
					}
					want = append(want, trimTrailing(row))
				}
			}
			if format == XLSX {
				for i := range header {
					if strings.TrimSpace(header[i]) != "" {
						continue
					}
					for _, row := range rows {
						if strings.TrimSpace(row[i]) != "" {
							wantUnnamed = append(wantUnnamed, columnLetter(i))
							break
						}
					}
				}
			}
			if !slices.Equal(unnamed, wantUnnamed) {
				t.Fatalf("%s: columns with values under a blank header %q, want %q\nfile: %q", format, unnamed, wantUnnamed, buf.Bytes())
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("%s round trip:\n got %q\nwant %q\nfile: %q", format, got, want, buf.Bytes())
			}
		}
	})
}

// userText reports whether s is a value an import can store: valid UTF-8,
// no control character but tab, CR and LF (R-TEXT), at most 1,000
// characters. (CR LF inside a quoted CSV cell reads back as LF: the
// importer stores every line break as LF, so exports never hold CR LF.)
func userText(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 1000 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' {
			return false
		}
	}
	return true
}

func trimTrailing(cells []string) []string {
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}
