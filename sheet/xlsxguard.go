package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/schema"
)

// An XLSX file is a zip of XML parts. excelize unpacks every part before
// the first row is read: worksheets and the shared strings go to temporary
// files when they are large, every other part into memory; then it parses
// the worksheet one element at a time. checkPackage looks at the package
// before excelize does, so that a hostile workbook is refused with F-LIMIT
// instead of filling the memory or the disk:
//
//   - the sizes the zip directory declares (archive/zip refuses a part that
//     inflates past its declared size): their total is at most MaxUnzipSize,
//     a part held in memory (anything but a worksheet or the shared strings
//     larger than MaxXMLSize) at most MaxXMLSize, all of them together at
//     most maxInMemoryParts × MaxXMLSize; and at most maxParts parts;
//   - the shape of every worksheet (every part named xl/worksheets/sheet*,
//     and every part the workbook's relationships name as a worksheet,
//     wherever it is stored) and of the shared strings, read as a stream:
//     at most maxRowCells cells in a row (a cell without a column reference
//     extends its row by one, without limit), no text or tag longer than
//     maxXMLRun bytes, elements nested at most maxXMLDepth deep;
//   - the shared-strings table: at most MaxSharedStrings strings and
//     MaxSharedStringsSize bytes decompressed (excelize keeps about a
//     hundred bytes per string in memory: a 439 KB workbook of empty <si/>
//     items took 3.9 GB).
const (
	maxRowCells = excelize.MaxColumns // 16,384, the format's widest row
	maxXMLRun   = 1 << 20             // a cell holds at most 32,767 characters
	maxXMLDepth = 256
	maxParts    = 10_000 // an honest workbook has tens of parts, a few hundred with pictures
	// At most this many times MaxXMLSize is held in memory in all: the
	// parts that are not streamed, and the worksheets too small to be.
	maxInMemoryParts = 8
)

// oleSignature starts an encrypted workbook and an Excel 97-2003 .xls file.
var oleSignature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

func checkPackage(name string, f io.ReaderAt, size int64, lim Limits) error {
	head := make([]byte, len(oleSignature))
	if n, _ := f.ReadAt(head, 0); n == len(head) && bytes.Equal(head, oleSignature) {
		return fileErr(schema.FFormat, name, "is a password-protected workbook or an Excel 97-2003 (.xls) file; save it as Excel Workbook (.xlsx) without a password, or as CSV UTF-8")
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: "not a readable XLSX workbook (" + errText(err) + "); save it again from the spreadsheet program as Excel Workbook (.xlsx), or as CSV UTF-8"}
	}
	if len(zr.File) > maxParts {
		return &schema.FileError{Rule: schema.FLimit, File: name,
			Message: fmt.Sprintf("the workbook has %d parts, over the limit of %d; it is not an honest sheet of users", len(zr.File), maxParts)}
	}
	var total, inMemory uint64
	var stream []*zip.File
	var rels, sst *zip.File
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > uint64(lim.MaxUnzipSize) {
			return &schema.FileError{Rule: schema.FLimit, File: name,
				Message: fmt.Sprintf("the workbook decompresses to more than %s (--max-unzip-size); it is not an honest sheet of users, or raise the limit", formatSize(lim.MaxUnzipSize))}
		}
		part := partName(zf.Name)
		switch part {
		case "xl/_rels/workbook.xml.rels":
			rels = zf
		case "xl/sharedstrings.xml":
			sst = zf
			if zf.UncompressedSize64 > uint64(lim.MaxSharedStringsSize) {
				return &schema.FileError{Rule: schema.FLimit, File: name,
					Message: fmt.Sprintf("the workbook's shared-strings table decompresses to %d bytes, over the limit of %s; %s", zf.UncompressedSize64, formatSize(lim.MaxSharedStringsSize), sharedStringsAdvice)}
			}
		}
		streamed := strings.HasPrefix(part, "xl/worksheets/sheet") || part == "xl/sharedstrings.xml"
		if streamed {
			stream = append(stream, zf)
		} else if zf.UncompressedSize64 > uint64(lim.MaxXMLSize) {
			return &schema.FileError{Rule: schema.FLimit, File: name,
				Message: fmt.Sprintf("part %s of the workbook decompresses to %d bytes, over the limit of %s (--max-xml-size); it is not an honest sheet of users, or raise the limit", validText(zf.Name), zf.UncompressedSize64, formatSize(lim.MaxXMLSize))}
		}
		if !streamed || zf.UncompressedSize64 <= uint64(lim.MaxXMLSize) {
			inMemory += zf.UncompressedSize64
			if inMemory > maxInMemoryParts*uint64(lim.MaxXMLSize) {
				return &schema.FileError{Rule: schema.FLimit, File: name,
					Message: fmt.Sprintf("the parts of the workbook held in memory add up to more than %s (%d × --max-xml-size); it is not an honest sheet of users, or raise the limit", formatSize(maxInMemoryParts*lim.MaxXMLSize), maxInMemoryParts)}
			}
		}
	}
	if rels != nil {
		// Worksheets stored elsewhere (xl/worksheets/data.xml, …) are held
		// in memory by excelize, within MaxXMLSize; their shape is checked
		// as any worksheet's.
		targets, err := worksheetTargets(name, rels)
		if err != nil {
			return err
		}
		for _, zf := range zr.File {
			if targets[partName(zf.Name)] && !slices.Contains(stream, zf) {
				stream = append(stream, zf)
			}
		}
	}
	for _, zf := range stream {
		if err := checkPart(name, zf, zf == sst, lim); err != nil {
			return err
		}
	}
	return nil
}

