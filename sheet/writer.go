package sheet

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
)

// CellNote marks one cell of a written row: XLSX highlights the cell (a
// fill colour) and, for the first MaxCellComments notes of a sheet, attaches
// the text as a comment; CSV has no place for it.
type CellNote struct {
	Col  int // zero-based column
	Text string
}

// MaxCellComments bounds the comments an XLSX sheet gets. Comments are held
// in memory until the sheet is written and cost more than linear time each
// (excelize); past this many, a noted cell is only highlighted, and the
// report's Findings column says what is wrong with it. 1,000 comments cost a
// few milliseconds.
const MaxCellComments = 1000

// Writer writes a sheet row by row. Close flushes it; nothing is complete
// before Close returns nil.
type Writer interface {
	WriteHeader(headers []string) error
	WriteRow(cells []string, notes []CellNote) error
	Close() error
}

// WriterOptions shape a written sheet.
type WriterOptions struct {
	BOM bool // CSV: start with a UTF-8 byte-order mark (Excel needs it to read UTF-8)
	// Delimiter separates CSV fields: ',' (the zero value), ';' or '\t'.
	Delimiter rune
	// Encoding of a CSV: "" for UTF-8 (with a BOM if BOM is set), UTF16
	// (always with a BOM), or a name of Encodings (never a BOM).
	Encoding     string
	SheetName    string // XLSX: name of the data sheet
	Instructions []string
	// Lists are XLSX drop-downs on the columns they name, beside the
	// TRUE/FALSE ones every flag column gets.
	Lists []ColumnList
}

// ColumnList offers Values in a drop-down on the column headed Header; a
// blank cell stays allowed. A value outside the list draws a warning, not a
// refusal: the import decides.
type ColumnList struct {
	Header string
	Values []string
}

// ListsSheet is the hidden sheet that holds the drop-down lists too long
// (or too awkward) to be written into the validation itself.
const ListsSheet = "Lists"

// ValidDelimiter reports whether d is a delimiter the reader detects
// (comma, semicolon or tab), so that a sheet written with it reads back.
func ValidDelimiter(d rune) bool { return d == ',' || d == ';' || d == '\t' }

// NewWriter returns a writer of the format onto w.
func NewWriter(format Format, w io.Writer, opts WriterOptions) (Writer, error) {
	switch format {
	case CSV:
		return newCSVWriter(w, opts)
	case XLSX:
		return newXLSXWriter(w, opts)
	}
	return nil, fmt.Errorf("unknown format %q; use csv or xlsx", format)
}

type csvWriter struct {
	buf    *bufio.Writer
	w      *csv.Writer
	bom    bool
	comma  rune
	row    []string
	finish func() error // flushes the encoder, if any
}

func newCSVWriter(w io.Writer, opts WriterOptions) (*csvWriter, error) {
	comma := opts.Delimiter
	if comma == 0 {
		comma = ','
	}
	if !ValidDelimiter(comma) {
		return nil, fmt.Errorf("CSV delimiter %q: use a comma, a semicolon or a tab", comma)
	}
	ew, finish, isUTF8, err := encodedWriter(w, opts.Encoding)
	if err != nil {
		return nil, err
	}
	// UTF-16 writes its own byte-order mark; a legacy encoding has none.
	bom := opts.BOM && isUTF8
	buf := bufio.NewWriterSize(ew, 64<<10)
	cw := csv.NewWriter(buf)
	cw.Comma = comma
	return &csvWriter{buf: buf, w: cw, bom: bom, comma: comma, finish: finish}, nil
}

