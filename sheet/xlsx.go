package sheet

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
)

type xlsxReader struct {
	name   string
	file   *os.File
	book   *excelize.File
	rows   *excelize.Rows
	header []string
	limits Limits
	row    int
	count  int
	// unnamed marks the columns whose header cell is blank or missing (a
	// spreadsheet cannot tell a blank last header cell from none) and that
	// hold a value in some row: their values are ignored.
	unnamed map[int]bool
	// declared is the data rows the worksheet declares (its dimension);
	// 0: none.
	declared int
}

// Extent returns the data rows the worksheet declares, as an estimate of
// how many there are.
func (x *xlsxReader) Extent() Extent { return Extent{DeclaredRows: x.declared} }

// newXLSXReader opens a workbook and positions its streaming row reader
// after the header. excelize may panic on a crafted workbook; every call
// into it is guarded so that such a file is F-FORMAT, never a crash.
func newXLSXReader(name string, f *os.File, size int64, opts Options) (r *xlsxReader, err error) {
	defer recoverAs(name, 0, &err)
	if size > opts.Limits.MaxUnzipSize {
		return nil, &schema.FileError{Rule: schema.FLimit, File: name,
			Message: fmt.Sprintf("the workbook is %d bytes, over the limit of %s (--max-unzip-size)", size, formatSize(opts.Limits.MaxUnzipSize))}
	}
	if err := checkZipMagic(name, f); err != nil {
		return nil, err
	}
	if err := checkPackage(name, f, size, opts.Limits); err != nil {
		return nil, err
	}
	book, err := excelize.OpenReader(f, excelize.Options{
		UnzipSizeLimit:    opts.Limits.MaxUnzipSize,
		UnzipXMLSizeLimit: min(opts.Limits.MaxXMLSize, opts.Limits.MaxUnzipSize),
	})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, &schema.FileError{Rule: schema.FLimit, File: name, Err: err,
				Message: fmt.Sprintf("the workbook decompresses to more than %s (--max-unzip-size); it is not an honest sheet of users, or raise the limit", formatSize(opts.Limits.MaxUnzipSize))}
		}
		return nil, &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: "not a readable XLSX workbook (" + errText(err) + "); save it again from the spreadsheet program as Excel Workbook (.xlsx), or as CSV UTF-8"}
	}
	x := &xlsxReader{name: name, file: f, book: book, limits: opts.Limits}
	defer func() {
		if err != nil {
			book.Close()
		}
	}()
	sheets := book.GetSheetList()
	sheetName := opts.Sheet
	if sheetName == "" {
		if len(sheets) == 0 {
			return nil, fileErr(schema.FFormat, name, "the workbook has no worksheet")
		}
		sheetName = sheets[0]
	} else if !slices.Contains(sheets, sheetName) {
		return nil, fileErr(schema.FFormat, name, "the workbook has no sheet %q; its sheets are %s", sheetName, quoteList(sheets))
	}
	x.declared = declaredRows(f, size, sheetName)
	x.rows, err = book.Rows(sheetName)
	if err != nil {
		return nil, &schema.FileError{Rule: schema.FFormat, File: name, Err: err, Message: "cannot read sheet " + sheetName + ": " + errText(err)}
	}
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, x.formatErr(1, err)
		}
		return nil, &schema.FileError{Rule: schema.FHeader, File: name, Row: 1, Message: "sheet " + sheetName + " is empty; it needs a header row with at least an Email column"}
	}
	x.row = 1
	header, err := x.rows.Columns()
	if err != nil {
		return nil, x.formatErr(1, err)
	}
	if isBlank(header) {
		return nil, &schema.FileError{Rule: schema.FHeader, File: name, Row: 1,
			Message: "row 1 of sheet " + sheetName + " is blank; the first row must be the header, with at least an Email column"}
	}
	if len(header) > x.limits.MaxColumns {
		return nil, &schema.FileError{Rule: schema.FLimit, File: name, Row: 1,
			Message: fmt.Sprintf("the header has %d columns, over the limit of %d; remove the extra columns", len(header), x.limits.MaxColumns)}
	}
	x.header = header
	return x, nil
}

// checkZipMagic refuses a file named .xlsx that is not a zip archive (as
// every XLSX is), saying what it starts with: often a CSV renamed.
func checkZipMagic(name string, f *os.File) error {
	head := make([]byte, 8)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")) || bytes.HasPrefix(head, oleSignature) {
		return nil // a zip, or an encrypted or old Excel file that checkPackage names
	}
	if n == 0 {
		return fileErr(schema.FFormat, name, "is empty; an XLSX workbook needs a sheet with a header row")
	}
	return fileErr(schema.FFormat, name, "is named .xlsx but is not an XLSX workbook (an XLSX file is a zip archive; this one starts with %q); if it is a CSV file, name it .csv", head)
}

func (x *xlsxReader) Header() []string { return x.header }

func (x *xlsxReader) Next() (rec Record, err error) {
	defer recoverAs(x.name, x.row, &err)
	for x.rows.Next() {
		x.row++
		cells, err := x.rows.Columns()
		if err != nil {
			return Record{}, x.formatErr(x.row, err)
		}
		if isBlank(cells) {
			continue
		}
		x.count++
		if x.count > x.limits.MaxRows {
			return Record{}, &schema.FileError{Rule: schema.FLimit, File: x.name, Row: x.row,
				Message: fmt.Sprintf("the sheet has more than %d data rows; split it or raise --max-rows", x.limits.MaxRows)}
		}
		for i, c := range cells {
			cells[i] = UnescapeFormula(c)
			if (i >= len(x.header) || strings.TrimSpace(x.header[i]) == "") && strings.TrimSpace(cells[i]) != "" && !x.unnamed[i] {
				if x.unnamed == nil {
					x.unnamed = map[int]bool{}
				}
				x.unnamed[i] = true
			}
		}
		if len(cells) > len(x.header) {
			cells = cells[:len(x.header)]
		}
		return Record{Row: x.row, Line: x.row, Fields: cells}, nil
	}
	if err := x.rows.Error(); err != nil {
		return Record{}, x.formatErr(x.row+1, err)
	}
	return Record{}, io.EOF
}

// UnnamedColumns returns the letters of the columns read so far whose
// header cell is blank but which hold values (ignored), in sheet order.
func (x *xlsxReader) UnnamedColumns() []string {
	cols := slices.Sorted(maps.Keys(x.unnamed))
	letters := make([]string, len(cols))
	for i, c := range cols {
		letters[i] = columnLetter(c)
	}
	return letters
}

func (x *xlsxReader) formatErr(row int, err error) error {
	return &schema.FileError{Rule: schema.FFormat, File: x.name, Row: row, Err: err,
		Message: "the worksheet cannot be read (" + errText(err) + "); save it again from the spreadsheet program"}
}

func (x *xlsxReader) Close() error {
	if x.rows != nil {
		x.rows.Close()
	}
	err := x.book.Close()
	if cerr := x.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// recoverAs turns a panic inside excelize into F-FORMAT on *err.
func recoverAs(name string, row int, err *error) {
	if p := recover(); p != nil {
		*err = &schema.FileError{Rule: schema.FFormat, File: name, Row: row,
			Message: "the workbook is malformed (" + strings.ToValidUTF8(fmt.Sprint(p), "\uFFFD") + "); save it again from the spreadsheet program"}
	}
}

// columnLetter returns the spreadsheet letter of the zero-based column i.
func columnLetter(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
