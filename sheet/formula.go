package sheet

import "strings"

// A cell that starts with one of these runs as a formula when a spreadsheet
// program opens a CSV (CSV injection).
const formulaTriggers = "=+-@\t\r"

// splitters are the delimiters a spreadsheet program may split a CSV line on
// when it guesses, or is told, another delimiter than the file's: French
// Excel and LibreOffice read ";", others tab. A value holding "a;=1+2" is one
// cell in a comma CSV, but "=1+2" becomes a cell of its own (a live formula)
// when the line is split on ";".
const splitters = ",;\t"

// EscapeFormula makes a CSV cell show as text in a spreadsheet, however the
// program splits the line: at the start of the value and after each comma,
// semicolon or tab in it, a fragment that would run as a formula gets an
// apostrophe in front. A fragment that already starts with apostrophes
// before a trigger gets one more, so UnescapeFormula gives back exactly the
// original for every value. (Revision 1 files, escaped at the start only,
// read back as they were written, except for a value that held ",'=" or
// the like itself, which now loses that apostrophe.)
func EscapeFormula(s string) string {
	return escapeAt(s, needsEscape)
}

// EscapeText prepares a value for a cell typed text (XLSX), which never runs
// as a formula and so needs no apostrophe, except where reading it back
// would take one off: a fragment that is an apostrophe before a formula
// trigger gets one more. Readers unescape XLSX cells too, because a CSV
// written by EscapeFormula and saved as XLSX by a spreadsheet program keeps
// its apostrophes as text.
func EscapeText(s string) string {
	return escapeAt(s, func(rest string) bool { return rest[0] == '\'' && needsEscape(rest) })
}

// UnescapeFormula reverses EscapeFormula and EscapeText: at the start and
// after each comma, semicolon or tab, an apostrophe before apostrophes and a
// formula trigger is taken off.
func UnescapeFormula(s string) string {
	// Only an apostrophe is ever taken off: a value without one (nearly
	// every cell a reader unescapes) is returned after one fast scan.
	if strings.IndexByte(s, '\'') < 0 || !maybeEscaped(s) {
		return s
	}
	var b strings.Builder
	last, changed := 0, false
	for p := range boundaries(s) {
		if s[p] == '\'' && needsEscape(s[p+1:]) {
			if !changed {
				b.Grow(len(s))
				changed = true
			}
			b.WriteString(s[last:p])
			last = p + 1
		}
	}
	if !changed {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// escapeAt inserts an apostrophe at each boundary (the start, and after each
// splitter) where need says the rest of the value needs one.
func escapeAt(s string, need func(rest string) bool) string {
	if !maybeEscaped(s) {
		return s
	}
	var b strings.Builder
	last, changed := 0, false
	for p := range boundaries(s) {
		if need(s[p:]) {
			if !changed {
				b.Grow(len(s) + 4)
				changed = true
			}
			b.WriteString(s[last:p])
			b.WriteByte('\'')
			last = p
		}
	}
	if !changed {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maybeEscaped is a fast test: a value with no splitter and no trigger or
// apostrophe at its start has nothing to escape or unescape.
func maybeEscaped(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '\'' || strings.IndexByte(formulaTriggers, s[0]) >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == ';' || c == '\t' {
			return true
		}
	}
	return false
}

// boundaries yields the start of s and each position right after a
// splitter, where the rest is not empty.
func boundaries(s string) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		if !yield(0) {
			return
		}
		for i := 0; i < len(s)-1; i++ {
			if strings.IndexByte(splitters, s[i]) >= 0 && !yield(i+1) {
				return
			}
		}
	}
}

func needsEscape(s string) bool {
	t := strings.TrimLeft(s, "'")
	return t != "" && strings.IndexByte(formulaTriggers, t[0]) >= 0
}
