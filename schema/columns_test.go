package schema

import (
	"os"
	"strings"
	"testing"
)

// TestHeaderAliasesDocumented: docs/MAPPING.md lists every French and Polish
// header the reader accepts, on its column's line, and each is reported as
// an alias of that column.
func TestHeaderAliasesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/MAPPING.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		if col, _, ok := strings.Cut(strings.TrimPrefix(l, "| "), " | "); ok && strings.HasPrefix(l, "| ") {
			lines[col] = l
		}
	}
	aliases := HeaderAliases()
	if len(aliases) != len(headerAliases) {
		t.Fatalf("%d aliases listed, %d in the table", len(aliases), len(headerAliases))
	}
	for _, a := range aliases {
		if !strings.Contains(lines[a.Column.Header()], "`"+a.Header+"`") {
			t.Errorf("docs/MAPPING.md does not list %q on the line of %s", a.Header, a.Column)
		}
		if c, ok := LookupHeader(a.Header); !ok || c != a.Column || !IsAlias(a.Header, c) {
			t.Errorf("%q: read as %v (%v), alias %v", a.Header, c, ok, IsAlias(a.Header, c))
		}
	}
	for c := range NumColumns {
		if IsAlias(c.Header(), c) || IsAlias(strings.ToUpper(" "+c.Header()+" "), c) {
			t.Errorf("the template's own header %q counts as an alias", c.Header())
		}
	}
}
