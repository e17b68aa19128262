package sheet

import "strings"

// A cell that starts with one of these runs as a formula when a spreadsheet
// program opens a CSV (CSV injection).
const formulaTriggers = "=+-@\t\r"

// EscapeFormula makes a CSV cell show as text in a spreadsheet: a value that
// would run as a formula gets a leading apostrophe. Values that already start
// with apostrophes before a trigger get one more, so UnescapeFormula gives
// back exactly the original for every value.
func EscapeFormula(s string) string {
	if needsEscape(s) {
		return "'" + s
	}
	return s
}

// UnescapeFormula reverses EscapeFormula.
func UnescapeFormula(s string) string {
	if strings.HasPrefix(s, "'") && needsEscape(s[1:]) {
		return s[1:]
	}
	return s
}

func needsEscape(s string) bool {
	t := strings.TrimLeft(s, "'")
	return t != "" && strings.IndexByte(formulaTriggers, t[0]) >= 0
}
