package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/ccbulk/ccbulk/schema"
)

// Encodings lists the legacy encodings --encoding accepts.
var Encodings = map[string]encoding.Encoding{
	"windows-1250": charmap.Windows1250,
	"windows-1252": charmap.Windows1252,
	"iso-8859-2":   charmap.ISO8859_2,
}

// EncodingNames returns the accepted --encoding values, for messages.
func EncodingNames() string { return "windows-1250, windows-1252, iso-8859-2" }

// sniffSize is how much of a CSV is looked at to find its encoding and delimiter.
const sniffSize = 64 << 10

type csvReader struct {
	name    string
	closer  io.Closer
	r       *csv.Reader
	header  []string
	limits  Limits
	row     int // spreadsheet row of the last record returned
	endLine int // physical line on which the last record ended
	rows    int
	// decodedFrom names the encoding the text was decoded from ("" for
	// UTF-8): a byte not valid there comes out as U+FFFD.
	decodedFrom string
	limiter     *rowLimiter
	counted     *countingReader // the bytes read from the file
	size        int64           // the file's size; 0: unknown
}

// rowLimiter bounds the memory one CSV record can take: it fails a read
// once more than max bytes have been read past the end of the last
// complete record (mark). Without it a quote missing its closing quote
// would make the rest of a big file one cell held in memory.
type rowLimiter struct {
	r          io.Reader
	read, mark int64
	max        int64
}

var errRowTooLong = errors.New("row too long")

func (l *rowLimiter) Read(p []byte) (int, error) {
	// Buffers above (bufio, encoding/csv) read ahead by less than sniffSize
	// plus a few kilobytes: allow for them.
	if l.read-l.mark > l.max+2*sniffSize {
		return 0, errRowTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

func newCSVReader(name string, rc io.ReadCloser, opts Options) (*csvReader, error) {
	counted := &countingReader{r: rc}
	src, decodedFrom, err := decodedCSV(name, counted, opts.Encoding)
	if err != nil {
		return nil, err
	}
	limiter := &rowLimiter{r: src, max: opts.Limits.MaxRowBytes}
	br := bufio.NewReaderSize(limiter, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fileErr(schema.FFormat, name, "cannot read the file: %v", err)
	}
	if crOnlyLines(head) {
		// Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR.
		br = bufio.NewReaderSize(crToLF{br}, sniffSize)
		head, _ = br.Peek(sniffSize)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, fileErr(schema.FHeader, name, "the file is empty; it needs a header row with at least an Email column")
	}
	if i := bytes.IndexByte(firstLine(head), 0); i >= 0 {
		return nil, &schema.FileError{Rule: schema.FEncoding, File: name, Row: 1,
			Message: "the header line holds NUL bytes: the file looks like UTF-16 without a byte-order mark; save it as CSV UTF-8 (or Unicode text with its BOM)"}
	}
	cr := csv.NewReader(br)
	cr.Comma = detectDelimiter(firstLine(head))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	c := &csvReader{name: name, closer: rc, r: cr, limits: opts.Limits, decodedFrom: decodedFrom, limiter: limiter,
		counted: counted, size: regularSize(rc)}
	header, err := cr.Read()
	if err != nil {
		return nil, c.readErr(err)
	}
	limiter.mark = cr.InputOffset()
	if isBlankEscaped(header) {
		return nil, &schema.FileError{Rule: schema.FHeader, File: name, Row: 1,
			Message: "row 1 is blank; the first row must be the header, with at least an Email column"}
	}
	if len(header) > c.limits.MaxColumns {
		return nil, &schema.FileError{Rule: schema.FLimit, File: name, Row: 1,
			Message: "the header has " + itoa(len(header)) + " columns, over the limit of " + itoa(c.limits.MaxColumns) + "; remove the extra columns"}
	}
	c.header = make([]string, len(header))
	for i, h := range header {
		if !c.validText(h) {
			return nil, c.encodingErr(1, i)
		}
		c.header[i] = UnescapeFormula(strings.Clone(h)) // a report's headers are written escaped
	}
	c.row, c.endLine = 1, c.recordEndLine(header)
	return c, nil
}

// Extent returns the bytes read from the file so far, and its size when
// it is a regular file.
func (c *csvReader) Extent() Extent {
	return Extent{BytesRead: c.counted.n.Load(), TotalBytes: c.size}
}

// decodedCSV returns the file's text as UTF-8, and the encoding it was
// decoded from ("" when it is UTF-8). A byte-order mark wins; then text that
// is valid UTF-8; then the --encoding named. Invalid UTF-8 without
// --encoding is reported per record, with its line, by Next.
func decodedCSV(name string, rc io.Reader, enc string) (io.Reader, string, error) {
	br := bufio.NewReaderSize(rc, sniffSize)
	head, _ := br.Peek(sniffSize)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3) // the three bytes were peeked: they are buffered
		return br, "", nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), "UTF-16", nil
	}
	if enc == "" || strings.EqualFold(enc, "utf-8") || strings.EqualFold(enc, "utf8") {
		return br, "", nil
	}
	e, ok := Encodings[strings.ToLower(enc)]
	if !ok {
		return nil, "", fileErr(schema.FEncoding, name, "unknown encoding %q; use one of %s", enc, EncodingNames())
	}
	if hasUTF8Multibyte(head) {
		return br, "", nil // the file is UTF-8 after all; decoding it again would garble it
	}
	return transform.NewReader(br, e.NewDecoder()), strings.ToLower(enc), nil
}

