package sheet

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
)

// UTF16 names the encoding of Excel's "Unicode text": UTF-16 with a
// byte-order mark. A CSV read from UTF-16 says so in its Dialect, and a
// writer given it writes UTF-16 (little-endian, as Excel does) with a BOM.
const UTF16 = "UTF-16"

// Dialect is how a CSV file is spelled: its delimiter and its encoding.
// A report written in the dialect of its input opens in the same program,
// with the same settings, as the input did.
type Dialect struct {
	Delimiter rune   // ',', ';' or '\t'
	Encoding  string // "" for UTF-8, UTF16, or a name of Encodings
}

// DialectReader is a Reader that knows the dialect of its file (CSV).
type DialectReader interface {
	Reader
	Dialect() Dialect
}

// Dialect returns the delimiter detected from the header line and the
// encoding the file was decoded from.
func (c *csvReader) Dialect() Dialect {
	return Dialect{Delimiter: c.r.Comma, Encoding: c.decodedFrom}
}

// encodedWriter returns w encoding UTF-8 text into enc ("" or "utf-8": w
// itself), the function that flushes the encoder, and whether enc is UTF-8.
// UTF16 writes its byte-order mark itself. A character a legacy encoding
// has no byte for is written as "?".
func encodedWriter(w io.Writer, enc string) (io.Writer, func() error, bool, error) {
	noop := func() error { return nil }
	switch {
	case enc == "" || strings.EqualFold(enc, "utf-8") || strings.EqualFold(enc, "utf8"):
		return w, noop, true, nil
	case strings.EqualFold(enc, UTF16):
		tw := transform.NewWriter(w, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder())
		return tw, tw.Close, false, nil
	}
	e, ok := Encodings[strings.ToLower(enc)]
	cm, isCharmap := e.(*charmap.Charmap)
	if !ok || !isCharmap {
		return nil, nil, false, fmt.Errorf("unknown encoding %q; use one of %s", enc, EncodingNames())
	}
	unsupported := runes.Map(func(r rune) rune {
		if _, ok := cm.EncodeRune(r); !ok {
			return '?'
		}
		return r
	})
	tw := transform.NewWriter(w, transform.Chain(unsupported, cm.NewEncoder()))
	return tw, tw.Close, false, nil
}
