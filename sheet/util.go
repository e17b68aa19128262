package sheet

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// errText is a library error's text for a message: the XML and zip
// decoders quote the bad bytes they met, which may not be valid UTF-8.
func errText(err error) string { return validText(err.Error()) }

// validText is s with any byte that is not valid UTF-8 (from a zip part
// name, a decoder's quote) written as U+FFFD.
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
