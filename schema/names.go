package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest identifier (tenant or external organization
// id, PBX or CC role name), in characters.
const MaxNameLen = 200

// NameKey is the form in which identifiers (tenant and external
// organization ids, PBX and CC role names) are compared: they are unique
// without regard to letter case, and a sheet may name them in any case.
func NameKey(s string) string { return strings.ToLower(s) }

// CheckName says what is wrong with an identifier (what names it, such as
// "PBX name"), or returns "": it may not be empty, begin or end with
// spaces, or be longer than MaxNameLen characters.
func CheckName(what, s string) string {
	switch {
	case s == "":
		return fmt.Sprintf("the %s is empty", what)
	case strings.TrimFunc(s, unicode.IsSpace) != s:
		return fmt.Sprintf("the %s %q begins or ends with spaces; remove them", what, s)
	case utf8.RuneCountInString(s) > MaxNameLen:
		return fmt.Sprintf("the %s is %d characters long, over the limit of %d; shorten it", what, utf8.RuneCountInString(s), MaxNameLen)
	}
	return ""
}

// MatchName returns the name of list that s names without regard to letter
// case, as the list spells it. The names of a list are unique without
// regard to letter case, so a name spelled exactly as s is the one.
func MatchName(list []string, s string) (string, bool) {
	// Sheets mostly spell a name as it was created: an exact match needs
	// no lower-casing (a sheet's PBX cell is matched twice a row).
	for _, v := range list {
		if v == s {
			return v, true
		}
	}
	k := NameKey(s)
	for _, v := range list {
		if NameKey(v) == k {
			return v, true
		}
	}
	return "", false
}

// SameNames returns the first two names of list that differ only in letter
// case, if any.
func SameNames(list []string) (a, b string, found bool) {
	seen := make(map[string]string, len(list))
	for _, v := range list {
		k := NameKey(v)
		if w, ok := seen[k]; ok {
			return w, v, true
		}
		seen[k] = v
	}
	return "", "", false
}
