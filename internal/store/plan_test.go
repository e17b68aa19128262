package store

import (
	"regexp"
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// TestUserStateCatalogue: the state a saved plan records covers every field
// of schema.UserFields (and the primary flag), in the catalogue's order, so
// that a field added to the catalogue and forgotten in the state fails
// here: a change to that field alone would not refuse a plan.
func TestUserStateCatalogue(t *testing.T) {
	var want []string
	for _, f := range schema.UserFields {
		want = append(want, f.Name)
	}
	want = append(want, "is_primary")
	if !slices.Equal(userStateFields, want) {
		t.Errorf("userStateFields:\n got %v\nwant %v (schema.UserFields and is_primary)", userStateFields, want)
	}
	var inSQL []string
	for _, m := range regexp.MustCompile(`u\.(\w+)`).FindAllStringSubmatch(userStateExpr, -1) {
		inSQL = append(inSQL, m[1])
	}
	if !slices.Equal(inSQL, want) {
		t.Errorf("userStateExpr reads\n %v\nwant %v", inSQL, want)
	}
}
