package rules_test

import (
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// R-EMAIL: Email missing or not an address. A valid address is trimmed and
// stored lower-case.
func TestREmail(t *testing.T) {
	runCases(t, []rowCase{
		{name: "missing", rows: []cells{{cFirst: "Jan"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "blank", rows: []cells{{cEmail: "   "}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "no at", rows: []cells{{cEmail: "jan.kowalski"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "no local part", rows: []cells{{cEmail: "@acme.example"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "no domain", rows: []cells{{cEmail: "jan@"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "domain without dot", rows: []cells{{cEmail: "jan@acme"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "display name form", rows: []cells{{cEmail: "Jan Kowalski <jan@acme.example>"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "space inside", rows: []cells{{cEmail: "jan kowalski@acme.example"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "two addresses", rows: []cells{{cEmail: "jan@acme.example, ewa@acme.example"}}, want: [][]string{one("R-EMAIL Email")}},
		{name: "valid, spaces and capitals", rows: []cells{{cEmail: "  Hugo.Moreau@ACME.example "}}},
		// Later rules do not run on a row without a key, but the cell
		// findings of the row are all reported.
		{name: "with other cell findings", rows: []cells{{cEmail: "hugo", cPremium: "yes", cStatus: "on"}},
			want: [][]string{{"R-EMAIL Email", "R-STATUS Status", "R-BOOL Contact Center Premium"}}},
	})

	in, fs := parse(2, cells{cEmail: "  Hugo.Moreau@ACME.example "})
	if len(fs) != 0 || in.Email != hugo {
		t.Errorf("parsed %q with %v, want %q", in.Email, fs, hugo)
	}
	_, fs = parse(7, cells{cEmail: "jan@acme"})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "name@example.com") || fs[0].Row != 7 {
		t.Errorf("R-EMAIL finding %+v: want row 7 and a hint of the expected form", fs)
	}
}

// TestParseEmailNFC: an address is NFC-normalized before it is compared or
// stored, so "josé" typed with a combining accent and with a precomposed é
// is one address, whatever the letter case.
func TestParseEmailNFC(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"precomposed", "jos\u00e9@acme.example", "jos\u00e9@acme.example"},
		{"combining accent", "jose\u0301@acme.example", "jos\u00e9@acme.example"},
		{"combining accent, upper case", " JOSE\u0301@ACME.example ", "jos\u00e9@acme.example"},
		{"precomposed upper case", "JOS\u00c9@acme.example", "jos\u00e9@acme.example"},
		{"Hangul jamo", "\u1100\u1161@acme.example", "\uac00@acme.example"},
		{"Angstrom sign", "\u212bngstr\u00f6m@acme.example", "\u00e5ngstr\u00f6m@acme.example"},
		{"combining accent in the domain", "ana@cafe\u0301.example", "ana@caf\u00e9.example"},
	} {
		got, problem := rules.ParseEmail(tc.raw)
		if problem != "" || got != tc.want {
			t.Errorf("%s: ParseEmail(%q) = %q, %q; want %q", tc.name, tc.raw, got, problem, tc.want)
		}
	}
}

// R-DUP-EMAIL: the email appears in an earlier row of this file; the later
// row is rejected, the earlier one stands.
func TestRDupEmail(t *testing.T) {
	runCases(t, []rowCase{
		{name: "combining accent and precomposed", rows: []cells{{cEmail: "jose\u0301@acme.example", cPBX: "paris"}, {cEmail: "Jos\u00e9@acme.example", cPBX: "paris"}},
			want: [][]string{nil, one("R-DUP-EMAIL Email")}},
		{name: "same address", rows: []cells{{cEmail: hugo, cFirst: "Hugo"}, {cEmail: hugo, cFirst: "Hugues"}},
			want: [][]string{nil, one("R-DUP-EMAIL Email")}},
		{name: "differs in case and spaces", rows: []cells{{cEmail: "ewa.zielinska@acme.example", cPBX: "warsaw"}, {cEmail: " Ewa.Zielinska@Acme.Example", cPBX: "warsaw"}},
			want: [][]string{nil, one("R-DUP-EMAIL Email")}},
		{name: "earlier row rejected too", rows: []cells{{cEmail: hugo, cPremium: "yes"}, {cEmail: hugo, cStandard: "TRUE"}},
			want: [][]string{one("R-BOOL Contact Center Premium"), one("R-DUP-EMAIL Email")}},
		{name: "not adjacent", rows: []cells{{cEmail: hugo}, {cEmail: chloe}, {cEmail: lucas}, {cEmail: hugo}},
			want: [][]string{nil, nil, nil, one("R-DUP-EMAIL Email")}},
	})

	wd := newWorld(rules.FullCustomer)
	outs := wd.check(cells{cEmail: hugo, cFirst: "Hugo"}, cells{cEmail: hugo, cFirst: "Hugues"})
	if outs[0].After.FirstName != "Hugo" {
		t.Errorf("the first row gives first name %q, want Hugo", outs[0].After.FirstName)
	}
	if msg := outs[1].Findings[0].Message; !strings.Contains(msg, "row 2") {
		t.Errorf("R-DUP-EMAIL message %q does not name the earlier row", msg)
	}
}

// R-BOOL: a TRUE/FALSE column holds anything else. Seed 004: "W szablonie
// CSV można ustawić tylko kolumny Webex kontaktów Premium i Webex contact
// center w standardzie TRUE lub FALSE" (the CSV template takes only TRUE or
// FALSE in the license columns); docs/REFERENCE.md extends it to every flag column.
func TestRBool(t *testing.T) {
	cases := []rowCase{
		{name: "TRUE any case, spaces", rows: []cells{{cEmail: hugo, cStandard: " true ", cSend: "False"}}},
	}
	for _, bad := range []string{"yes", "1", "x", "oui", "T", "TRUE FALSE"} {
		for _, col := range []schema.Column{cPremium, cStandard, cFull, cCCS, cRO, cSend} {
			cases = append(cases, rowCase{name: col.Header() + "=" + bad,
				rows: []cells{{cEmail: hugo, col: bad}}, want: [][]string{one("R-BOOL " + col.Header())}})
		}
	}
	cases = append(cases, rowCase{name: "every flag column at once",
		rows: []cells{{cEmail: hugo, cPremium: "y", cStandard: "n", cFull: "no", cCCS: "si", cRO: "0", cSend: "-"}},
		want: [][]string{{"R-BOOL Contact Center Premium", "R-BOOL Contact Center Standard", "R-BOOL Full Administrator",
			"R-BOOL Contact Center Service Administrator", "R-BOOL Read-only Administrator", "R-BOOL Send Activation Email"}}})
	runCases(t, cases)

	in, fs := parse(2, cells{cEmail: hugo, cPremium: "yes"})
	if in.Premium.Set || len(fs) != 1 || !strings.Contains(fs[0].Message, `"yes" is not TRUE or FALSE`) {
		t.Errorf("R-BOOL: parsed %+v with %v", in.Premium, fs)
	}
}

// R-STATUS: Status is not Active or Inactive.
func TestRStatus(t *testing.T) {
	runCases(t, []rowCase{
		{name: "Active", rows: []cells{{cEmail: hugo, cStatus: "Active"}}},
		{name: "inactive any case", rows: []cells{{cEmail: hugo, cStatus: " INACTIVE "}}},
		{name: "Enabled", rows: []cells{{cEmail: hugo, cStatus: "Enabled"}}, want: [][]string{one("R-STATUS Status")}},
		{name: "French", rows: []cells{{cEmail: hugo, cStatus: "Actif"}}, want: [][]string{one("R-STATUS Status")}},
		{name: "TRUE", rows: []cells{{cEmail: hugo, cStatus: "TRUE"}}, want: [][]string{one("R-STATUS Status")}},
		{name: "suspended", rows: []cells{{cEmail: "new.agent@acme.example", cPBX: "paris", cStatus: "suspended"}}, want: [][]string{one("R-STATUS Status")}},
	})
	outs := newWorld(rules.FullCustomer).check(cells{cEmail: hugo, cStatus: "inactive"})
	if outs[0].After.Status != schema.StatusInactive || outs[0].Kind != rules.Updated {
		t.Errorf("Status inactive: %+v", outs[0])
	}
}

// R-TEXT: a cell holds a NUL or other control character (tab, CR and LF
// aside) or is longer than 1,000 characters.
func TestRText(t *testing.T) {
	long := strings.Repeat("é", rules.MaxTextLen)
	runCases(t, []rowCase{
		{name: "NUL in a name", rows: []cells{{cEmail: hugo, cDisplay: "Hugo\x00Moreau"}}, want: [][]string{one("R-TEXT Display Name")}},
		{name: "bell", rows: []cells{{cEmail: hugo, cLast: "Moreau\a"}}, want: [][]string{one("R-TEXT Last Name")}},
		{name: "escape in username", rows: []cells{{cEmail: hugo, cUsername: "\x1bhmoreau"}}, want: [][]string{one("R-TEXT Username")}},
		{name: "C1 control", rows: []cells{{cEmail: hugo, cFirst: "Hugo\u0085"}}, want: [][]string{one("R-TEXT First Name")}},
		{name: "NUL in the email", rows: []cells{{cEmail: "hugo.moreau@acme.example\x00"}}, want: [][]string{one("R-TEXT Email")}},
		{name: "NUL in a flag", rows: []cells{{cEmail: hugo, cPremium: "TRUE\x00"}}, want: [][]string{one("R-TEXT Contact Center Premium")}},
		{name: "tab, CR and LF allowed", rows: []cells{{cEmail: hugo, cDisplay: "Hugo\tMoreau\r\n(Paris)"}}},
		{name: "1000 characters", rows: []cells{{cEmail: hugo, cDisplay: long}}},
		{name: "1001 characters", rows: []cells{{cEmail: hugo, cDisplay: long + "x"}}, want: [][]string{one("R-TEXT Display Name")}},
		{name: "two cells", rows: []cells{{cEmail: hugo, cFirst: "\x00", cCopy: strings.Repeat("a", 1001)}},
			want: [][]string{{"R-TEXT First Name", "R-TEXT Copy Privileges From"}}},
	})
	_, fs := parse(2, cells{cEmail: hugo, cDisplay: "Hugo\x00Moreau"})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "U+0000 at character 5") {
		t.Errorf("R-TEXT message should say which character and where: %v", fs)
	}
	_, fs = parse(2, cells{cEmail: hugo, cDisplay: long + "x"})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "1001 characters") {
		t.Errorf("R-TEXT message should give the length: %v", fs)
	}
}

// W-BOOL-LOCALE: a localized Excel boolean was read as TRUE/FALSE (VRAI/FAUX
// written by French Excel, PRAWDA/FAŁSZ by Polish Excel). The row is
// applied.
func TestWBoolLocale(t *testing.T) {
	runCases(t, []rowCase{
		{name: "VRAI", rows: []cells{{cEmail: hugo, cStandard: "VRAI"}}, want: [][]string{one("W-BOOL-LOCALE Contact Center Standard")}},
		{name: "faux", rows: []cells{{cEmail: chloe, cStandard: "faux"}}, want: [][]string{one("W-BOOL-LOCALE Contact Center Standard")}},
		{name: "PRAWDA", rows: []cells{{cEmail: hugo, cSend: "PRAWDA"}}, want: [][]string{one("W-BOOL-LOCALE Send Activation Email")}},
		{name: "Fałsz", rows: []cells{{cEmail: pawel, cRO: " Fałsz "}}, want: [][]string{one("W-BOOL-LOCALE Read-only Administrator")}},
		{name: "with an error on the row", rows: []cells{{cEmail: hugo, cStandard: "VRAI", cPremium: "oui"}},
			want: [][]string{{"R-BOOL Contact Center Premium", "W-BOOL-LOCALE Contact Center Standard"}}},
		{name: "English words are no warning", rows: []cells{{cEmail: hugo, cStandard: "TRUE", cPremium: "false"}}},
	})
	outs := newWorld(rules.FullCustomer).check(cells{cEmail: hugo, cStandard: "PRAWDA"}, cells{cEmail: chloe, cStandard: "FAŁSZ"})
	if !outs[0].After.Standard || outs[1].After.Standard || outs[0].Kind != rules.Updated || outs[1].Kind != rules.Updated {
		t.Errorf("PRAWDA and FAŁSZ must be applied as TRUE and FALSE: %+v / %+v", outs[0].After, outs[1].After)
	}
	_, fs := parse(2, cells{cEmail: hugo, cStandard: "VRAI"})
	if !strings.Contains(fs[0].Message, `"VRAI" was read as TRUE`) {
		t.Errorf("W-BOOL-LOCALE message: %q", fs[0].Message)
	}
}
