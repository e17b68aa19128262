package schema

import (
	"slices"
	"strings"
)

// Column is one column of the user sheet (docs/REFERENCE.md §2, The sheet). The zero value is Email.
type Column int

// The template's columns, in the order the template and exports write them.
const (
	ColEmail Column = iota
	ColFirstName
	ColLastName
	ColDisplayName
	ColUsername
	ColPBX
	ColStatus
	ColHomeOrg
	ColPremium
	ColStandard
	ColFullAdmin
	ColCCServiceAdmin
	ColReadOnlyAdmin
	ColCCRole
	ColCopyFrom
	ColSendActivation
	// ColVersion is written by an export only: which state of the user the
	// row was exported from (R-STALE). The template leaves it out, and it
	// is no field of the user.
	ColVersion

	NumColumns // the number of columns; not a column
)

var columnHeaders = [NumColumns]string{
	ColEmail:          "Email",
	ColFirstName:      "First Name",
	ColLastName:       "Last Name",
	ColDisplayName:    "Display Name",
	ColUsername:       "Username",
	ColPBX:            "PBX",
	ColStatus:         "Status",
	ColHomeOrg:        "Home Organization",
	ColPremium:        "Contact Center Premium",
	ColStandard:       "Contact Center Standard",
	ColFullAdmin:      "Full Administrator",
	ColCCServiceAdmin: "Contact Center Service Administrator",
	ColReadOnlyAdmin:  "Read-only Administrator",
	ColCCRole:         "CC Role",
	ColCopyFrom:       "Copy Privileges From",
	ColSendActivation: "Send Activation Email",
	ColVersion:        "Version",
}

// Header returns the column's header as the template writes it.
func (c Column) Header() string {
	if c < 0 || c >= NumColumns {
		return ""
	}
	return columnHeaders[c]
}

// String returns the header, so a Column prints as its name.
func (c Column) String() string { return c.Header() }

// IsFlag reports whether the column holds TRUE or FALSE.
func (c Column) IsFlag() bool {
	switch c {
	case ColPremium, ColStandard, ColFullAdmin, ColCCServiceAdmin, ColReadOnlyAdmin, ColSendActivation:
		return true
	}
	return false
}

// Headers returns the header row of an export: the template's columns,
// then Version.
func Headers() []string {
	h := make([]string, NumColumns)
	copy(h, columnHeaders[:])
	return h
}

// TemplateHeaders returns the template's header row: every column but
// Version, which only an export writes.
func TemplateHeaders() []string {
	return Headers()[:ColVersion]
}

// Report columns are appended by ccbulk to an error report, in this order,
// after the original columns: the row's spreadsheet row number, its Result
// (error or warning) and its findings. A report can be imported again as it
// is: the sheet reader recognizes the three as one trailing group, and also
// the group a report of revision 1 wrote (Row, Status, Findings; Status is
// also a template column, so only that whole sequence is taken).
const (
	ReportRow      = "Row"
	ReportResult   = "Result"
	ReportFindings = "Findings"

	// ReportStatusV1 is the middle column of a revision-1 report's group.
	ReportStatusV1 = "Status"
)

// ReportHeaders returns the columns an error report adds after the original ones.
func ReportHeaders() []string { return []string{ReportRow, ReportResult, ReportFindings} }

// ReportHeaderGroups returns every trailing group that marks a report's own
// columns: the current one first, then revision 1's.
func ReportHeaderGroups() [][]string {
	return [][]string{ReportHeaders(), {ReportRow, ReportStatusV1, ReportFindings}}
}

// NormalizeHeader folds a header for matching: surrounding spaces (and a BOM)
// are dropped, inner runs of white space (no-break spaces too) become one
// space, letters are compared without case, and typographic apostrophes
// (’ ʼ) compare equal to the straight one.
func NormalizeHeader(h string) string {
	h = strings.TrimPrefix(h, "\uFEFF")
	h = apostrophes.Replace(h)
	return strings.ToLower(strings.Join(strings.Fields(h), " "))
}

var apostrophes = strings.NewReplacer("\u2019", "'", "\u02BC", "'")

var headerIndex = func() map[string]Column {
	m := make(map[string]Column, len(columnHeaders)+len(headerAliases))
	for c, h := range columnHeaders {
		m[NormalizeHeader(h)] = Column(c)
	}
	for alias, c := range headerAliases {
		m[NormalizeHeader(alias)] = c
	}
	return m
}()