// sharedStringsAdvice says what to do with a workbook whose shared-strings
// table is over its limits.
const sharedStringsAdvice = "it is not an honest sheet of users; save the sheet as CSV UTF-8 (which has no such table) and import that, or split the workbook"

// partName is the name of a zip part as excelize looks it up: forward
// slashes, lower case.
func partName(zipName string) string {
	return strings.ToLower(strings.ReplaceAll(zipName, `\`, "/"))
}

// worksheetTargets returns the part names (as partName writes them) that
// the workbook's relationships name as worksheets. A target is relative to
// xl/, or absolute from the package root.
func worksheetTargets(name string, rels *zip.File) (map[string]bool, error) {
	rc, err := rels.Open()
	if err != nil {
		return nil, &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: fmt.Sprintf("part %s of the workbook cannot be read (%s); save it again from the spreadsheet program", validText(rels.Name), errText(err))}
	}
	defer rc.Close()
	var doc struct {
		Relationships []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(rc).Decode(&doc); err != nil {
		return nil, &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: fmt.Sprintf("part %s of the workbook is corrupt (%s); save it again from the spreadsheet program", validText(rels.Name), errText(err))}
	}
	targets := map[string]bool{}
	for _, r := range doc.Relationships {
		if !strings.HasSuffix(r.Type, "/worksheet") {
			continue
		}
		t := strings.ReplaceAll(r.Target, `\`, "/")
		if strings.HasPrefix(t, "/") {
			targets[partName(path.Clean(t)[1:])] = true
		} else {
			targets[partName(path.Join("xl", t))] = true
		}
		// excelize also takes a target without its xl/ prefix as it is.
		targets[partName(strings.TrimPrefix(path.Clean("/"+t), "/"))] = true
	}
	return targets, nil
}

// checkPart reads one streamed part through xmlShape; the shared-strings
// table also has its strings counted.
func checkPart(name string, zf *zip.File, sharedStrings bool, lim Limits) error {
	rc, err := zf.Open()
	if err != nil {
		return &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: fmt.Sprintf("part %s of the workbook cannot be read (%s); save it again from the spreadsheet program", validText(zf.Name), errText(err))}
	}
	defer rc.Close()
	shape := &xmlShape{}
	if _, err := io.Copy(shape, rc); err != nil {
		var se *shapeError
		if errors.As(err, &se) {
			return &schema.FileError{Rule: schema.FLimit, File: name,
				Message: fmt.Sprintf("part %s of the workbook: %s; it is not an honest sheet of users", validText(zf.Name), validText(se.msg))}
		}
		return &schema.FileError{Rule: schema.FFormat, File: name, Err: err,
			Message: fmt.Sprintf("part %s of the workbook is corrupt (%s); save it again from the spreadsheet program", validText(zf.Name), errText(err))}
	}
	if sharedStrings && shape.strings > lim.MaxSharedStrings {
		return &schema.FileError{Rule: schema.FLimit, File: name,
			Message: fmt.Sprintf("the workbook's shared-strings table holds %d strings, over the limit of %d; %s", shape.strings, lim.MaxSharedStrings, sharedStringsAdvice)}
	}
	return nil
}

type shapeError struct{ msg string }

func (e *shapeError) Error() string { return e.msg }

// xmlShape is an io.Writer that follows the tags of an XML stream without
// parsing it, enough to bound what a parser of it would hold.
type xmlShape struct {
	inTag bool
	run   int    // bytes of the current text or tag
	head  []byte // first bytes of the current tag
	last  byte   // last byte of the current tag
	depth int
	rows  int // <row> elements seen
	cells int // <c> elements in the current row

	strings int // <si> elements seen
}

const tagHead = 48

func (s *xmlShape) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if !s.inTag {
			i := bytes.IndexByte(p, '<')
			if i < 0 {
				return n, s.grow(len(p))
			}
			if err := s.grow(i); err != nil {
				return n, err
			}
			s.inTag, s.run, s.head, s.last = true, 0, s.head[:0], 0
			p = p[i+1:]
			continue
		}
		i := bytes.IndexByte(p, '>')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if room := tagHead - len(s.head); room > 0 {
			s.head = append(s.head, seg[:min(room, len(seg))]...)
		}
		if len(seg) > 0 {
			s.last = seg[len(seg)-1]
		}
		if err := s.grow(len(seg)); err != nil {
			return n, err
		}
		if i < 0 {
			return n, nil
		}
		s.inTag, s.run = false, 0
		if err := s.tag(); err != nil {
			return n, err
		}
		p = p[i+1:]
	}
	return n, nil
}

func (s *xmlShape) grow(n int) error {
	s.run += n
	if s.run > maxXMLRun {
		what := "a text"
		if s.inTag {
			what = "a tag"
		}
		return &shapeError{msg: fmt.Sprintf("%s longer than %d bytes", what, maxXMLRun)}
	}
	return nil
}

// tag takes note of the tag just closed.
func (s *xmlShape) tag() error {
	h := s.head
	if len(h) == 0 || h[0] == '?' || h[0] == '!' {
		return nil // declaration, comment, CDATA, doctype
	}
	end := h[0] == '/'
	if end {
		h = h[1:]
	}
	if i := bytes.IndexAny(h, " \t\r\n/"); i >= 0 {
		h = h[:i]
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		h = h[i+1:]
	}
	if end {
		s.depth--
		return nil
	}
	if s.last != '/' {
		s.depth++
		if s.depth > maxXMLDepth {
			return &shapeError{msg: fmt.Sprintf("elements nested more than %d deep", maxXMLDepth)}
		}
	}
	switch string(h) {
	case "row":
		s.rows++
		s.cells = 0
	case "c":
		s.cells++
		if s.cells > maxRowCells {
			return &shapeError{msg: fmt.Sprintf("row element %d has more than %d cells", s.rows, maxRowCells)}
		}
	case "si":
		s.strings++
	}
	return nil
}

// formatSize writes a byte count the way the --max-*-size flags take it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseSize reads a size such as 4GiB, 500MB, 64MiB or 1048576 (bytes).
// KB, MB, GB are powers of 1000; KiB, MiB, GiB powers of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}}
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(t, &n); err != nil || n <= 0 || fmt.Sprint(n) != t {
		return 0, fmt.Errorf("%q is not a size; write bytes, or a number with KiB, MiB, GiB (or KB, MB, GB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
