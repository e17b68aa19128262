package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

var oleHead = string(oleSignature) + strings.Repeat("\x00", 504)

// zipBytes returns a stored zip archive of the files, in the order given
// (name, content, name, content, …).
func zipBytes(tb testing.TB, files ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Store})
		must(tb, err)
		_, err = w.Write([]byte(files[i+1]))
		must(tb, err)
	}
	must(tb, zw.Close())
	return buf.Bytes()
}

func odsBytes(tb testing.TB) []byte {
	return zipBytes(tb, "mimetype", odsMimetype, "content.xml", "<office:document-content/>")
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		want Kind
	}{
		{"csv", "Email,First Name\n", KindText},
		{"empty", "", KindText},
		{"utf16", "E\x00m\x00a\x00i\x00l\x00", KindText},
		{"zip", "PK\x03\x04\x14\x00", KindZip},
		{"empty zip", "PK\x05\x06", KindZip},
		{"short PK", "PK\x03", KindText},
		{"ole2", oleHead, KindOLE},
		{"pdf", "%PDF-1.7\n", KindPDF},
	} {
		if got := Sniff([]byte(tc.head)); got != tc.want {
			t.Errorf("%s: Sniff = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestDetect: the content of a file decides its format, whatever its name;
// formats ccbulk does not read are F-FORMAT naming what the file is.
func TestDetect(t *testing.T) {
	book := seedWorkbooks(t)[0]
	for _, tc := range []struct {
		name    string
		file    string
		data    []byte
		want    Format
		message string // the F-FORMAT message starts so; "" for no error
	}{
		{"csv", "users.csv", []byte("Email\na@b.example\n"), CSV, ""},
		{"csv named txt", "users.txt", []byte("Email\n"), CSV, ""},
		{"xlsx", "users.xlsx", book, XLSX, ""},
		{"xlsx named csv", "users.csv", book, XLSX, ""},
		{"xlsx without extension", "export", book, XLSX, ""},
		{"text named xlsx", "users.xlsx", []byte("Email\n"), XLSX, ""}, // the XLSX reader says it is not a zip
		{"broken zip", "users.csv", []byte("PK\x03\x04broken"), XLSX, ""},
		{"ods", "users.ods", odsBytes(t), "", "is an OpenDocument spreadsheet (.ods); save it as XLSX (Excel 2007-365) or CSV UTF-8 from LibreOffice Calc"},
		{"ods named xlsx", "users.xlsx", odsBytes(t), "", "is an OpenDocument spreadsheet (.ods)"},
		{"other zip", "users.zip", zipBytes(t, "users.csv", "Email\n"), "", "is a zip archive, not a workbook"},
		{"xls", "users.xls", []byte(oleHead), "", "is a legacy Excel 97-2003 workbook (.xls); save it as Excel Workbook (.xlsx) or CSV UTF-8 and import that"},
		{"xls named csv", "users.csv", []byte(oleHead), "", "is a legacy Excel 97-2003 workbook (.xls)"},
		{"ole named xlsx", "users.xlsx", []byte(oleHead), "", "is a password-protected workbook or an Excel 97-2003 (.xls) file"},
		{"pdf", "users.pdf", []byte("%PDF-1.4\n"), "", "is a PDF document, not a sheet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			must(t, os.WriteFile(path, tc.data, 0o600))
			got, err := DetectFile(path)
			checkDetected(t, got, err, tc.want, tc.message, path)
			// Open refuses it in the same words.
			if tc.message != "" {
				_, err := Open(path, nil, Options{})
				checkDetected(t, "", err, "", tc.message, path)
			}
			// Standard input: a zip is XLSX until it is spooled and looked into.
			got, err = PeekStdin(bytes.NewReader(tc.data)).PeekFormat()
			want, message := tc.want, tc.message
			if Sniff(tc.data) == KindZip {
				want, message = XLSX, ""
			} else if Sniff(tc.data) == KindText {
				want = CSV
			}
			if Sniff(tc.data) == KindOLE {
				message = "is a legacy Excel 97-2003 workbook (.xls)"
			}
			checkDetected(t, got, err, want, message, "<stdin>")
		})
	}
}

func checkDetected(t *testing.T, got Format, err error, want Format, message, file string) {
	t.Helper()
	if message == "" {
		if err != nil || got != want {
			t.Fatalf("%s: got %q, %v; want %q", file, got, err, want)
		}
		return
	}
	var fe *schema.FileError
	if !errors.As(err, &fe) || fe.Rule != schema.FFormat || fe.File != file || !strings.HasPrefix(fe.Message, message) {
		t.Fatalf("%s: got %q, %v; want F-FORMAT %q…", file, got, err, message)
	}
}

// TestOpenStdinWorkbook: a workbook piped to standard input is read as
// XLSX from a temporary copy that Close removes; one over --max-unzip-size
// is F-LIMIT and leaves no copy; --sheet on CSV standard input is refused.
func TestOpenStdinWorkbook(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	noCopies := func() {
		t.Helper()
		if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	}
	book := seedWorkbooks(t)[0]
	r, err := Open("-", bytes.NewReader(book), Options{Sheet: "Users"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header()[0]; got != "Email" {
		t.Errorf("header starts with %q, want Email", got)
	}
	rec, err := r.Next()
	if err != nil || rec.Fields[0] != "a@b.example" {
		t.Errorf("first row %v, %v", rec, err)
	}
	if _, ok := r.(UnnamedColumnsReader); !ok {
		t.Error("the reader of a workbook on standard input does not report unnamed columns")
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ccbulk-stdin-*")); len(left) != 1 {
		t.Errorf("want one copy of standard input while it is read, got %v", left)
	}
	must(t, r.Close())
	noCopies()

	_, err = Open("-", bytes.NewReader(book), Options{Limits: Limits{MaxUnzipSize: 1024}})
	var fe *schema.FileError
	if !errors.As(err, &fe) || fe.Rule != schema.FLimit || !strings.Contains(fe.Message, "--max-unzip-size") {
		t.Errorf("over the limit: %v, want F-LIMIT", err)
	}
	noCopies()

	_, err = Open("-", bytes.NewReader(odsBytes(t)), Options{})
	checkDetected(t, "", err, "", "is an OpenDocument spreadsheet (.ods)", "<stdin>")
	noCopies()

	_, err = Open("-", strings.NewReader("Email\na@b.example\n"), Options{Sheet: "Users"})
	checkDetected(t, "", err, "", "is CSV, which has one sheet; --sheet applies to XLSX workbooks", "<stdin>")

	// A read error while spooling is F-FORMAT naming standard input.
	_, err = Open("-", io.MultiReader(bytes.NewReader(book[:100]), errReader{}), Options{})
	checkDetected(t, "", err, "", "cannot read the workbook from standard input", "<stdin>")
	noCopies()
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

// FuzzDetect feeds arbitrary bytes to the format detection, on disk and on
// standard input: it must not panic, must refuse only with F-FORMAT naming
// the file, and must agree with Sniff on text (CSV) and zip (XLSX or refused).
func FuzzDetect(f *testing.F) {
	for _, book := range seedWorkbooks(f) {
		f.Add(book)
	}
	f.Add(odsBytes(f))
	f.Add(zipBytes(f, "users.csv", "Email\n"))
	f.Add(zipBytes(f, "[Content_Types].xml", "<Types/>", "xl/workbook.xml", "<workbook/>"))
	f.Add([]byte(oleHead))
	f.Add([]byte("%PDF-1.7\n"))
	f.Add([]byte("Email\na@b.example\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.csv")
		must(t, os.WriteFile(path, data, 0o600))
		got, err := DetectFile(path)
		if err != nil {
			checkFileError(t, err, path, 0)
		}
		switch kind := Sniff(data); {
		case kind == KindText && (err != nil || got != CSV):
			t.Fatalf("text detected as %q, %v", got, err)
		case kind == KindZip && err == nil && got != XLSX:
			t.Fatalf("zip detected as %q", got)
		case (kind == KindOLE || kind == KindPDF) && err == nil:
			t.Fatalf("kind %d detected as %q", kind, got)
		}
		stdinFormat, err := PeekStdin(bytes.NewReader(data)).PeekFormat()
		if err != nil {
			checkFileError(t, err, "<stdin>", 0)
		} else if stdinFormat == CSV && Sniff(data) != KindText {
			t.Fatalf("standard input of kind %d read as CSV", Sniff(data))
		}
	})
}
