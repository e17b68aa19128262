package store

import (
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

func stagedEmails(rows []Staged) []string {
	var emails []string
	for _, r := range rows {
		emails = append(emails, r.User.Email)
	}
	return emails
}

func staged(emails ...string) []Staged {
	var rows []Staged
	for i, e := range emails {
		rows = append(rows, Staged{Row: i + 2, User: schema.User{Email: e}})
	}
	return rows
}

// TestSortByEmail: byte order (as the "C" collation of users.email), rows
// moved whole, and rows already in order handed back as they are.
func TestSortByEmail(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"one", []string{"a@x"}, []string{"a@x"}},
		{"sorted", []string{"a@x", "b@x", "c@x"}, []string{"a@x", "b@x", "c@x"}},
		{"reversed", []string{"c@x", "b@x", "a@x"}, []string{"a@x", "b@x", "c@x"}},
		{"bytes, not letters", []string{"zoë@x", "zoe@x", "Zed@x", "_@x"}, []string{"Zed@x", "_@x", "zoe@x", "zoë@x"}},
		{"prefix first", []string{"ab@x", "a@x", "a@xy"}, []string{"a@x", "a@xy", "ab@x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := staged(tt.in...)
			got := SortByEmail(in)
			if !slices.Equal(stagedEmails(got), tt.want) {
				t.Fatalf("SortByEmail(%q) = %q, want %q", tt.in, stagedEmails(got), tt.want)
			}
			for _, r := range got {
				if want := 2 + slices.Index(tt.in, r.User.Email); r.Row != want {
					t.Fatalf("%s moved without its row: row %d, want %d", r.User.Email, r.Row, want)
				}
			}
			if slices.Equal(tt.in, tt.want) && len(in) > 0 && &got[0] != &in[0] {
				t.Errorf("rows in order were copied")
			}
			if !slices.Equal(stagedEmails(in), tt.in) {
				t.Errorf("the rows given were reordered: %q", stagedEmails(in))
			}
		})
	}
}

func TestMergeByEmail(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want []string
	}{
		{"both empty", nil, nil, nil},
		{"a only", []string{"a", "c"}, nil, []string{"a", "c"}},
		{"b only", nil, []string{"b"}, []string{"b"}},
		{"interleaved", []string{"a", "c", "e"}, []string{"b", "d", "f", "g"}, []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"b before a", []string{"x", "y"}, []string{"a", "b"}, []string{"a", "b", "x", "y"}},
		{"a before b", []string{"a", "b"}, []string{"x", "y"}, []string{"a", "b", "x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stagedEmails(MergeByEmail(staged(tt.a...), staged(tt.b...))); !slices.Equal(got, tt.want) {
				t.Fatalf("MergeByEmail(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
			}
		})
	}
	// Among equal emails, a's row comes first.
	a, b := staged("a", "m"), staged("m", "z")
	b[0].Row = 99
	if got := MergeByEmail(a, b); got[1].Row != 3 || got[2].Row != 99 {
		t.Fatalf("equal emails: rows %d, %d; want 3, 99", got[1].Row, got[2].Row)
	}
}
