package sheet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// Record is one data row of a sheet.
type Record struct {
	Row    int      // spreadsheet row number; the header is row 1
	Line   int      // physical line of a CSV record's first cell (Row for XLSX)
	Fields []string // cells in the header's column order; may be shorter than the header
}

// Reader yields the data rows of a sheet, one at a time.
type Reader interface {
	// Header returns the header row as the file spells it.
	Header() []string
	// Next returns the next non-blank data row, or io.EOF after the last.
	// The returned Fields are valid until the following call.
	Next() (Record, error)
	// Close releases the file and any temporary files.
	Close() error
}

// UnnamedColumnsReader is a Reader that ignores the values of columns
// whose header cell is blank (XLSX), and names those columns once the rows
// are read: docs/REFERENCE.md §2, The sheet, reports them with W-UNKNOWN-COLUMN.
type UnnamedColumnsReader interface {
	Reader
	// UnnamedColumns returns the letters of the columns with a blank
	// header cell that held a value in a row read so far, in sheet order.
	UnnamedColumns() []string
}

// Format is a file format.
type Format string

// The formats ccbulk reads and writes.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Limits bound what a reader accepts, so that a hostile file is refused with
// F-LIMIT before it costs unbounded memory or time. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	MaxRows      int   // data rows (blank rows aside)
	MaxColumns   int   // cells in the header row
	MaxUnzipSize int64 // total decompressed size of an XLSX (and its size on disk)
	// MaxXMLSize bounds each XLSX part that is held in memory (styles,
	// workbook, …). Worksheets and shared strings larger than this are
	// unpacked to temporary files and read as streams.
	MaxXMLSize  int64
	MaxRowBytes int64 // bytes of one CSV record (a row, with its quoted line breaks)
	// MaxSharedStrings bounds the strings of an XLSX shared-strings table,
	// and MaxSharedStringsSize its decompressed size: excelize keeps about
	// a hundred bytes of memory per shared string, empty or not.
	MaxSharedStrings     int
	MaxSharedStringsSize int64
}

// DefaultLimits pass any honest sheet: a CSV of a few million rows, a
// workbook of Excel's 1,048,576 rows (about 1 GB of XML for the template's
// 16 columns) written with inline strings, as ccbulk's own writer does, or
// with a shared-strings table of up to a million distinct texts (a
// workbook of a quarter of a million users saved by Excel). Any workbook
// within them is read in less than 300 MB of memory.
var DefaultLimits = Limits{
	MaxRows:              5_000_000,
	MaxColumns:           1024,
	MaxUnzipSize:         4 << 30,
	MaxXMLSize:           16 << 20,
	MaxRowBytes:          16 << 20,
	MaxSharedStrings:     1_000_000,
	MaxSharedStringsSize: 256 << 20,
}

func (l Limits) withDefaults() Limits {
	defaultIfUnset(&l.MaxRows, DefaultLimits.MaxRows)
	defaultIfUnset(&l.MaxColumns, DefaultLimits.MaxColumns)
	defaultIfUnset(&l.MaxUnzipSize, DefaultLimits.MaxUnzipSize)
	defaultIfUnset(&l.MaxXMLSize, DefaultLimits.MaxXMLSize)
	defaultIfUnset(&l.MaxRowBytes, DefaultLimits.MaxRowBytes)
	defaultIfUnset(&l.MaxSharedStrings, DefaultLimits.MaxSharedStrings)
	defaultIfUnset(&l.MaxSharedStringsSize, DefaultLimits.MaxSharedStringsSize)
	return l
}

// defaultIfUnset sets *v to d when it is zero or negative (unset).
func defaultIfUnset[T int | int64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Options tell Open how to read a file.
type Options struct {
	// Format forces a format; empty: from the content (a zip archive is
	// XLSX, text is CSV), else from the name (.xlsx is XLSX).
	Format   Format
	Encoding string // legacy encoding of a CSV without BOM that is not UTF-8
	Sheet    string // XLSX worksheet; empty: the first
	Limits   Limits
}

// FormatOf returns the format a file name implies. What a file holds
// decides how it is read (DetectFile); the name decides only when the
// content cannot be looked at.
func FormatOf(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".xlsm":
		return XLSX
	}
	return CSV
}

// Open opens the named file for reading; "-" reads stdin, CSV or XLSX told
// apart by content (a workbook is copied to a temporary file first, at most
// Limits.MaxUnzipSize bytes). The caller closes the returned Reader. Errors
// are *schema.FileError, or stdin's own read error.
func Open(name string, stdin io.Reader, opts Options) (Reader, error) {
	opts.Limits = opts.Limits.withDefaults()
	if name == "-" {
		in := PeekStdin(stdin)
		format := opts.Format
		if format == "" {
			var err error
			if format, err = in.PeekFormat(); err != nil {
				return nil, err
			}
		}
		if format == XLSX {
			return spoolStdin(in, opts)
		}
		if opts.Sheet != "" {
			return nil, fileErr(schema.FFormat, stdinName, "is CSV, which has one sheet; --sheet applies to XLSX workbooks")
		}
		return newCSVReader(stdinName, io.NopCloser(in), opts)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fileErr(schema.FFormat, name, "cannot read the file: %v; check the path", unwrapPathError(err))
	}
	if fi.IsDir() {
		return nil, fileErr(schema.FFormat, name, "is a directory, not a CSV or XLSX file; name the file inside it")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fileErr(schema.FFormat, name, "cannot open the file: %v", unwrapPathError(err))
	}
	if opts.Format == "" {
		if fi.Mode().IsRegular() {
			head := make([]byte, sniffLen)
			n, _ := f.ReadAt(head, 0)
			opts.Format, err = detect(name, f, fi.Size(), head[:n])
			if err != nil {
				f.Close()
				return nil, err
			}
		} else {
			opts.Format = FormatOf(name)
		}
	}
	var r Reader
	switch opts.Format {
	case XLSX:
		r, err = newXLSXReader(name, f, fi.Size(), opts)
	case CSV:
		r, err = newCSVReader(name, f, opts)
	default:
		err = fileErr(schema.FFormat, name, "unknown format %q; use csv or xlsx", opts.Format)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func fileErr(rule schema.RuleID, file, format string, args ...any) *schema.FileError {
	return &schema.FileError{Rule: rule, File: file, Message: fmt.Sprintf(format, args...)}
}
