package rules

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ccbulk/ccbulk/schema"
)

// MaxTextLen is the longest cell R-TEXT accepts, in characters.
const MaxTextLen = 1000

// Opt is a cell that may be blank: Set is false when the cell was blank or
// the column absent, which means "no change" (or the default for a new user).
type Opt[T any] struct {
	V   T
	Set bool
}

func some[T any](v T) Opt[T] { return Opt[T]{V: v, Set: true} }

// Input is one row of the sheet, parsed and checked cell by cell.
type Input struct {
	Row   int
	Email string // trimmed, lower-case; empty when R-EMAIL

	FirstName, LastName, DisplayName Opt[string]
	Username, PBX, HomeOrg, CCRole   Opt[string]
	CopyFrom                         Opt[string] // lower-case email
	Status                           Opt[schema.Status]

	Premium, Standard         Opt[bool]
	Full, CCService, ReadOnly Opt[bool]
	SendActivation            Opt[bool]
	// Version is the Version cell as written (trimmed): checked against
	// the user's state (R-STALE), never written to the user.
	Version Opt[string]

	// Headers names each column as the sheet spells it, for findings.
	Headers [schema.NumColumns]string
}

// Cells gives ParseRow the raw cell of each template column; absent columns
// give "".
type Cells func(schema.Column) string

// ParseRow parses the cells of one row: R-TEXT on every cell, R-EMAIL,
// R-BOOL and W-BOOL-LOCALE on the TRUE/FALSE columns, R-STATUS. headers
// names each column as the sheet spells it.
func ParseRow(row int, cell Cells, headers [schema.NumColumns]string) (Input, []schema.Finding) {
	in := Input{Row: row, Headers: headers}
	var fs []schema.Finding
	add := func(c schema.Column, id schema.RuleID, format string, args ...any) {
		fs = append(fs, schema.Finding{Row: row, Column: headers[c], Rule: id, Message: fmt.Sprintf(format, args...)})
	}
	text := func(c schema.Column) (string, bool) {
		raw := cell(c)
		if msg := checkText(raw); msg != "" {
			add(c, schema.RText, "%s", msg)
			return "", false
		}
		return canonicalLines(strings.TrimSpace(raw)), true
	}
	optText := func(c schema.Column) Opt[string] {
		if v, ok := text(c); ok && v != "" {
			return some(v)
		}
		return Opt[string]{}
	}
	flag := func(c schema.Column) Opt[bool] {
		v, ok := text(c)
		if !ok || v == "" {
			return Opt[bool]{}
		}
		b, locale, ok := ParseBool(v)
		if !ok {
			add(c, schema.RBool, "%q is not TRUE or FALSE; write TRUE or FALSE, or leave the cell blank for no change", v)
			return Opt[bool]{}
		}
		if locale {
			add(c, schema.WBoolLocale, "%q was read as %s; ccbulk writes TRUE and FALSE", v, boolWord(b))
		}
		return some(b)
	}

	if raw, ok := text(schema.ColEmail); ok {
		if email, msg := ParseEmail(raw); msg != "" {
			add(schema.ColEmail, schema.REmail, "%s", msg)
		} else {
			in.Email = email
		}
	}
	in.FirstName = optText(schema.ColFirstName)
	in.LastName = optText(schema.ColLastName)
	in.DisplayName = optText(schema.ColDisplayName)
	in.Username = optText(schema.ColUsername)
	in.PBX = optText(schema.ColPBX)
	in.HomeOrg = optText(schema.ColHomeOrg)
	in.CCRole = optText(schema.ColCCRole)
	if v := optText(schema.ColCopyFrom); v.Set {
		in.CopyFrom = some(emailKey(v.V))
	}
	if v := optText(schema.ColStatus); v.Set {
		if st, ok := ParseStatus(v.V); ok {
			in.Status = some(st)
		} else {
			add(schema.ColStatus, schema.RStatus, "%q is not a status; write Active or Inactive, or leave the cell blank for no change", v.V)
		}
	}
	in.Premium = flag(schema.ColPremium)
	in.Standard = flag(schema.ColStandard)
	in.Full = flag(schema.ColFullAdmin)
	in.CCService = flag(schema.ColCCServiceAdmin)
	in.ReadOnly = flag(schema.ColReadOnlyAdmin)
	in.SendActivation = flag(schema.ColSendActivation)
	in.Version = optText(schema.ColVersion)
	return in, fs
}

