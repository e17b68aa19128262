package sheet_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// readAll opens path and returns "ROW: cell|cell|…" for the header (row 1)
// and every record, or the error that stopped the reading.
func readAll(t *testing.T, path string, opts sheet.Options) ([]string, error) {
	t.Helper()
	r, err := sheet.Open(path, nil, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := []string{"1: " + strings.Join(r.Header(), "|")}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("%d: %s", rec.Row, strings.Join(rec.Fields, "|")))
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func utf16LE(t *testing.T, s string) []byte {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16BE(t *testing.T, s string) []byte {
	b, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func legacy(t *testing.T, cm *charmap.Charmap, s string) []byte {
	b, err := cm.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCSVDialects reads the CSVs that Excel and LibreOffice write in the
// locales ccbulk's administrators use.
func TestCSVDialects(t *testing.T) {
	polish := "Email;First Name;Last Name;Contact Center Premium\r\n" +
		"zofia@acme.example;Zofia;Wiśniewska;PRAWDA\r\n" +
		"lukasz@acme.example;Łukasz;Wójcik;FAŁSZ\r\n"
	polishRows := []string{
		"1: Email|First Name|Last Name|Contact Center Premium",
		"2: zofia@acme.example|Zofia|Wiśniewska|PRAWDA",
		"3: lukasz@acme.example|Łukasz|Wójcik|FAŁSZ",
	}
	french := "Email;Prénom;Nom;Contact Center Premium\r\nchloe@acme.example;Chloé;Lefèvre;VRAI\r\n"
	frenchRows := []string{
		"1: Email|Prénom|Nom|Contact Center Premium",
		"2: chloe@acme.example|Chloé|Lefèvre|VRAI",
	}
	tabbed := strings.ReplaceAll(polish, ";", "\t")
	tabbedRows := polishRows
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
		want     []string
	}{
		{"utf-8 comma LF", []byte("Email,First Name\na@x.example,Zoé\n"), "", []string{"1: Email|First Name", "2: a@x.example|Zoé"}},
		{"utf-8 no final newline", []byte("Email,First Name\na@x.example,Zoé"), "", []string{"1: Email|First Name", "2: a@x.example|Zoé"}},
		{"utf-8 BOM semicolon CRLF (Excel CSV UTF-8, Polish)", append([]byte("\uFEFF"), polish...), "", polishRows},
		{"utf-8 BOM wins over --encoding", append([]byte("\uFEFF"), polish...), "windows-1250", polishRows},
		{"utf-8 without BOM wins over --encoding", []byte(polish), "windows-1250", polishRows},
		{"utf-16LE BOM tab (Excel Unicode text)", utf16LE(t, tabbed), "", tabbedRows},
		{"utf-16BE BOM tab", utf16BE(t, tabbed), "", tabbedRows},
		{"windows-1250 (Excel CSV, Polish)", legacy(t, charmap.Windows1250, polish), "windows-1250", polishRows},
		{"iso-8859-2", legacy(t, charmap.ISO8859_2, polish), "ISO-8859-2", polishRows},
		{"windows-1252 (Excel CSV, French)", legacy(t, charmap.Windows1252, french), "windows-1252", frenchRows},
		{"tab delimiter", []byte("Email\tFirst Name\na@x.example\tA, B; C\n"), "", []string{"1: Email|First Name", "2: a@x.example|A, B; C"}},
		{"delimiter inside quotes ignored", []byte("\"Email;x\",First Name;y\na,b;c\n"), "", []string{"1: Email;x|First Name;y", "2: a|b;c"}},
		{"quoted newlines count as lines, not rows", []byte("Email,Display Name,Status\r\na@x.example,\"two\r\nlines\",Active\r\nb@x.example,\"three\nlines\nhere\",Active\r\nc@x.example,,Active\r\n"), "",
			[]string{"1: Email|Display Name|Status", "2: a@x.example|two\nlines|Active", "3: b@x.example|three\nlines\nhere|Active", "4: c@x.example||Active"}},
		{"blank lines and blank rows keep spreadsheet row numbers", []byte("Email,Status\n\na@x.example,Active\n,\n\"\",\"\"\n  ,  \nb@x.example,Active\n\n"), "",
			[]string{"1: Email|Status", "3: a@x.example|Active", "7: b@x.example|Active"}},
		{"multi-line cell in the last column", []byte("Email,Display Name\na@x.example,\"x\ny\"\n\nb@x.example,z\n"), "",
			[]string{"1: Email|Display Name", "2: a@x.example|x\ny", "4: b@x.example|z"}},
		{"CR-only lines (Excel for Mac)", []byte("Email;Status\ra@x.example;Active\r\rb@x.example;Inactive\r"), "",
			[]string{"1: Email|Status", "2: a@x.example|Active", "4: b@x.example|Inactive"}},
		{"trailing empty cells beyond the header", []byte("Email,Status\na@x.example,Active,,\n"), "", []string{"1: Email|Status", "2: a@x.example|Active"}},
		{"short rows", []byte("Email,Status,PBX\na@x.example\n"), "", []string{"1: Email|Status|PBX", "2: a@x.example"}},
		{"neutralized formulas read back", []byte("Email,First Name,Last Name,Display Name\na@x.example,'=Jean,'-Marie,'''+x\n"), "",
			[]string{"1: Email|First Name|Last Name|Display Name", "2: a@x.example|=Jean|-Marie|''+x"}},
		{"an apostrophe before plain text stays", []byte("Email,Last Name\na@x.example,'t Hooft\n"), "", []string{"1: Email|Last Name", "2: a@x.example|'t Hooft"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, writeFile(t, "in.csv", tc.data), sheet.Options{Encoding: tc.encoding})
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCSVFileErrors: what a CSV reader refuses, with its rule, row and a
// message naming the line.
func TestCSVFileErrors(t *testing.T) {
	latin := legacy(t, charmap.Windows1250, "Email,Last Name\na@x.example,Kowalski\nb@x.example,Wiśniewska\n")
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
		limits   sheet.Limits
		rule     schema.RuleID
		want     string // the error text
	}{
		{"windows-1250 bytes read as UTF-8", latin, "", sheet.Limits{}, schema.FEncoding,
			"in.csv:3: Last Name: F-ENCODING: line 3, byte 13: not valid UTF-8; save the file as CSV UTF-8, or name its encoding with --encoding (windows-1250, windows-1252, iso-8859-2)"},
		{"invalid UTF-8 in the header", []byte("Email,Nazwisko\xb3\n"), "", sheet.Limits{}, schema.FEncoding,
			"in.csv:1: F-ENCODING: line 1, byte 7: not valid UTF-8; save the file as CSV UTF-8, or name its encoding with --encoding (windows-1250, windows-1252, iso-8859-2)"},
		{"a byte windows-1252 does not define", []byte("Email,Last Name\na@x.example,ok\nb@x.example,bad\x81\n"), "windows-1252", sheet.Limits{}, schema.FEncoding,
			"in.csv:3: Last Name: F-ENCODING: line 3: a byte that is not valid windows-1252; save the file as CSV UTF-8, or name its encoding with --encoding (windows-1250, windows-1252, iso-8859-2)"},
		{"unknown encoding", []byte("Email\na@x.example\n"), "koi8-r", sheet.Limits{}, schema.FEncoding,
			`in.csv: F-ENCODING: unknown encoding "koi8-r"; use one of windows-1250, windows-1252, iso-8859-2`},
		{"UTF-16 without BOM", []byte("E\x00m\x00a\x00i\x00l\x00\n\x00"), "", sheet.Limits{}, schema.FEncoding,
			"in.csv:1: F-ENCODING: the header line holds NUL bytes: the file looks like UTF-16 without a byte-order mark; save it as CSV UTF-8 (or Unicode text with its BOM)"},
		{"stray quote", []byte("Email,Display Name\na@x.example,ok\nb@x.example,say \"hi\"\n"), "", sheet.Limits{}, schema.FFormat,
			"in.csv:3: F-FORMAT: line 3, byte 17: bare \" in non-quoted-field; check the quotes on that line: a cell holding a quote is written in quotes, with the quote written twice (\"\")"},
		{"unclosed quote", []byte("Email,Display Name\na@x.example,\"open\n"), "", sheet.Limits{}, schema.FFormat,
			"in.csv:2: F-FORMAT: line 2, byte 19: a quoted cell is not closed, or has text after its closing quote; write a quote inside a quoted cell twice (\"\")"},
		{"a cell beyond the header", []byte("Email;Status\na@x.example;Active;extra\n"), "", sheet.Limits{}, schema.FFormat,
			"in.csv:2: F-FORMAT: line 2 has 3 cells but the header has 2; a cell holding the delimiter must be quoted, or the header is missing a column"},
		{"empty file", []byte("\n\n"), "", sheet.Limits{}, schema.FHeader,
			"in.csv: F-HEADER: the file is empty; it needs a header row with at least an Email column"},
		{"too many rows", []byte("Email\na\nb\n\nc\n"), "", sheet.Limits{MaxRows: 2}, schema.FLimit,
			"in.csv:5: F-LIMIT: the file has more than 2 data rows; split it or raise --max-rows"},
		{"too many columns", []byte(strings.Repeat("x,", 20) + "Email\n"), "", sheet.Limits{MaxColumns: 20}, schema.FLimit,
			"in.csv:1: F-LIMIT: the header has 21 columns, over the limit of 20; remove the extra columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, writeFile(t, "in.csv", tc.data), sheet.Options{Encoding: tc.encoding, Limits: tc.limits})
			var fe *schema.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a %s FileError", err, tc.rule)
			}
			if fe.Rule != tc.rule {
				t.Errorf("rule %s, want %s", fe.Rule, tc.rule)
			}
			if got := strings.ReplaceAll(err.Error(), filepath.Dir(fe.File)+"/", ""); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestCSVStdin reads "-" from standard input.
func TestCSVStdin(t *testing.T) {
	r, err := sheet.Open("-", strings.NewReader("\uFEFFEmail;Status\r\na@x.example;Active\r\n"), sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next()
	if err != nil || rec.Row != 2 || strings.Join(rec.Fields, "|") != "a@x.example|Active" {
		t.Fatalf("got %+v, %v", rec, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want EOF", err)
	}
}
