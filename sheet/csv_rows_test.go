package sheet

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// readAll reads a CSV given as text through the real reader.
func readAll(t *testing.T, text string, opts Options) ([]string, []Record) {
	t.Helper()
	r, err := Open("-", strings.NewReader(text), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rec.Fields = append([]string(nil), rec.Fields...)
		recs = append(recs, rec)
	}
	return r.Header(), recs
}

func TestCSVRowNumbersAreSpreadsheetRows(t *testing.T) {
	tests := []struct {
		name string
		text string
		rows []int
	}{
		{"plain", "Email\na@x.io\nb@x.io\n", []int{2, 3}},
		{"CRLF", "Email\r\na@x.io\r\nb@x.io\r\n", []int{2, 3}},
		{"a blank line is a row", "Email\na@x.io\n\nb@x.io\n", []int{2, 4}},
		{"blank lines after the header", "Email\n\n\na@x.io\n", []int{4}},
		{"a row of empty cells is skipped but counted", "Email,Name\na@x.io,A\n,\nb@x.io,B\n", []int{2, 4}},
		{"a quoted newline stays in one row", "Email,Name\na@x.io,\"two\nlines\"\nb@x.io,B\n", []int{2, 3}},
		{"a quoted newline then a blank line", "Email,Name\na@x.io,\"x\r\ny\"\r\n\r\nb@x.io,B\r\n", []int{2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs := readAll(t, tt.text, Options{})
			var rows []int
			for _, r := range recs {
				rows = append(rows, r.Row)
			}
			if !slices.Equal(rows, tt.rows) {
				t.Errorf("rows %v, want %v", rows, tt.rows)
			}
		})
	}
}

func TestCSVDelimiterAndBOM(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		header []string
		first  []string
	}{
		{"comma", "Email,First Name\na@x.io,Ann\n", []string{"Email", "First Name"}, []string{"a@x.io", "Ann"}},
		{"semicolon, as French and Polish Excel write", "Email;First Name\na@x.io;Ann, Jr\n", []string{"Email", "First Name"}, []string{"a@x.io", "Ann, Jr"}},
		{"tab", "Email\tFirst Name\na@x.io\tAnn\n", []string{"Email", "First Name"}, []string{"a@x.io", "Ann"}},
		{"a quoted header holding another delimiter", "\"Email;x\",Name,Other\na@x.io,Ann,1\n", []string{"Email;x", "Name", "Other"}, []string{"a@x.io", "Ann", "1"}},
		{"UTF-8 BOM", "\uFEFFEmail,Name\na@x.io,Żaneta\n", []string{"Email", "Name"}, []string{"a@x.io", "Żaneta"}},
		{"formula guard removed on read", "Email,Name\na@x.io,'=SUM(A1)\n", []string{"Email", "Name"}, []string{"a@x.io", "=SUM(A1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, recs := readAll(t, tt.text, Options{})
			if strings.Join(header, "|") != strings.Join(tt.header, "|") {
				t.Errorf("header %q, want %q", header, tt.header)
			}
			if len(recs) == 0 || strings.Join(recs[0].Fields, "|") != strings.Join(tt.first, "|") {
				t.Errorf("first row %v, want %q", recs, tt.first)
			}
		})
	}
}

func TestCSVFileErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		opts Options
		rule schema.RuleID
		want string
	}{
		{"empty", "", Options{}, schema.FHeader, "empty"},
		{"broken quote", "Email,Name\na@x.io,\"open\n", Options{}, schema.FFormat, "line 2"},
		{"more cells than headers", "Email\na@x.io,extra\n", Options{}, schema.FFormat, "2 cells but the header has 1"},
		{"invalid UTF-8", "Email,Name\na@x.io,Gra\xbfyna\n", Options{}, schema.FEncoding, "line 2"},
		{"UTF-16 without BOM", "E\x00m\x00a\x00i\x00l\x00\n\x00", Options{}, schema.FEncoding, "UTF-16"},
		{"unknown encoding", "Email\n", Options{Encoding: "ebcdic"}, schema.FEncoding, "windows-1250"},
		{"over the row limit", "Email\na@x.io\nb@x.io\n", Options{Limits: Limits{MaxRows: 1}}, schema.FLimit, "more than 1 data rows"},
		{"over the column limit", "Email,a,b,c\n", Options{Limits: Limits{MaxColumns: 3}}, schema.FLimit, "4 columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open("-", strings.NewReader(tt.text), tt.opts)
			if err == nil {
				for err == nil {
					_, err = r.Next()
				}
				r.Close()
			}
			var fe *schema.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a file error %s", err, tt.rule)
			}
			if fe.Rule != tt.rule || !strings.Contains(fe.Error(), tt.want) {
				t.Errorf("err = %v, want %s mentioning %q", fe, tt.rule, tt.want)
			}
		})
	}
}

func TestCSVLegacyEncodings(t *testing.T) {
	// "Łódź" in windows-1250 and iso-8859-2; "Hélène" in windows-1252.
	tests := []struct {
		enc, raw, want string
	}{
		{"windows-1250", "\xa3\xf3d\x9f", "Łódź"},
		{"iso-8859-2", "\xa3\xf3d\xbc", "Łódź"},
		{"windows-1252", "H\xe9l\xe8ne", "Hélène"},
	}
	for _, tt := range tests {
		t.Run(tt.enc, func(t *testing.T) {
			_, recs := readAll(t, "Email;Name\na@x.io;"+tt.raw+"\n", Options{Encoding: tt.enc})
			if got := recs[0].Fields[1]; got != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
	// A file that is valid UTF-8 stays UTF-8 whatever --encoding says.
	_, recs := readAll(t, "Email;Name\na@x.io;Łódź\n", Options{Encoding: "windows-1250"})
	if got := recs[0].Fields[1]; got != "Łódź" {
		t.Errorf("UTF-8 with --encoding read as %q", got)
	}
}

func TestFormulaEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "=1+1", "+48 22 123", "-x", "@SUM", "\tx", "\rx", "'=a", "''=a", "'plain", "a=b"} {
		esc := EscapeFormula(s)
		if esc != "" && strings.IndexByte(formulaTriggers, esc[0]) >= 0 {
			t.Errorf("EscapeFormula(%q) = %q still starts like a formula", s, esc)
		}
		if got := UnescapeFormula(esc); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}
