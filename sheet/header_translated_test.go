package sheet

import (
	"slices"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// The template's header row translated to French or Polish, as an
// administrator (or a translation tool) would write it, is recognized
// without a mapping: every column, none unknown.
func TestMatchHeaderTranslatedTemplate(t *testing.T) {
	tests := []struct {
		name    string
		headers [schema.NumColumns]string
	}{
		{"English", [schema.NumColumns]string(schema.Headers())},
		{"French", [schema.NumColumns]string{
			schema.ColEmail:          "Adresse électronique",
			schema.ColFirstName:      "Prénom",
			schema.ColLastName:       "Nom",
			schema.ColDisplayName:    "Nom d’affichage",
			schema.ColUsername:       "Nom d'utilisateur",
			schema.ColPBX:            "Autocom privé",
			schema.ColStatus:         "Statut",
			schema.ColHomeOrg:        "Organisation d’origine",
			schema.ColPremium:        "Contact Center Premium",
			schema.ColStandard:       "Contact Center Standard",
			schema.ColFullAdmin:      "Administrateur complet",
			schema.ColCCServiceAdmin: "Administrateur du service Contact Center",
			schema.ColReadOnlyAdmin:  "Administrateur en lecture seule",
			schema.ColCCRole:         "Rôle CC",
			schema.ColCopyFrom:       "Copier les privilèges de",
			schema.ColSendActivation: "Envoyer l’e-mail d’activation",
			schema.ColVersion:        "Version",
		}},
		{"French, other spellings", [schema.NumColumns]string{
			schema.ColEmail:          "ADRESSE COURRIEL",
			schema.ColFirstName:      " prénom ",
			schema.ColLastName:       "Nom de famille",
			schema.ColDisplayName:    "Nom affiché",
			schema.ColUsername:       "Nom d’utilisateur",
			schema.ColPBX:            "PBX",
			schema.ColStatus:         "Statut",
			schema.ColHomeOrg:        "Organisation d'origine",
			schema.ColPremium:        "Licence Contact Center Premium",
			schema.ColStandard:       "Licence Contact Center Standard",
			schema.ColFullAdmin:      "Administrateur\u00a0complet",
			schema.ColCCServiceAdmin: "Administrateur du service  Contact Center",
			schema.ColReadOnlyAdmin:  "Administrateur en lecture seule",
			schema.ColCCRole:         "Rôle CC",
			schema.ColCopyFrom:       "Copier les privilèges de",
			schema.ColSendActivation: "Envoyer un e-mail d'activation",
			schema.ColVersion:        "VERSION",
		}},
		{"Polish", [schema.NumColumns]string{
			schema.ColEmail:          "Adres e-mail",
			schema.ColFirstName:      "Imię",
			schema.ColLastName:       "Nazwisko",
			schema.ColDisplayName:    "Nazwa wyświetlana",
			schema.ColUsername:       "Nazwa użytkownika",
			schema.ColPBX:            "Centrala PBX",
			schema.ColStatus:         "Status",
			schema.ColHomeOrg:        "Organizacja macierzysta",
			schema.ColPremium:        "Contact Center Premium",
			schema.ColStandard:       "Contact Center Standard",
			schema.ColFullAdmin:      "Pełny administrator",
			schema.ColCCServiceAdmin: "Administrator usługi Contact Center",
			schema.ColReadOnlyAdmin:  "Administrator tylko do odczytu",
			schema.ColCCRole:         "Rola CC",
			schema.ColCopyFrom:       "Kopiuj uprawnienia z",
			schema.ColSendActivation: "Wyślij wiadomość e-mail z aktywacją",
			schema.ColVersion:        "Wersja",
		}},
		{"Polish, other spellings", [schema.NumColumns]string{
			schema.ColEmail:          "adres email",
			schema.ColFirstName:      "IMIĘ",
			schema.ColLastName:       "Nazwisko",
			schema.ColDisplayName:    "Nazwa wyświetlana",
			schema.ColUsername:       "Nazwa użytkownika",
			schema.ColPBX:            "Centrala",
			schema.ColStatus:         "Status",
			schema.ColHomeOrg:        "Organizacja macierzysta",
			schema.ColPremium:        "Licencja Contact Center Premium",
			schema.ColStandard:       "Licencja Contact Center Standard",
			schema.ColFullAdmin:      "Pełny administrator",
			schema.ColCCServiceAdmin: "Administrator usługi Contact Center",
			schema.ColReadOnlyAdmin:  "Administrator z uprawnieniami tylko do odczytu",
			schema.ColCCRole:         "Rola CC",
			schema.ColCopyFrom:       "Kopiuj uprawnienia z",
			schema.ColSendActivation: "Wyślij wiadomość e-mail o aktywacji",
			schema.ColVersion:        "wersja ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Reversed, so that a column found by its position alone would fail.
			headers := slices.Clone(tt.headers[:])
			slices.Reverse(headers)
			l, err := MatchHeader("fr.csv", headers)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Unknown) > 0 {
				t.Errorf("unknown headers %q", l.Unknown)
			}
			for c := range schema.NumColumns {
				if want := int(schema.NumColumns-1) - int(c); l.Index[c] != want {
					t.Errorf("%s is at %d, want %d (%q)", c, l.Index[c], want, tt.headers[c])
				}
			}
			names := l.ColumnHeaders()
			if names[schema.ColEmail] != tt.headers[schema.ColEmail] {
				t.Errorf("findings on Email would name %q, want %q", names[schema.ColEmail], tt.headers[schema.ColEmail])
			}
		})
	}
}

func TestLayoutCells(t *testing.T) {
	l, err := MatchHeader("in.csv", []string{"Notes", "email", "PBX", "Row", "Status", "Findings"})
	if err != nil {
		t.Fatal(err)
	}
	var cells [schema.NumColumns]string
	cells[schema.ColStatus] = "stale"
	if fs := l.Cells(2, []string{"n", "a@x.example", "paris", "2", "error", "R-PBX: …"}, &cells); fs != nil {
		t.Errorf("findings %v without a mapping", fs)
	}
	want := [schema.NumColumns]string{schema.ColEmail: "a@x.example", schema.ColPBX: "paris"}
	if cells != want {
		t.Errorf("cells = %q, want %q", cells, want)
	}
	if !slices.Equal(l.Unknown, []string{"Notes"}) {
		t.Errorf("Unknown = %q", l.Unknown)
	}
	if got := l.ColumnHeaders(); got[schema.ColEmail] != "email" || got[schema.ColStatus] != "Status" {
		t.Errorf("ColumnHeaders = %q", got)
	}
}
