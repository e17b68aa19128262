package jsontext

import (
	"encoding/json"
	"testing"
)

// FuzzAppendString holds AppendString to encoding/json: its output
// is valid JSON and decodes to what encoding/json's encoding of the same
// string decodes to (invalid UTF-8 as U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "tab\tnew\nline\r\x00\x1f\x7f", "Zoë 测试 🙂",
		"\xff\xfe bad", "\u2028\u2029 <&>", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString([]byte("x"), s)[1:]
		if !json.Valid(got) {
			t.Fatalf("AppendString(%q) = %s: not JSON", s, got)
		}
		var back, want string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Fatalf("AppendString(%q) = %s decodes to %q; encoding/json's %s to %q", s, got, back, ref, want)
		}
	})
}