// crOnlyLines reports whether the first line break in head is a lone CR.
func crOnlyLines(head []byte) bool {
	inQuotes := false // a line break inside a quoted cell is not the file's
	for i, b := range head {
		switch {
		case b == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case b == '\n':
			return false
		case b == '\r':
			return i+1 < len(head) && head[i+1] != '\n'
		}
	}
	return false
}

// crToLF turns every CR into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// validText reports whether a cell survived decoding intact: valid UTF-8,
// and, for text decoded from another encoding, no U+FFFD (what a byte that
// is not valid there becomes).
func (c *csvReader) validText(s string) bool {
	if c.decodedFrom != "" {
		return !strings.ContainsRune(s, utf8.RuneError)
	}
	return utf8.ValidString(s)
}

// hasUTF8Multibyte reports whether b is valid UTF-8 holding at least one
// non-ASCII character (a cut at the end of b is allowed).
func hasUTF8Multibyte(b []byte) bool {
	multi := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			if len(b) < utf8.UTFMax && !utf8.FullRune(b) {
				break
			}
			return false
		}
		if size > 1 {
			multi = true
		}
		b = b[size:]
	}
	return multi
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// detectDelimiter picks the delimiter that occurs most often outside quotes
// in the header line: comma, semicolon or tab (comma when none occurs).
func detectDelimiter(line []byte) rune {
	counts := map[rune]int{}
	inQuotes := false
	for _, c := range string(line) {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case !inQuotes && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

func (c *csvReader) Header() []string { return c.header }

func (c *csvReader) Next() (Record, error) {
	for {
		fields, err := c.r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Record{}, io.EOF
			}
			return Record{}, c.readErr(err)
		}
		c.limiter.mark = c.r.InputOffset()
		startLine, _ := c.r.FieldPos(0)
		// encoding/csv skips empty lines; a spreadsheet shows each as a row.
		c.row += 1 + max(0, startLine-c.endLine-1)
		c.endLine = c.recordEndLine(fields)
		if isBlankEscaped(fields) {
			continue
		}
		c.rows++
		if c.rows > c.limits.MaxRows {
			return Record{}, &schema.FileError{Rule: schema.FLimit, File: c.name, Row: c.row,
				Message: "the file has more than " + itoa(c.limits.MaxRows) + " data rows; split it or raise --max-rows"}
		}
		for i, f := range fields {
			if !c.validText(f) {
				return Record{}, c.encodingErr(c.row, i)
			}
			fields[i] = UnescapeFormula(f)
		}
		if len(fields) > len(c.header) {
			for i := len(c.header); i < len(fields); i++ {
				if strings.TrimSpace(fields[i]) != "" {
					line, _ := c.r.FieldPos(i)
					return Record{}, &schema.FileError{Rule: schema.FFormat, File: c.name, Row: c.row,
						Message: "line " + itoa(line) + " has " + itoa(len(fields)) + " cells but the header has " + itoa(len(c.header)) +
							"; a cell holding the delimiter must be quoted, or the header is missing a column"}
				}
			}
			fields = fields[:len(c.header)]
		}
		return Record{Row: c.row, Line: startLine, Fields: fields}, nil
	}
}

