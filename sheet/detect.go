package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ccbulk/ccbulk/schema"
)

// The content of a file decides how it is read, not only its name
// (docs/REFERENCE.md §2, The sheet): a workbook named users.csv is read as XLSX, and a workbook of a
// format ccbulk does not read (.xls, .ods, a zip of something else, a PDF)
// is refused with F-FORMAT saying how to save it instead of being read as
// a CSV full of NUL bytes.

// Kind is what the first bytes of a file say it is.
type Kind int

// The kinds Sniff tells apart.
const (
	KindText Kind = iota // anything else: read as CSV
	KindZip              // a zip archive: an XLSX, an .ods or another zip
	KindOLE              // an OLE2 compound file: .xls, or an encrypted workbook
	KindPDF              // a PDF document
)

// sniffLen is how many leading bytes Sniff needs.
const sniffLen = 8

var (
	zipSignature      = []byte("PK\x03\x04")
	emptyZipSignature = []byte("PK\x05\x06")
	pdfSignature      = []byte("%PDF")
)

// Sniff tells from the first bytes of a file what kind of file it is.
func Sniff(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, zipSignature), bytes.HasPrefix(head, emptyZipSignature):
		return KindZip
	case bytes.HasPrefix(head, oleSignature):
		return KindOLE
	case bytes.HasPrefix(head, pdfSignature):
		return KindPDF
	}
	return KindText
}

// odsMimetype is the first entry of an OpenDocument spreadsheet.
const odsMimetype = "application/vnd.oasis.opendocument.spreadsheet"

// zipFormat looks inside a zip archive: an XLSX workbook is XLSX; an
// OpenDocument spreadsheet or any other archive is refused with F-FORMAT.
// An archive whose directory cannot be read is left to the XLSX reader,
// which names the damage.
func zipFormat(name string, f io.ReaderAt, size int64) (Format, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return XLSX, nil
	}
	var types, workbook bool
	for _, zf := range zr.File {
		switch partName(zf.Name) {
		case "[content_types].xml":
			types = true
		case "xl/workbook.xml":
			workbook = true
		}
	}
	if types && workbook {
		return XLSX, nil
	}
	if len(zr.File) > 0 && zr.File[0].Name == "mimetype" && zr.File[0].UncompressedSize64 < 256 {
		if rc, err := zr.File[0].Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 256))
			rc.Close()
			if string(bytes.TrimSpace(b)) == odsMimetype {
				return "", fileErr(schema.FFormat, name, "is an OpenDocument spreadsheet (.ods); save it as XLSX (Excel 2007-365) or CSV UTF-8 from LibreOffice Calc and import that")
			}
		}
	}
	return "", fileErr(schema.FFormat, name, "is a zip archive, not a workbook (an XLSX workbook holds [Content_Types].xml and xl/workbook.xml); unpack it and import the CSV or XLSX file inside, or save the sheet as XLSX or CSV UTF-8")
}

// kindErr refuses a file whose first bytes show a format ccbulk does not
// read; it returns nil for text and zip archives.
func kindErr(name string, kind Kind) error {
	switch kind {
	case KindOLE:
		if FormatOf(name) == XLSX {
			// Named .xlsx: most likely a workbook saved with a password.
			return fileErr(schema.FFormat, name, "is a password-protected workbook or an Excel 97-2003 (.xls) file; save it as Excel Workbook (.xlsx) without a password, or as CSV UTF-8")
		}
		return fileErr(schema.FFormat, name, "is a legacy Excel 97-2003 workbook (.xls); save it as Excel Workbook (.xlsx) or CSV UTF-8 and import that")
	case KindPDF:
		return fileErr(schema.FFormat, name, "is a PDF document, not a sheet; export the users as CSV UTF-8 or XLSX from the program that made it and import that")
	}
	return nil
}

