package cli

import "testing"

// TestTermText: text from a sheet is printed with its control and other
// non-printing characters escaped, and printable text as it is.
func TestTermText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Notes", "Notes"},
		{"Zażółć gęślą jaźń, ΣΑΣ, 日本", "Zażółć gęślą jaźń, ΣΑΣ, 日本"},
		{"a b", "a b"},
		{"\x1b[2J", `\x1b[2J`},
		{"x\rapplied as batch 99", `x\rapplied as batch 99`},
		{"two\nlines\ttab", `two\nlines\ttab`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"csi\u009b2J nel\u0085", `csi\u009b2J nel\u0085`},
		{"rtl\u202eexe.txt", `rtl\u202eexe.txt`},
		{"nbsp\u00a0zwsp\u200b", `nbsp\u00a0zwsp\u200b`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"real \uFFFD", "real \uFFFD"},
		{"", ""},
	} {
		if got := termText(tc.in); got != tc.want {
			t.Errorf("termText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := termText(termText(tc.in)); got != termText(tc.in) {
			t.Errorf("termText is not idempotent on %q: %q", tc.in, got)
		}
	}
}
