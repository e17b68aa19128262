package rules

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ccbulk/ccbulk/schema"
)

// The fuzz targets of package rules. 'go test' runs each on its seed corpus
// (the f.Add calls and testdata/fuzz/NAME); 'make fuzz' explores further.

// boolWords are the spellings ParseBool accepts, in upper case.
var boolWords = []string{"TRUE", "FALSE", "VRAI", "FAUX", "PRAWDA", "FAŁSZ"}

// FuzzParseBool checks that ParseBool accepts exactly the words of docs/REFERENCE.md §2, The sheet,
// in any letter case with surrounding spaces: every character of an
// accepted value is the word's letter in upper or lower case (no look-alike
// that merely upper-cases to it, such as the long s or the dotless i).
func FuzzParseBool(f *testing.F) {
	for _, s := range []string{"TRUE", "false", " True ", "VRAI", "faux", "PRAWDA", "fałsz", "FAŁSZ", "yes", "1", "", "falſe", "vraı", "TRUE\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, locale, ok := ParseBool(s)
		if !ok {
			if v || locale {
				t.Fatalf("ParseBool(%q) = %v, %v, false", s, v, locale)
			}
			return
		}
		word := strings.TrimSpace(s)
		up := strings.ToUpper(word)
		i := indexOf(boolWords, up)
		if i < 0 {
			t.Fatalf("ParseBool(%q) accepted %q, which is not a word of docs/REFERENCE.md §2, The sheet", s, up)
		}
		for _, r := range word {
			if u := unicode.ToUpper(r); r != u && r != unicode.ToLower(u) {
				t.Fatalf("ParseBool(%q) accepted %q, a look-alike of %q", s, r, u)
			}
		}
		if wantV, wantLocale := i%2 == 0, i >= 2; v != wantV || locale != wantLocale {
			t.Fatalf("ParseBool(%q) = %v, locale %v; want %v, %v", s, v, locale, wantV, wantLocale)
		}
		if v2, l2, ok2 := ParseBool(" " + strings.ToLower(word) + "\t"); !ok2 || v2 != v || l2 != locale {
			t.Fatalf("ParseBool is not case- and space-blind on %q", s)
		}
	})
}

func indexOf(list []string, s string) int {
	for i, w := range list {
		if w == s {
			return i
		}
	}
	return -1
}

