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

// EscapeText prepares a value for a cell typed text (XLSX), which never runs
// as a formula and so needs no apostrophe, except where reading it back
// would take one off: a value that is an apostrophe before a formula
// trigger gets one more. Readers unescape XLSX cells too, because a CSV
// written by EscapeFormula and saved as XLSX by a spreadsheet program keeps
// its apostrophes as text.
func EscapeText(s string) string {
	if UnescapeFormula(s) != s {
		return "'" + s
	}
	return s
}

// UnescapeFormula reverses EscapeFormula and EscapeText.
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
