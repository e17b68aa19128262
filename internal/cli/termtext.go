package cli

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccbulk/ccbulk/schema"
)

// termText makes text from a sheet (a header, a cell, a message quoting
// one, a file name) safe to print on a terminal: every control character
// (C0, DEL, C1) and every other character that does not print (format
// characters such as bidirectional overrides, line and paragraph
// separators, spaces other than the plain space) is written as the escape
// strconv.Quote would write (\x1b, \r, \n, \u202e), and a byte that is not
// UTF-8 as \xNN. So a cell holding ESC [2J cannot clear the screen, and a
// CR or LF cannot forge a summary line. It is applied at the edge only:
// the database and the report keep the text as it is.
func termText(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[0])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[0])&0xF, 16))
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// needsEscape reports whether r may not be printed to a terminal as it is.
// strings.IndexFunc passes invalid bytes as utf8.RuneError, which is then
// decoded again to tell it from a real U+FFFD.
func needsEscape(r rune) bool {
	return r == utf8.RuneError || (r != ' ' && !unicode.IsPrint(r))
}

// errorText is the message of an error for the terminal. A file-level
// finding that names a file or a column (a header as the sheet spells it)
// is one line with everything escaped; other messages may list things on
// lines of their own (an undo's conflicts, the changes an actor may not
// make), so only their lines are escaped.
func errorText(err error) string {
	var fe *schema.FileError
	if errors.As(err, &fe) && (fe.File != "" || fe.Column != "") {
		return termText(err.Error())
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = termText(l)
	}
	return strings.Join(lines, "\n")
}
