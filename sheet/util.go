package sheet

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// errText is a library error's text for a message: the XML and zip
// decoders quote the bad bytes they met, which may not be valid UTF-8.
func errText(err error) string { return strings.ToValidUTF8(err.Error(), "\uFFFD") }
