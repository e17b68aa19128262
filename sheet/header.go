package sheet

import (
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// Layout says where each template column sits in a sheet.
type Layout struct {
	Headers []string               // the header row as the file spells it
	Index   [schema.NumColumns]int // position of each column; -1 when absent
	Unknown []string               // headers that match no column, in file order
	Report  []int                  // positions of a report's Row, Status, Findings; nil if none
}

// Has reports whether the sheet has the column.
func (l *Layout) Has(c schema.Column) bool { return l.Index[c] >= 0 }

// Cell returns the raw value of column c in fields ("" when absent).
func (l *Layout) Cell(fields []string, c schema.Column) string {
	i := l.Index[c]
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// Original returns the cells of fields that are not a report's own columns,
// with their headers: what a report writes back as "the original columns".
func (l *Layout) OriginalHeaders() []string {
	return l.dropReport(l.Headers)
}

// OriginalCells returns the row's cells in OriginalHeaders order, padding a
// short row with blanks.
func (l *Layout) OriginalCells(fields []string) []string {
	padded := fields
	if len(fields) < len(l.Headers) {
		padded = make([]string, len(l.Headers))
		copy(padded, fields)
	}
	return l.dropReport(padded[:len(l.Headers)])
}

func (l *Layout) dropReport(cells []string) []string {
	if l.Report == nil {
		return cells
	}
	out := make([]string, 0, len(cells)-len(l.Report))
	for i, c := range cells {
		if i >= l.Report[0] && i <= l.Report[len(l.Report)-1] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// MatchHeader maps a header row onto the template's columns. Headers match
// case-insensitively with surrounding spaces ignored, in any order. A
// trailing Row, Status, Findings group (an error report's own columns) is
// recognized and skipped, so a report imports again as it is. It is
// F-HEADER when there is no Email column or two headers name one column.
func MatchHeader(file string, headers []string) (*Layout, error) {
	l := &Layout{Headers: headers}
	for i := range l.Index {
		l.Index[i] = -1
	}
	l.Report = findReportGroup(headers)
	for i, h := range headers {
		if l.Report != nil && i >= l.Report[0] && i <= l.Report[2] {
			continue
		}
		if strings.TrimSpace(h) == "" {
			continue // an unnamed column, as spreadsheets leave after the last one
		}
		c, ok := schema.LookupHeader(h)
		if !ok {
			l.Unknown = append(l.Unknown, h)
			continue
		}
		if prev := l.Index[c]; prev >= 0 {
			return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1, Column: h,
				Message: fmt.Sprintf("columns %s and %s (%q and %q) both name the %s column; keep one of them",
					columnLetter(prev), columnLetter(i), headers[prev], h, c.Header())}
		}
		l.Index[c] = i
	}
	if l.Index[schema.ColEmail] < 0 {
		return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1,
			Message: fmt.Sprintf("no Email column; the first row must be the header, with at least Email (the header read was %s)", quoteList(abbreviate(headers, 8)))}
	}
	return l, nil
}

// findReportGroup returns the positions of the last consecutive
// Row, Status, Findings headers, or nil.
func findReportGroup(headers []string) []int {
	want := schema.ReportHeaders()
	for i := len(headers) - len(want); i >= 0; i-- {
		match := true
		for j, w := range want {
			if schema.NormalizeHeader(headers[i+j]) != schema.NormalizeHeader(w) {
				match = false
				break
			}
		}
		if match {
			return []int{i, i + 1, i + 2}
		}
	}
	return nil
}

func abbreviate(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	out := append([]string{}, list[:n]...)
	return append(out, fmt.Sprintf("… %d more", len(list)-n))
}
