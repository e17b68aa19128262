package sheet

import (
	"strings"
	"testing"
)

// FuzzDimensionLastRow: any dimension reference gives a row within the
// format's range, or 0, and never a panic.
func FuzzDimensionLastRow(f *testing.F) {
	for _, s := range []string{"A1:P12345", "$A$1:$P$101", "A1", "", ":", "A1:P", "A1:12", "bogus", "A1:XFD1048576", "A1:P+5", "A1:P-5", "A1:P1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		n := dimensionLastRow(ref)
		if n < 0 || n > 1<<20 {
			t.Fatalf("dimensionLastRow(%q) = %d, outside 0..1048576", ref, n)
		}
		if n > 0 && !strings.ContainsAny(ref, "123456789") {
			t.Fatalf("dimensionLastRow(%q) = %d from a reference without a row", ref, n)
		}
	})
}
