package sheet

import (
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// Layout says where each template column sits in a sheet.
type Layout struct {
	Headers []string               // the header row as the file spells it
	Index   [schema.NumColumns]int // position of the column each template column comes from; -1 when none
	Unknown []string               // headers that match no column, in file order
	Aliased []Alias                // headers read as a column under its French or Polish name, in file order
	Report  []int                  // positions of a report's Row, Result, Findings; nil if none

	// Mapping, when set, computes the template cells of each row (a
	// mapping profile for another system's export); Uses then says what
	// became of each source column.
	Mapping RowMapping
	Uses    []ColumnUse
}

// Alias is a header read as a template column under the French or Polish
// name of that column (W-HEADER-ALIAS).
type Alias struct {
	Header string
	Column schema.Column
}

// Message says what became of the header, for W-HEADER-ALIAS.
func (a Alias) Message() string {
	return fmt.Sprintf("%q was read as %s", a.Header, a.Column.Header())
}

// RowMapping turns the cells of a row of another system's export into the
// template's cells.
type RowMapping interface {
	// Cells fills cells with the template cells of the row whose source
	// cells are fields, and returns findings about source values it cannot
	// map (they name the source column).
	Cells(row int, fields []string, cells *[schema.NumColumns]string) []schema.Finding
}

// ColumnUse says what a mapping made of one source column, or of one of
// its constants.
type ColumnUse struct {
	Header   string          // the source header; "" for a constant
	Targets  []schema.Column // the template columns it gives; none when ignored
	Values   bool            // its values go through the mapping's value map
	Constant string          // the value of a constant (Header is "")
	Ignored  bool            // left out on purpose by the mapping
	Alias    bool            // read as its template column under that column's French or Polish name (W-HEADER-ALIAS)
	Unknown  bool            // matches nothing (W-UNKNOWN-COLUMN)
}

// Has reports whether the sheet has the column.
func (l *Layout) Has(c schema.Column) bool { return l.Index[c] >= 0 }

// Cell returns the raw value of the sheet's column that column c comes from
// ("" when none). Under a mapping it is the source cell, before its value
// map: Cells gives the template cells.
func (l *Layout) Cell(fields []string, c schema.Column) string {
	i := l.Index[c]
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// Cells fills cells with the row's template cells, through the mapping when
// there is one, and returns the mapping's findings.
func (l *Layout) Cells(row int, fields []string, cells *[schema.NumColumns]string) []schema.Finding {
	if l.Mapping != nil {
		return l.Mapping.Cells(row, fields, cells)
	}
	for c := range schema.NumColumns {
		cells[c] = l.Cell(fields, c)
	}
	return nil
}

// ColumnHeaders names each template column as findings should: the header
// of the sheet's column it comes from, else the template's header.
func (l *Layout) ColumnHeaders() [schema.NumColumns]string {
	var headers [schema.NumColumns]string
	for c := range schema.NumColumns {
		if i := l.Index[c]; i >= 0 && i < len(l.Headers) {
			headers[c] = l.Headers[i]
		} else {
			headers[c] = c.Header()
		}
	}
	return headers
}

// OriginalHeaders returns the headers that are not a report's own columns:
// the columns a report writes back as "the original columns".
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
// trailing Row, Result, Findings group (an error report's own columns; Row,
// Status, Findings in a report of revision 1) is recognized and skipped, so a report imports again as it is. It is
// F-HEADER when there is no Email column or two headers name one column.
func MatchHeader(file string, headers []string) (*Layout, error) {
	l := &Layout{Headers: headers}
	for i := range l.Index {
		l.Index[i] = -1
	}
	l.Report = ReportGroup(headers)
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
		if schema.IsAlias(h, c) {
			l.Aliased = append(l.Aliased, Alias{Header: h, Column: c})
		}
	}
	if l.Index[schema.ColEmail] < 0 {
		return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1,
			Message: fmt.Sprintf("no Email column; the first row must be the header, with at least Email (the header read was %s)", HeaderSummary(headers))}
	}
	return l, nil
}

// ReportGroup returns the positions of the last consecutive Row, Result,
// Findings headers (an error report's own columns), or of a revision-1
// report's Row, Status, Findings, or nil.
func ReportGroup(headers []string) []int {
	groups := schema.ReportHeaderGroups()
	for i := len(headers) - 3; i >= 0; i-- {
		for _, want := range groups {
			if matchesGroup(headers[i:i+len(want)], want) {
				return []int{i, i + 1, i + 2}
			}
		}
	}
	return nil
}

func matchesGroup(headers, want []string) bool {
	for j, w := range want {
		if schema.NormalizeHeader(headers[j]) != schema.NormalizeHeader(w) {
			return false
		}
	}
	return true
}

// InReport reports whether position i is one of a report's own columns.
func (l *Layout) InReport(i int) bool {
	return l.Report != nil && i >= l.Report[0] && i <= l.Report[len(l.Report)-1]
}

// HeaderSummary quotes the first headers of a header row, for messages.
func HeaderSummary(headers []string) string { return quoteList(abbreviate(headers, 8)) }

// ColumnLetter names the column at position i (0-based) as a spreadsheet
// does: A, B, … Z, AA.
func ColumnLetter(i int) string { return columnLetter(i) }

func abbreviate(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	out := append([]string{}, list[:n]...)
	return append(out, fmt.Sprintf("… %d more", len(list)-n))
}