// recordEndLine returns the physical line the record just read ended on.
func (c *csvReader) recordEndLine(fields []string) int {
	if len(fields) == 0 {
		return 0
	}
	last := len(fields) - 1
	line, _ := c.r.FieldPos(last)
	return line + strings.Count(fields[last], "\n")
}

func (c *csvReader) encodingErr(row, field int) error {
	line, col := c.r.FieldPos(field)
	column := ""
	if field < len(c.header) && row > 1 {
		column = c.header[field]
	}
	if c.decodedFrom != "" {
		return &schema.FileError{Rule: schema.FEncoding, File: c.name, Row: row, Column: column,
			Message: "line " + itoa(line) + ": a byte that is not valid " + c.decodedFrom + "; save the file as CSV UTF-8, or name its encoding with --encoding (" + EncodingNames() + ")"}
	}
	return &schema.FileError{Rule: schema.FEncoding, File: c.name, Row: row, Column: column,
		Message: "line " + itoa(line) + ", byte " + itoa(col) + ": not valid UTF-8; save the file as CSV UTF-8, or name its encoding with --encoding (" + EncodingNames() + ")"}
}

func (c *csvReader) readErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		row := c.row + 1 + max(0, pe.StartLine-c.endLine-1) // blank lines before the record are rows too
		var msg string
		switch {
		case errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine:
			msg = fmt.Sprintf("line %d: the quoted cell that starts on this line is not closed (the file ends on line %d); add the closing quote, and write a quote inside a quoted cell twice (\"\")",
				pe.StartLine, pe.Line)
		case errors.Is(pe.Err, csv.ErrQuote):
			msg = fmt.Sprintf("line %d, byte %d: a quoted cell is not closed, or has text after its closing quote; write a quote inside a quoted cell twice (\"\")",
				pe.Line, pe.Column)
		case errors.Is(pe.Err, csv.ErrBareQuote):
			msg = fmt.Sprintf("line %d, byte %d: %v; check the quotes on that line: a cell holding a quote is written in quotes, with the quote written twice (\"\")",
				pe.Line, pe.Column, pe.Err)
		default:
			msg = fmt.Sprintf("line %d, byte %d: %s", pe.Line, pe.Column, errText(pe.Err))
		}
		return &schema.FileError{Rule: schema.FFormat, File: c.name, Row: row, Err: err, Message: msg}
	}
	if errors.Is(err, errRowTooLong) {
		return &schema.FileError{Rule: schema.FLimit, File: c.name, Row: c.row + 1, Err: err,
			Message: fmt.Sprintf("the row that starts on line %d is longer than %s; a quoted cell is probably missing its closing quote", c.endLine+1, formatSize(c.limits.MaxRowBytes))}
	}
	return &schema.FileError{Rule: schema.FFormat, File: c.name, Row: c.row + 1, Err: err, Message: "cannot read the file: " + errText(err)}
}

func (c *csvReader) Close() error { return c.closer.Close() }

// isBlankEscaped reports whether every cell is blank once its formula
// escape is taken off: a writer escapes a lone tab or CR as "'\t".
func isBlankEscaped(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(UnescapeFormula(f)) != "" {
			return false
		}
	}
	return true
}

func isBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
