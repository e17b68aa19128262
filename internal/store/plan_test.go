package store_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestUserStateCatalogue: the state a saved plan records (schema.UserState,
// the user's version) moves with every field of schema.UserFields and the
// primary flag: the trigger that moves the version on an UPDATE made with
// plain SQL compares exactly those fields, in the catalogue's order, so that
// a field added to the catalogue and forgotten in the trigger fails here: a
// change to that field alone would not refuse a plan.
func TestUserStateCatalogue(t *testing.T) {
	db, _ := testdb.New(t)
	var def string
	if err := db.Get(&def, `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'users_version'`); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL keeps the row comparison as one IS DISTINCT FROM a field.
	var compared []string
	for _, f := range regexp.MustCompile(`old\.(\w+) IS DISTINCT FROM new\.(\w+)`).FindAllStringSubmatch(def, -1) {
		if f[1] != f[2] {
			t.Errorf("the trigger users_version compares old.%s with new.%s", f[1], f[2])
		}
		compared = append(compared, f[1])
	}
	want := []string{"tenant_id"}
	for _, f := range schema.UserFields {
		want = append(want, f.Name)
	}
	want = append(want, "is_primary")
	if !slices.Equal(compared, want) {
		t.Errorf("the trigger users_version compares\n %v\nwant %v (the tenant, schema.UserFields and is_primary)", compared, want)
	}
}