func (c *csvWriter) WriteHeader(headers []string) error {
	if c.bom {
		if _, err := c.buf.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	// The reader detects the delimiter from the header line, counting
	// commas, semicolons and tabs outside quotes: a header cell holding any
	// of them is quoted so that it cannot outvote the file's delimiter.
	for i, h := range headers {
		if i > 0 {
			_, _ = c.buf.WriteRune(c.comma) // bufio keeps an error; the last WriteString returns it
		}
		h = EscapeFormula(h)
		if headerNeedsQuotes(h) {
			_, _ = c.buf.WriteString(`"` + strings.ReplaceAll(h, `"`, `""`) + `"`)
		} else {
			_, _ = c.buf.WriteString(h)
		}
	}
	_, err := c.buf.WriteString("\n")
	return err
}

// headerNeedsQuotes is encoding/csv's rule for quoting a field, plus a
// semicolon or tab anywhere.
func headerNeedsQuotes(h string) bool {
	if h == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(h)
	return h == `\.` || strings.ContainsAny(h, ",;\t\"\r\n") || unicode.IsSpace(r)
}

func (c *csvWriter) WriteRow(cells []string, _ []CellNote) error {
	c.row = c.row[:0]
	for _, v := range cells {
		c.row = append(c.row, EscapeFormula(v))
	}
	return c.w.Write(c.row)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	if err := c.buf.Flush(); err != nil {
		return err
	}
	return c.finish()
}

type xlsxWriter struct {
	out       io.Writer
	book      *excelize.File
	sheet     string
	sw        *excelize.StreamWriter
	row       int
	ncols     int
	bold      int
	highlight int
	headers   []string
	notes     []excelize.Comment
	cells     []any
	opts      WriterOptions
	numbers   map[int]bool // columns written as numbers (SetNumberColumns)
	listed    [][]string   // lists written to the Lists sheet, one per column
}

func newXLSXWriter(w io.Writer, opts WriterOptions) (*xlsxWriter, error) {
	if opts.SheetName == "" {
		opts.SheetName = "Users"
	}
	book := excelize.NewFile()
	// The fastest deflate level: a report of a million rows spends a third
	// of its time compressing at the default level, for a file that is
	// only a little smaller.
	book.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	if err := book.SetSheetName("Sheet1", opts.SheetName); err != nil {
		return nil, err
	}
	x := &xlsxWriter{out: w, book: book, sheet: opts.SheetName, opts: opts}
	var err error
	if x.bold, err = book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}}); err != nil {
		return nil, err
	}
	if x.highlight, err = book.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}}); err != nil {
		return nil, err
	}
	if x.sw, err = book.NewStreamWriter(x.sheet); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) WriteHeader(headers []string) error {
	x.headers = append([]string(nil), headers...)
	x.ncols = len(headers)
	// excelize puts each new width before the others, and readers expect the
	// columns in ascending order: set them from the last to the first.
	for i := len(headers) - 1; i >= 0; i-- {
		width := float64(len([]rune(headers[i]))) + 4
		width = max(12, min(width, 40))
		if err := x.sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	x.cells = make([]any, len(headers))
	for i, h := range headers {
		x.cells[i] = excelize.Cell{StyleID: x.bold, Value: h}
	}
	x.row = 1
	return x.sw.SetRow("A1", x.cells)
}

func (x *xlsxWriter) WriteRow(cells []string, notes []CellNote) error {
	x.row++
	row := make([]any, len(cells))
	for i, v := range cells {
		if n, ok := x.numberCell(i, v); ok {
			row[i] = n
		} else if v != "" { // an empty cell is left out of the row (nil)
			row[i] = EscapeText(v)
		}
	}
	for _, n := range notes {
		if n.Col < 0 || n.Col >= len(row) {
			continue
		}
		row[n.Col] = excelize.Cell{StyleID: x.highlight, Value: row[n.Col]}
		if len(x.notes) < MaxCellComments {
			ref, err := excelize.CoordinatesToCellName(n.Col+1, x.row)
			if err != nil {
				return err
			}
			x.notes = append(x.notes, excelize.Comment{Cell: ref, Author: "ccbulk", Text: n.Text})
		}
	}
	ref, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sw.SetRow(ref, row)
}

func (x *xlsxWriter) Close() error {
	defer x.book.Close()
	// The autofilter, drop-downs and comments go into the worksheet before
	// Flush writes its tail: after Flush, excelize would load the whole
	// streamed sheet back into memory to add them.
	if x.ncols > 0 {
		last, err := excelize.CoordinatesToCellName(x.ncols, max(x.row, 1))
		if err != nil {
			return err
		}
		if err := x.book.AutoFilter(x.sheet, "A1:"+last, nil); err != nil {
			return fmt.Errorf("autofilter: %w", err)
		}
		if err := x.addFlagDropDowns(); err != nil {
			return err
		}
		if err := x.addListDropDowns(); err != nil {
			return err
		}
	}
	for _, c := range x.notes {
		if err := x.book.AddComment(x.sheet, c); err != nil {
			return fmt.Errorf("comment on %s: %w", c.Cell, err)
		}
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if len(x.opts.Instructions) > 0 {
		if err := x.addInstructions(); err != nil {
			return err
		}
	}
	if err := x.addListsSheet(); err != nil {
		return err
	}
	return x.book.Write(x.out)
}

// addFlagDropDowns offers TRUE and FALSE on every TRUE/FALSE column.
func (x *xlsxWriter) addFlagDropDowns() error {
	for i, h := range x.headers {
		c, ok := schema.LookupHeader(h)
		if !ok || !c.IsFlag() {
			continue
		}
		col := columnLetter(i)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s1048576", col, col)
		if err := dv.SetDropList([]string{"TRUE", "FALSE"}); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, h, "Choose TRUE or FALSE.")
		if err := x.book.AddDataValidation(x.sheet, dv); err != nil {
			return fmt.Errorf("drop-down on %s: %w", h, err)
		}
	}
	return nil
}

// inlineList reports whether values can be written into the validation
// itself: Excel allows 255 characters there, commas separate the values,
// and a list starting with "=" would be read as a formula.
func inlineList(values []string) bool {
	n := 0
	for _, v := range values {
		if strings.ContainsAny(v, `,"`) || strings.HasPrefix(v, "=") {
			return false
		}
		n += utf16Len(v) + 1
	}
	return n-1 <= excelize.MaxFieldLength
}

// utf16Len is the length of s in UTF-16 code units, as Excel counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// addListDropDowns offers each of opts.Lists on its column. A list that
// cannot be written inline goes to a column of the hidden Lists sheet,
// which the validation refers to (written after the data sheet is flushed).
func (x *xlsxWriter) addListDropDowns() error {
	x.listed = x.listed[:0]
	for _, l := range x.opts.Lists {
		i := slices.Index(x.headers, l.Header)
		if i < 0 || len(l.Values) == 0 {
			continue
		}
		col := columnLetter(i)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s1048576", col, col)
		if inlineList(l.Values) {
			if err := dv.SetDropList(l.Values); err != nil {
				return fmt.Errorf("drop-down on %s: %w", l.Header, err)
			}
		} else {
			x.listed = append(x.listed, l.Values)
			lc := columnLetter(len(x.listed) - 1)
			dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$1:$%s$%d", ListsSheet, lc, lc, len(l.Values)))
		}
		dv.SetError(excelize.DataValidationErrorStyleWarning, l.Header, "Not one of the organization's values; the import will say whether it is accepted.")
		if err := x.book.AddDataValidation(x.sheet, dv); err != nil {
			return fmt.Errorf("drop-down on %s: %w", l.Header, err)
		}
	}
	return nil
}

// addListsSheet writes the lists the drop-downs refer to, one per column,
// on a hidden sheet.
func (x *xlsxWriter) addListsSheet() error {
	if len(x.listed) == 0 {
		return nil
	}
	if _, err := x.book.NewSheet(ListsSheet); err != nil {
		return err
	}
	for c, values := range x.listed {
		for r, v := range values {
			ref, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return err
			}
			if err := x.book.SetCellStr(ListsSheet, ref, v); err != nil {
				return err
			}
		}
	}
	return x.book.SetSheetVisible(ListsSheet, false)
}

func (x *xlsxWriter) addInstructions() error {
	const name = "Instructions"
	if _, err := x.book.NewSheet(name); err != nil {
		return err
	}
	if err := x.book.SetColWidth(name, "A", "A", 110); err != nil {
		return err
	}
	for i, line := range x.opts.Instructions {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.book.SetCellStr(name, ref, line); err != nil {
			return err
		}
	}
	return nil
}