// DetectFile returns the format the content of the named file calls for:
// XLSX for a workbook whatever its name, CSV for text. A file of a format
// ccbulk does not read is a *schema.FileError (F-FORMAT). A file that
// cannot be read, or is not a regular file, gets the format its name
// implies (Open then reports what is wrong with it).
func DetectFile(name string) (Format, error) {
	if name == "-" {
		return CSV, nil
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return FormatOf(name), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return FormatOf(name), nil
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, _ := io.ReadFull(f, head)
	return detect(name, f, fi.Size(), head[:n])
}

// detect decides the format of an open file from its first bytes and, for
// a zip archive, its directory.
func detect(name string, f io.ReaderAt, size int64, head []byte) (Format, error) {
	kind := Sniff(head)
	if err := kindErr(name, kind); err != nil {
		return "", err
	}
	switch kind {
	case KindZip:
		return zipFormat(name, f, size)
	case KindOLE:
		return XLSX, nil // not reached: kindErr refuses it
	}
	if FormatOf(name) == XLSX {
		return XLSX, nil // the XLSX reader says what a file named .xlsx starts with
	}
	return CSV, nil
}

// StdinReader is standard input with its first bytes looked at: what
// Open reads when the file is "-".
type StdinReader struct {
	*bufio.Reader
}

// PeekStdin wraps standard input so that its kind can be told before it is
// read (PeekFormat), without losing a byte for Open. An already wrapped
// reader is returned as it is.
func PeekStdin(r io.Reader) *StdinReader {
	if s, ok := r.(*StdinReader); ok {
		return s
	}
	return &StdinReader{bufio.NewReaderSize(r, 64<<10)}
}

// PeekFormat returns the format the first bytes of standard input call
// for: XLSX for a zip archive (what it holds is checked once it is
// spooled), CSV for text. A file of a format ccbulk does not read is a
// *schema.FileError (F-FORMAT); an error reading standard input is
// returned as it is.
func (s *StdinReader) PeekFormat() (Format, error) {
	head, err := s.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", err
	}
	kind := Sniff(head)
	if err := kindErr(stdinName, kind); err != nil {
		return "", err
	}
	if kind == KindZip {
		return XLSX, nil
	}
	return CSV, nil
}

// stdinName is how messages name standard input.
const stdinName = "<stdin>"

// spoolStdin copies a workbook read from standard input to a private
// temporary file (os.TempDir), at most max bytes, so that it can be read
// as XLSX, which needs random access. The file is removed when the
// returned Reader is closed.
func spoolStdin(r io.Reader, opts Options) (Reader, error) {
	f, err := os.CreateTemp("", "ccbulk-stdin-*.xlsx")
	if err != nil {
		return nil, fileErr(schema.FFormat, stdinName, "cannot keep the workbook read from standard input: %v", unwrapPathError(err))
	}
	fail := func(err error) (Reader, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	limit := opts.Limits.MaxUnzipSize
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err != nil {
		var fe *schema.FileError
		if errors.As(err, &fe) {
			return fail(err)
		}
		return fail(&schema.FileError{Rule: schema.FFormat, File: stdinName, Err: err,
			Message: "cannot read the workbook from standard input: " + errText(err)})
	}
	if n > limit {
		return fail(&schema.FileError{Rule: schema.FLimit, File: stdinName,
			Message: fmt.Sprintf("the workbook is over the limit of %s (--max-unzip-size)", formatSize(limit))})
	}
	format, err := zipFormat(stdinName, f, n)
	if err != nil {
		return fail(err)
	}
	if format != XLSX {
		return fail(fileErr(schema.FFormat, stdinName, "is not an XLSX workbook"))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fileErr(schema.FFormat, stdinName, "cannot read back the workbook read from standard input: %v", err))
	}
	x, err := newXLSXReader(stdinName, f, n, opts)
	if err != nil {
		return fail(err)
	}
	return &spooledReader{Reader: x, path: f.Name()}, nil
}

// spooledReader is a workbook read from a temporary copy of standard
// input; Close removes the copy.
type spooledReader struct {
	Reader
	path string
}

func (s *spooledReader) Close() error {
	err := s.Reader.Close()
	if rerr := os.Remove(s.path); err == nil && rerr != nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	return err
}

// UnnamedColumns passes on the workbook's columns with a blank header.
func (s *spooledReader) UnnamedColumns() []string {
	if u, ok := s.Reader.(UnnamedColumnsReader); ok {
		return u.UnnamedColumns()
	}
	return nil
}
