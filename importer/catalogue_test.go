package importer

import (
	"maps"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// TestHistoryColumns: the sheet's column of each audited field is the one
// the catalogue (schema.UserFields) gives, and every audited field has one
// (the admin role has its three).
func TestHistoryColumns(t *testing.T) {
	want := map[string]schema.Column{}
	for _, f := range schema.UserFields[1:] { // the key is never audited
		if f.Column != schema.NoColumn {
			want[f.Name] = f.Column
		}
	}
	if !maps.Equal(fieldColumns, want) {
		t.Errorf("fieldColumns = %v, want %v (schema.UserFields)", fieldColumns, want)
	}
	if len(roleColumns) != 3 {
		t.Errorf("the admin role shows in %d columns, want Full, CC Service and Read-only Administrator", len(roleColumns))
	}
}
