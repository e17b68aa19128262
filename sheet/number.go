package sheet

import "strconv"

// NumberColumns is implemented by writers that can store a column's cells as
// numbers rather than text (XLSX). A cell of such a column that is not a
// whole number is written as text all the same.
type NumberColumns interface {
	// SetNumberColumns names the zero-based columns whose cells are numbers.
	SetNumberColumns(cols ...int)
}

// SetNumberColumns makes the cells of cols numeric cells.
func (x *xlsxWriter) SetNumberColumns(cols ...int) {
	x.numbers = make(map[int]bool, len(cols))
	for _, c := range cols {
		x.numbers[c] = true
	}
}

// numberCell returns the value to store for the cell at column i: an int
// when the column holds numbers and v is one.
func (x *xlsxWriter) numberCell(i int, v string) (any, bool) {
	if !x.numbers[i] {
		return nil, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, false
	}
	return n, true
}
