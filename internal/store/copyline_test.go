package store

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

func TestCopyLine(t *testing.T) {
	tests := []struct {
		name  string
		write func(l *copyLine)
		want  string
	}{
		{"plain text", func(l *copyLine) { l.Text("Zoë Ångström") }, "Zoë Ångström"},
		{"empty text", func(l *copyLine) { l.Text("") }, ""},
		{"escapes", func(l *copyLine) { l.Text("a\\b\tc\nd\re") }, `a\\b\tc\nd\re`},
		{"backslash N is text", func(l *copyLine) { l.Text(`\N`) }, `\\N`},
		{"escapes first, last and together", func(l *copyLine) { l.Text("\t\\\n\rx\r\r") }, `\t\\\n\rx\r\r`},
		{"only an escape", func(l *copyLine) { l.Text("\n") }, `\n`},
		{"bytes", func(l *copyLine) { l.TextBytes([]byte("{\"a\":\"b\\\"c\"}\t")) }, `{"a":"b\\"c"}\t`},
		{"null", func(l *copyLine) { l.TextOrNull("") }, `\N`},
		{"not null", func(l *copyLine) { l.TextOrNull("x") }, "x"},
		{"booleans and numbers", func(l *copyLine) { l.Bool(true); l.Bool(false); l.Int(-42); l.Int(9007199254740993) },
			"t\tf\t-42\t9007199254740993"},
		{"fields", func(l *copyLine) { l.Text("a"); l.TextOrNull(""); l.Text("b") }, "a\t\\N\tb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l copyLine
			l.startRow()
			tt.write(&l)
			if got := string(l.buf); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Rows are separated, not ended, by newlines: the driver ends the last.
	var l copyLine
	for _, s := range []string{"a", "b", "c"} {
		l.startRow()
		l.Text(s)
		l.Int(1)
	}
	if got := string(l.buf); got != "a\t1\nb\t1\nc\t1" {
		t.Errorf("three rows: %q", got)
	}
}

// FuzzAppendEscaped holds appendEscaped to COPY's text format, byte by
// byte: backslash, tab, newline and carriage return as their escapes, every
// other byte as it is; the string and the byte forms write the same.
func FuzzAppendEscaped(f *testing.F) {
	for _, s := range []string{"", "plain", "\\", "a\\b\tc\nd\re", "\t\t", "end\r", "Zoë 测试 🙂", "\xff\x00\\N"} {
		f.Add(s)
	}
	escapes := map[byte]string{'\\': `\\`, '\t': `\t`, '\n': `\n`, '\r': `\r`}
	f.Fuzz(func(t *testing.T, s string) {
		var want []byte
		for i := 0; i < len(s); i++ {
			if e, ok := escapes[s[i]]; ok {
				want = append(want, e...)
			} else {
				want = append(want, s[i])
			}
		}
		if got := appendEscaped([]byte("x"), s)[1:]; string(got) != string(want) {
			t.Fatalf("appendEscaped(%q) = %q, want %q", s, got, want)
		}
		if got := appendEscaped(nil, []byte(s)); string(got) != string(want) {
			t.Fatalf("appendEscaped([]byte(%q)) = %q, want %q", s, got, want)
		}
	})
}

// TestAppendCreatedValues: a new user's audit record holds the fields that
// are not blank or false, by name, in name order.
func TestAppendCreatedValues(t *testing.T) {
	tests := []struct {
		name string
		user schema.User
		want string
	}{
		{"the fields set", schema.User{Email: "a@b.example", FirstName: "Zoë", LastName: `O"Neil \ Jr`, Username: "zoe", PBX: "paris",
			Status: schema.StatusActive, Premium: true, AdminRole: schema.RoleFull, CCRole: "Supervisors"},
			`{"admin_role":"full","cc_role":"Supervisors","first_name":"Zoë","last_name":"O\"Neil \\ Jr","pbx":"paris","premium":"true","status":"active","username":"zoe"}`},
		{"nothing set", schema.User{}, `{}`},
		{"an external user", schema.User{HomeOrg: "northwind", Standard: true, DisplayName: "Tab\there"},
			`{"display_name":"Tab\u0009here","home_org":"northwind","standard":"true"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendCreatedValues(nil, &tt.user)
			var g, w map[string]string
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(g, w) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			keys := jsonKeys(t, got)
			if !slices.IsSorted(keys) {
				t.Errorf("keys %q are not in name order", keys)
			}
		})
	}
	// Every field set: every key, in name order.
	all := schema.User{Email: "a@b", FirstName: "f", LastName: "l", DisplayName: "d", Username: "u", PBX: "p", Status: schema.StatusActive,
		HomeOrg: "h", Premium: true, Standard: true, AdminRole: schema.RoleFull, CCRole: "c"}
	keys := jsonKeys(t, appendCreatedValues(nil, &all))
	if len(keys) != 11 || !slices.IsSorted(keys) {
		t.Errorf("every field: keys %q, want all 11 in name order", keys)
	}
}

// jsonKeys returns the keys of the JSON object text, in the order written.
func jsonKeys(t *testing.T, text []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(text))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
