package store

import "testing"

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