// checkText returns why a cell breaks R-TEXT, or "".
func checkText(s string) string {
	n := 0
	for i, r := range s {
		n++
		if unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' {
			return fmt.Sprintf("holds the control character U+%04X at character %d; remove it (it often comes from copying out of another program)", r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	if n > MaxTextLen {
		return fmt.Sprintf("is %d characters long, over the limit of %d; shorten it", n, MaxTextLen)
	}
	return ""
}

// canonicalLines writes every line break of a cell as LF: a CSV reader
// turns CR LF inside a quoted cell into LF, so a value stored with CR would
// not survive an export and import.
func canonicalLines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// ParseEmail trims, NFC-normalizes and lower-cases an address and says why
// it is not one: "josé" typed with a combining accent and with a precomposed
// é is one address. The address may hold only letters, marks, digits, punctuation and
// symbols of the Unicode version Go knows: the key is lower-cased here, and
// a character whose case is unknown to Go might be lower-cased differently
// by a PostgreSQL server with newer case tables.
func ParseEmail(raw string) (email, problem string) {
	s := strings.TrimSpace(raw)
	if plainAddress(s) {
		return strings.ToLower(s), ""
	}
	return parseEmail(s)
}

// parseEmail is ParseEmail for every address that is not plain: net/mail
// decides, after the characters are checked, on the NFC form of s.
func parseEmail(s string) (email, problem string) {
	s = norm.NFC.String(s)
	if s == "" {
		return "", "Email is empty; every row needs the user's email address (or delete the row)"
	}
	for i, r := range s {
		if !knownCase(r) && !unicode.IsSpace(r) {
			return "", fmt.Sprintf("%q holds the character %U at character %d, which ccbulk cannot compare without regard to case (it is not a letter, digit, punctuation mark or symbol of Unicode %s); write the address as name@example.com",
				s, r, utf8.RuneCountInString(s[:i])+1, unicode.Version)
		}
	}
	addr, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || addr.Name != "" || addr.Address != s || at < 1 || !strings.Contains(s[at+1:], ".") ||
		strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", fmt.Sprintf("%q is not an email address; write it as name@example.com", s)
	}
	return emailKey(s), ""
}

// emailKey is the form in which an address is compared and stored:
// lower-case, in Unicode normalization form C. It lower-cases the
// decomposed form: a composed capital can lower-case to other letters than
// its decomposition does (Go lowers İ to i, but I followed by a combining
// dot above to i with the dot), and the key must not depend on which of
// the two was typed.
func emailKey(s string) string {
	return norm.NFC.String(strings.ToLower(norm.NFD.String(strings.TrimSpace(s))))
}

// plainAddress reports whether s is an address of the common form, local
// part and domain both dot-atoms of ASCII (RFC 5322 §3.2.3) and a dot in
// the domain, which parseEmail accepts as it is. It spares net/mail's
// parser, a tenth of a million-row import's CPU, for nearly every row;
// FuzzParseEmail checks that both always agree.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 1 {
		return false
	}
	domain := s[at+1:]
	return dotAtom(s[:at]) && dotAtom(domain) && strings.IndexByte(domain, '.') > 0
}

// dotAtom reports whether s is atext characters in runs separated by
// single dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// knownCase reports whether r is a letter, mark, digit, punctuation mark
// or symbol of the Unicode tables Go was built with.
func knownCase(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// ParseBool reads TRUE or FALSE in any letter case with spaces trimmed, and
// the spellings French and Polish Excel write (locale is then true).
func ParseBool(s string) (value, locale, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case anyCase(s, "TRUE"):
		return true, false, true
	case anyCase(s, "FALSE"):
		return false, false, true
	case anyCase(s, "VRAI"), anyCase(s, "PRAWDA"):
		return true, true, true
	case anyCase(s, "FAUX"), anyCase(s, "FAŁSZ"):
		return false, true, true
	}
	return false, false, false
}

// ParseStatus reads Active or Inactive in any letter case.
func ParseStatus(s string) (schema.Status, bool) {
	s = strings.TrimSpace(s)
	switch {
	case anyCase(s, "ACTIVE"):
		return schema.StatusActive, true
	case anyCase(s, "INACTIVE"):
		return schema.StatusInactive, true
	}
	return "", false
}

// anyCase reports whether s is word (written in upper case) in any letter
// case: each character is the word's letter or its lower-case form. Unlike
// comparing strings.ToUpper(s), it refuses look-alikes that merely
// upper-case to a letter of the word (the long s, the dotless i).
func anyCase(s, word string) bool {
	for _, w := range word {
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 || (r != w && r != unicode.ToLower(w)) {
			return false
		}
		s = s[n:]
	}
	return s == ""
}

func boolWord(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}
