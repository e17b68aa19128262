package schema

import "testing"

// TestMatchName: a name of the list matches in any letter case and comes
// back as the list spells it.
func TestMatchName(t *testing.T) {
	list := []string{"Paris", "warsaw", "Kraków"}
	cases := []struct {
		s, want string
		ok      bool
	}{
		{"Paris", "Paris", true},
		{"paris", "Paris", true},
		{"WARSAW", "warsaw", true},
		{"warsaw", "warsaw", true},
		{"KRAKÓW", "Kraków", true},
		{"lyon", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got, ok := MatchName(list, c.s); got != c.want || ok != c.ok {
			t.Errorf("MatchName(%q) = %q, %v; want %q, %v", c.s, got, ok, c.want, c.ok)
		}
	}
}
