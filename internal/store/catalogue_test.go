package store

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// TestFieldCatalogue: every list of a user's fields written by hand in the
// store (the SQL is constant text) holds the fields of schema.UserFields,
// in its order where the order matters, so that a field added to the
// catalogue and forgotten in one of them fails here.
func TestFieldCatalogue(t *testing.T) {
	var names []string
	for _, f := range schema.UserFields {
		names = append(names, f.Name)
	}
	audited := names[1:] // every field but the key

	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v (schema.UserFields)", what, got, want)
		}
	}
	check("stagingColumns after row and send_activation", stagingColumns[2:], names)
	check("createColumns after tenant_id", createColumns[1:], names)

	// userColumns: each selected column, by its name or alias; is_primary
	// and version are read but not written by a sheet.
	var selected []string
	plain := regexp.MustCompile(`coalesce\([^)]*\)`).ReplaceAllString(userColumns, "")
	for _, c := range strings.Split(plain, ",") {
		fields := strings.Fields(c)
		name := fields[len(fields)-1]
		if name != "is_primary" && name != "version" {
			selected = append(selected, name)
		}
	}
	check("userColumns", selected, names)

	// auditQuery: the fields compared, in order, and the old and new
	// values it selects for each.
	var compared []string
	for _, m := range regexp.MustCompile(`\('(\w+)', j\.old_(\w+), j\.new_(\w+)\)`).FindAllStringSubmatch(auditQuery, -1) {
		if m[1] != m[2] || m[1] != m[3] {
			t.Errorf("auditQuery compares %s with old_%s and new_%s", m[1], m[2], m[3])
		}
		compared = append(compared, m[1])
	}
	slices.Sort(compared) // the query lists them by name, as its JSON keys go
	check("the fields auditQuery compares", compared, slices.Sorted(slices.Values(audited)))

	// copyLine.user writes the fields in the catalogue's order: each
	// field holds a value that names it.
	u := schema.User{Email: "email", FirstName: "first_name", LastName: "last_name", DisplayName: "display_name",
		Username: "username", PBX: "pbx", Status: "status", HomeOrg: "home_org", Premium: true, Standard: true,
		AdminRole: "admin_role", CCRole: "cc_role"}
	var l copyLine
	l.startRow()
	l.user(&u, l.Text)
	written := strings.Split(string(l.buf), "\t")
	for i, v := range written {
		if v == "t" { // the two flags, in order
			written[i] = map[bool]string{true: "premium", false: "standard"}[!slices.Contains(written[:i], "premium")]
		}
	}
	check("the fields copyLine.user writes", written, names)

	// appendCreatedValues: a created user's audit record has a key for
	// every audited field that is set.
	var record map[string]string
	if err := json.Unmarshal(appendCreatedValues(nil, &u), &record); err != nil {
		t.Fatal(err)
	}
	check("the keys of appendCreatedValues", slices.Sorted(maps.Keys(record)), slices.Sorted(slices.Values(audited)))
}
