// Package jsontext writes JSON text by hand where encoding/json's
// reflection costs too much: the strings of the audit trail and of saved
// plans, written for every user a run touches.
package jsontext

import "unicode/utf8"

// AppendString appends s to dst as a JSON string: quotes, backslashes and
// control characters escaped, and each byte that is not UTF-8 written as
// U+FFFD, as encoding/json does (FuzzAppendString holds them to it).
// It writes the audit trail's values and a saved plan's lines, JSON
// written a great deal: encoding/json's reflection, once per new user, was
// a twelfth of the client's CPU in a million-row import.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
