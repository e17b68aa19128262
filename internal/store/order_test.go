package store

import (
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

func staged(emails ...string) []schema.Staged {
	var rows []schema.Staged
	for i, e := range emails {
		rows = append(rows, schema.Staged{Row: i + 2, User: schema.User{Email: e}})
	}
	return rows
}

// TestNewUsersInEmailOrder: each chunk sorted by email in bytes (as the "C"
// collation of users.email), the chunks merged, no row moved, and among
// equal emails an earlier chunk's first.
func TestNewUsersInEmailOrder(t *testing.T) {
	tests := []struct {
		name   string
		chunks [][]string
		want   []string
	}{
		{"none", nil, nil},
		{"empty chunks", [][]string{nil, {}}, nil},
		{"one", [][]string{{"a@x"}}, []string{"a@x"}},
		{"sorted", [][]string{{"a@x", "b@x", "c@x"}}, []string{"a@x", "b@x", "c@x"}},
		{"reversed", [][]string{{"c@x", "b@x", "a@x"}}, []string{"a@x", "b@x", "c@x"}},
		{"bytes, not letters", [][]string{{"zoë@x", "zoe@x", "Zed@x", "_@x"}}, []string{"Zed@x", "_@x", "zoe@x", "zoë@x"}},
		{"prefix first", [][]string{{"ab@x", "a@x", "a@xy"}}, []string{"a@x", "a@xy", "ab@x"}},
		{"interleaved chunks", [][]string{{"e", "a", "c"}, {"f", "b"}, {}, {"g", "d"}}, []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"later chunk first", [][]string{{"x", "y"}, {"b", "a"}}, []string{"a", "b", "x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var chunks []schema.NewUsers
			for _, emails := range tt.chunks {
				chunks = append(chunks, schema.SortNewUsers(staged(emails...)))
			}
			var got []string
			for _, s := range mergeByEmail(chunks) {
				got = append(got, s.User.Email)
				if !inChunks(chunks, s) {
					t.Fatalf("%s is a copy, not a row of a chunk", s.User.Email)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for c, emails := range tt.chunks {
				for i, e := range emails {
					if chunks[c].Rows()[i].User.Email != e {
						t.Fatalf("chunk %d was reordered", c)
					}
				}
			}
		})
	}
	// Among equal emails, an earlier chunk's user comes first.
	a, b := staged("a", "m"), staged("m", "z")
	b[0].Row = 99
	got := mergeByEmail([]schema.NewUsers{schema.SortNewUsers(a), schema.SortNewUsers(b)})
	if got[1].Row != 3 || got[2].Row != 99 {
		t.Fatalf("equal emails: rows %d, %d; want 3, 99", got[1].Row, got[2].Row)
	}
}

func inChunks(chunks []schema.NewUsers, s *schema.Staged) bool {
	for _, c := range chunks {
		for i := range c.Rows() {
			if s == &c.Rows()[i] {
				return true
			}
		}
	}
	return false
}