// headerAliases are other spellings of the template's headers that a sheet may
// carry: the template translated by an administrator into French or Polish.
// Every column has at least one French and one Polish header here (product
// names such as "Contact Center Premium" and "PBX" are not translated and
// match as they are). Typographic apostrophes match straight ones.
var headerAliases = map[string]Column{
	// French
	"Adresse électronique":              ColEmail,
	"Adresse e-mail":                    ColEmail,
	"Adresse courriel":                  ColEmail,
	"Courriel":                          ColEmail,
	"E-mail":                            ColEmail,
	"Prénom":                            ColFirstName,
	"Nom":                               ColLastName,
	"Nom de famille":                    ColLastName,
	"Nom d'affichage":                   ColDisplayName,
	"Nom affiché":                       ColDisplayName,
	"Nom d'utilisateur":                 ColUsername,
	"Autocom privé":                     ColPBX,
	"Autocom":                           ColPBX,
	"Statut":                            ColStatus,
	"Organisation d'origine":            ColHomeOrg,
	"Contact Center Premium (licence)":  ColPremium,
	"Licence Contact Center Premium":    ColPremium,
	"Contact Center Standard (licence)": ColStandard,
	"Licence Contact Center Standard":   ColStandard,
	"Administrateur complet":            ColFullAdmin,
	"Administrateur du service Contact Center": ColCCServiceAdmin,
	"Administrateur en lecture seule":          ColReadOnlyAdmin,
	"Rôle CC":                                  ColCCRole,
	"Copier les privilèges de":                 ColCopyFrom,
	"Envoyer l'e-mail d'activation":            ColSendActivation,
	"Envoyer un e-mail d'activation":           ColSendActivation,
	// "Version" is spelled alike in French.
	// Polish
	"Adres e-mail":                        ColEmail,
	"Adres email":                         ColEmail,
	"Imię":                                ColFirstName,
	"Nazwisko":                            ColLastName,
	"Nazwa wyświetlana":                   ColDisplayName,
	"Nazwa użytkownika":                   ColUsername,
	"Centrala PBX":                        ColPBX,
	"Centrala":                            ColPBX,
	"Organizacja macierzysta":             ColHomeOrg,
	"Licencja Contact Center Premium":     ColPremium,
	"Licencja Contact Center Standard":    ColStandard,
	"Pełny administrator":                 ColFullAdmin,
	"Administrator usługi Contact Center": ColCCServiceAdmin,
	"Administrator tylko do odczytu":      ColReadOnlyAdmin,
	"Administrator z uprawnieniami tylko do odczytu": ColReadOnlyAdmin,
	"Rola CC":              ColCCRole,
	"Kopiuj uprawnienia z": ColCopyFrom,
	"Wyślij wiadomość e-mail z aktywacją": ColSendActivation,
	"Wyślij wiadomość e-mail o aktywacji": ColSendActivation,
	"Wersja":                              ColVersion,
}

// HeaderAlias is a French or Polish spelling of a template header.
type HeaderAlias struct {
	Header string
	Column Column
}

// HeaderAliases returns every French and Polish header the sheet reader
// accepts, by column in template order, then alphabetically.
func HeaderAliases() []HeaderAlias {
	out := make([]HeaderAlias, 0, len(headerAliases))
	for h, c := range headerAliases {
		out = append(out, HeaderAlias{Header: h, Column: c})
	}
	slices.SortFunc(out, func(a, b HeaderAlias) int {
		if a.Column != b.Column {
			return int(a.Column) - int(b.Column)
		}
		return strings.Compare(a.Header, b.Header)
	})
	return out
}

// IsAlias reports whether header h names column c by one of its French or
// Polish spellings rather than by the template's own header (W-HEADER-ALIAS).
func IsAlias(h string, c Column) bool {
	return NormalizeHeader(h) != NormalizeHeader(c.Header())
}

// LookupHeader returns the column a header names, matched case-insensitively
// with surrounding spaces ignored; the template's French and Polish headers
// (headerAliases) name their columns too (see IsAlias).
func LookupHeader(h string) (Column, bool) {
	c, ok := headerIndex[NormalizeHeader(h)]
	return c, ok
}

// UserField is a field of a user as the database stores it.
type UserField struct {
	Name   string // the column of table users, and the key in the audit trail's records
	Column Column // the sheet's column that writes it; NoColumn for the admin role (three columns)
}

// NoColumn is the Column of a stored field that no single column of the
// sheet writes: the admin role, which the Full, Contact Center Service and
// Read-only Administrator columns write together.
const NoColumn Column = -1

// UserFields is the catalogue of a user's stored fields, in the order of
// the template's columns, the key first. The database's column lists, the
// COPY order, the audit trail's fields and the sheet's columns that show
// them are written by hand where they are used (SQL is constant text); a
// test beside each list checks it against this catalogue
// (internal/store's TestFieldCatalogue, importer's TestHistoryColumns), so
// a field added here and not there fails.
var UserFields = []UserField{
	{"email", ColEmail},
	{"first_name", ColFirstName},
	{"last_name", ColLastName},
	{"display_name", ColDisplayName},
	{"username", ColUsername},
	{"pbx", ColPBX},
	{"status", ColStatus},
	{"home_org", ColHomeOrg},
	{"premium", ColPremium},
	{"standard", ColStandard},
	{"admin_role", NoColumn},
	{"cc_role", ColCCRole},
}

// AuditFields returns the fields an audit record may hold: every stored
// field but the key, in the catalogue's order (the template's columns).
func AuditFields() []string {
	names := make([]string, 0, len(UserFields)-1)
	for _, f := range UserFields[1:] {
		names = append(names, f.Name)
	}
	return names
}
