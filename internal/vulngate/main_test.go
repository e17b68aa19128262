package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGate: the standard library's vulnerabilities and a module's that the
// code does not call are reported but pass; a module's vulnerability the
// code calls fails, named once with the module to update.
func TestGate(t *testing.T) {
	tests := []struct {
		file       string
		wantCalled int
		want       []string
		notWant    string
	}{
		{"stdlib-only.json", 0, []string{
			"known vulnerabilities of this Go's standard library that the code reaches: 1 [GO-2026-6617]",
			"known vulnerabilities of required modules that the code does not call: 1 [GO-2026-5932 in golang.org/x/crypto@v0.58.0]",
		}, ""},
		{"module-called.json", 1, []string{
			"vulnerable: GO-2099-0001 in example.com/lib@v1.2.3 (example.com/lib/parse.Parse), fixed in v1.2.4: update the module (go get example.com/lib@v1.2.4)\n",
		}, "GO-2099-0001 in example.com/lib@v1.2.3]"}, // reported at the module and the package first: called all the same
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			in, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out bytes.Buffer
			called, err := gate(in, &out)
			if err != nil {
				t.Fatal(err)
			}
			if called != tc.wantCalled {
				t.Errorf("called = %d, want %d\n%s", called, tc.wantCalled, &out)
			}
			if tc.notWant != "" && strings.Contains(out.String(), tc.notWant) {
				t.Errorf("the report lists %q as not called:\n%s", tc.notWant, &out)
			}
			for _, w := range tc.want {
				if strings.Count(out.String(), w) != 1 {
					t.Errorf("the report does not say once %q:\n%s", w, &out)
				}
			}
		})
	}
}

// TestGateBadInput: what is not govulncheck's JSON is an error, not a pass.
func TestGateBadInput(t *testing.T) {
	if _, err := gate(strings.NewReader("Scanning your code…\n"), &bytes.Buffer{}); err == nil {
		t.Fatal("text instead of JSON passed the gate")
	}
}
