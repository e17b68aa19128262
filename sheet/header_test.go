package sheet

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

func TestMatchHeader(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    map[schema.Column]int
		unknown []string
		report  []int
		aliased []Alias
	}{
		{
			name:    "template order",
			headers: schema.Headers(),
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColSendActivation: 15},
		},
		{
			name:    "any order, case and spaces ignored",
			headers: []string{"  first NAME ", "EMAIL", "contact   center premium"},
			want:    map[schema.Column]int{schema.ColEmail: 1, schema.ColFirstName: 0, schema.ColPremium: 2, schema.ColLastName: -1},
		},
		{
			name:    "unknown columns are listed once, unnamed ones skipped",
			headers: []string{"Email", "Notes", "", "Cost Center"},
			want:    map[schema.Column]int{schema.ColEmail: 0},
			unknown: []string{"Notes", "Cost Center"},
		},
		{
			name:    "a report's own Row, Result, Findings are recognized",
			headers: []string{"Email", "Status", "Row", "Result", "Findings"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColStatus: 1},
			report:  []int{2, 3, 4},
		},
		{
			name:    "a revision-1 report's Row, Status, Findings are recognized beside the template's Status",
			headers: []string{"Email", "Status", "Row", "Status", "Findings"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColStatus: 1},
			report:  []int{2, 3, 4},
		},
		{
			name:    "a revision-1 report without a Status of its own",
			headers: []string{"Email", "Row", "Status", "Findings"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColStatus: -1},
			report:  []int{1, 2, 3},
		},
		{
			name:    "Result alone is an unknown column",
			headers: []string{"Email", "Result", "Findings"},
			want:    map[schema.Column]int{schema.ColEmail: 0},
			unknown: []string{"Result", "Findings"},
		},
		{
			name:    "Row and Findings alone are not a report",
			headers: []string{"Email", "Row", "Findings"},
			want:    map[schema.Column]int{schema.ColEmail: 0},
			unknown: []string{"Row", "Findings"},
		},
		{
			name:    "French template headers",
			headers: []string{"Adresse électronique", "Prénom", "Nom", "Statut", "Administrateur complet"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColFirstName: 1, schema.ColLastName: 2, schema.ColStatus: 3, schema.ColFullAdmin: 4},
			aliased: []Alias{{"Adresse électronique", schema.ColEmail}, {"Prénom", schema.ColFirstName}, {"Nom", schema.ColLastName}, {"Statut", schema.ColStatus}, {"Administrateur complet", schema.ColFullAdmin}},
		},
		{
			name:    "Polish template headers",
			headers: []string{"Adres e-mail", "Imię", "Nazwisko", "Nazwa użytkownika", "Pełny administrator"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColFirstName: 1, schema.ColLastName: 2, schema.ColUsername: 3, schema.ColFullAdmin: 4},
			aliased: []Alias{{"Adres e-mail", schema.ColEmail}, {"Imię", schema.ColFirstName}, {"Nazwisko", schema.ColLastName}, {"Nazwa użytkownika", schema.ColUsername}, {"Pełny administrator", schema.ColFullAdmin}},
		},
		{
			name:    "a byte-order mark before the first header",
			headers: []string{"\uFEFFEmail", "PBX"},
			want:    map[schema.Column]int{schema.ColEmail: 0, schema.ColPBX: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := MatchHeader("users.csv", tt.headers)
			if err != nil {
				t.Fatalf("MatchHeader: %v", err)
			}
			for c, i := range tt.want {
				if l.Index[c] != i {
					t.Errorf("column %s at %d, want %d", c, l.Index[c], i)
				}
			}
			if !slices.Equal(l.Unknown, tt.unknown) {
				t.Errorf("unknown %q, want %q", l.Unknown, tt.unknown)
			}
			if !slices.Equal(l.Report, tt.report) {
				t.Errorf("report columns %v, want %v", l.Report, tt.report)
			}
			if !slices.Equal(l.Aliased, tt.aliased) {
				t.Errorf("aliased %v, want %v", l.Aliased, tt.aliased)
			}
		})
	}
}

func TestMatchHeaderRefuses(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []string // substrings of the message
	}{
		{"no Email column", []string{"First Name", "Last Name"}, []string{"F-HEADER", "no Email column", `"First Name"`}},
		{"two headers for one column", []string{"Email", "PBX", "pbx "}, []string{"F-HEADER", "columns B and C", "PBX column"}},
		{"an alias and the header for one column", []string{"Email", "Adres e-mail"}, []string{"F-HEADER", "columns A and B", "Email column"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MatchHeader("users.csv", tt.headers)
			var fe *schema.FileError
			if !errors.As(err, &fe) || fe.Rule != schema.FHeader {
				t.Fatalf("err = %v, want F-HEADER", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err.Error(), w)
				}
			}
		})
	}
}

func TestLayoutOriginalCellsDropsReportColumns(t *testing.T) {
	l, err := MatchHeader("r.csv", []string{"Email", "Notes", "Row", "Status", "Findings"})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.OriginalHeaders(); !slices.Equal(got, []string{"Email", "Notes"}) {
		t.Errorf("OriginalHeaders = %q", got)
	}
	if got := l.OriginalCells([]string{"a@x.io", "n", "4", "error", "R-BOOL: …"}); !slices.Equal(got, []string{"a@x.io", "n"}) {
		t.Errorf("OriginalCells = %q", got)
	}
	if got := l.OriginalCells([]string{"a@x.io"}); !slices.Equal(got, []string{"a@x.io", ""}) {
		t.Errorf("OriginalCells of a short row = %q", got)
	}
}