// FuzzParseEmail checks that an accepted email is trimmed, lower-case,
// parses again to itself, and can be stored: the users table checks
// email = lower(email COLLATE "C") and email = btrim(email), and the
// address holds only characters whose case Go knows, so the key compares
// the same in Go and in PostgreSQL whatever the server's case tables.
// (TestEmailStoresUnderEveryCollation runs such emails through the real
// CHECK constraint.)
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"a@b.example", " Marie.Dubois@ACME.example ", "ŁUKASZ@acme.example", "İ@x.example", "\u212Aelvin@x.example",
		"a@b", "@b.example", "a b@c.example", "\"a\"@b.example", "Ann <a@b.example>", "a@b.example\x00", "\u1C89@x.example", "straße@x.example", "ΣΑΣ@x.example",
		"jose\u0301@x.example", "JOSE\u0301@x.example", "\u212bngstr\u00f6m@x.example", "\u1100\u1161@x.example", "i\u0307@x.example"} {
		f.Add(s)
	}
	for _, s := range []string{"a.b@c.d.example", "a..b@c.example", ".a@b.example", "a.@b.example", "a@b..example", "a@.b.example",
		"a@b.example.", "a@b", "a@@b.example", "a!#$%&'*+-/=?^_`{|}~@b.example", "a@b-c.example", "a@[127.0.0.1]", "a(b)@c.example",
		"a@-b.example", "-@b.example", "a@b.-", "a@{b}.example", "=?utf-8?q?a?=@b.example", "a@b.example\n", "A@B.EXAMPLE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		email, problem := ParseEmail(s)
		// The plain addresses' shortcut agrees with the full parser.
		if full, fullProblem := parseEmail(strings.TrimSpace(s)); email != full || problem != fullProblem {
			t.Fatalf("ParseEmail(%q) = %q, %q; the full parser says %q, %q", s, email, problem, full, fullProblem)
		}
		if problem != "" {
			if email != "" {
				t.Fatalf("ParseEmail(%q) = %q with problem %q", s, email, problem)
			}
			if !utf8.ValidString(problem) {
				t.Fatalf("ParseEmail(%q): message is not valid UTF-8: %q", s, problem)
			}
			return
		}
		if email == "" || email != strings.TrimSpace(email) || email != strings.Trim(email, " ") {
			t.Fatalf("ParseEmail(%q) = %q: not trimmed", s, email)
		}
		if email != strings.ToLower(email) {
			t.Fatalf("ParseEmail(%q) = %q: not lower-case", s, email)
		}
		if !norm.NFC.IsNormalString(email) {
			t.Fatalf("ParseEmail(%q) = %q: not in Unicode normalization form C", s, email)
		}
		if nfd, p := ParseEmail(norm.NFD.String(s)); p == "" && nfd != email {
			t.Fatalf("ParseEmail(%q) = %q, but its NFD form gives %q", s, email, nfd)
		}
		for i := 0; i < len(email); i++ {
			if 'A' <= email[i] && email[i] <= 'Z' {
				t.Fatalf("ParseEmail(%q) = %q: holds an upper-case ASCII letter", s, email)
			}
		}
		for _, r := range email {
			if !knownCase(r) {
				t.Fatalf("ParseEmail(%q) = %q: holds %U, whose case Go does not know", s, email, r)
			}
		}
		if again, p := ParseEmail(email); again != email || p != "" {
			t.Fatalf("ParseEmail(%q) = %q, but ParseEmail(%q) = %q, %q", s, email, email, again, p)
		}
		if up, p := ParseEmail(strings.ToUpper(email)); p == "" && up != email && strings.ToLower(strings.ToUpper(email)) == email {
			t.Fatalf("ParseEmail(%q) = %q: the upper-case spelling gives %q", s, email, up)
		}
	})
}

// TestParseRowStoresLineBreaksAsLF: a CSV reader turns CR LF inside a
// quoted cell into LF, so a value stored with CR would change on every
// export and import; ParseRow writes every line break as LF.
func TestParseRowStoresLineBreaksAsLF(t *testing.T) {
	for raw, want := range map[string]string{
		"Line one\r\nline two":   "Line one\nline two",
		"Mac\rline":              "Mac\nline",
		"mixed\r\r\nbreaks\n\r.": "mixed\n\nbreaks\n\n.",
		"plain":                  "plain",
	} {
		in, fs := ParseRow(2, func(c schema.Column) string {
			switch c {
			case schema.ColEmail:
				return "a@b.example"
			case schema.ColDisplayName:
				return raw
			}
			return ""
		}, [schema.NumColumns]string{})
		if len(fs) != 0 || in.DisplayName.V != want {
			t.Errorf("Display Name %q: stored %q (findings %v), want %q", raw, in.DisplayName.V, fs, want)
		}
	}
}

// FuzzParseVersion: what ParseVersion accepts is exactly what FormatVersion
// writes (organization, "@", the number), and it never panics.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"acme@42", "a@b@9", "@1", "acme@", "acme@042", "acme@+1", "x@9223372036854775808", "ACME@0", "é@1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		org, n, ok := ParseVersion(s)
		if !ok {
			if org != "" || n != 0 {
				t.Fatalf("ParseVersion(%q) refused it but returned %q, %d", s, org, n)
			}
			return
		}
		if org == "" || n < 0 {
			t.Fatalf("ParseVersion(%q) = %q, %d", s, org, n)
		}
		if back := FormatVersion(org, n); back != s {
			t.Fatalf("ParseVersion(%q) = %q, %d, written back as %q", s, org, n, back)
		}
	})
}
