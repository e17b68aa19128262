package importer_test

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/lib/pq"
	"golang.org/x/text/unicode/norm"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
)

// TestEveryAcceptedEmailCanBeStored puts one address per character through
// rules.ParseEmail (every character of the Basic Multilingual Plane and
// every character with a case mapping beyond it, in upper and lower case;
// the key is lower-case and in Unicode normalization form C) and stores each address it accepts in users: the table's check
// (email = lower(email COLLATE "C")) must take every key ParseEmail
// makes, whatever case tables the server has, so that no email can make a
// batch fail at the insert.
func TestEveryAcceptedEmailCanBeStored(t *testing.T) {
	db := newTenant(t)
	seen := map[string]bool{}
	var emails []string
	try := func(r rune) {
		if !utf8.ValidRune(r) {
			return
		}
		for _, local := range []string{"a" + string(r), strings.ToUpper("a" + string(r))} {
			email, problem := rules.ParseEmail(" " + local + "@Acme.Example ")
			if problem != "" || seen[email] {
				continue
			}
			want := norm.NFC.String(strings.ToLower(norm.NFD.String(local))) + "@acme.example"
			if email != strings.ToLower(email) || email != want || !norm.NFC.IsNormalString(email) {
				t.Fatalf("ParseEmail(%q) = %q", local, email)
			}
			seen[email] = true
			emails = append(emails, email)
		}
	}
	for r := rune(0); r <= 0xFFFF; r++ {
		try(r)
	}
	for _, cr := range unicode.CaseRanges {
		for r := rune(max(cr.Lo, 0x10000)); r <= rune(cr.Hi); r++ {
			try(r)
		}
	}
	if len(emails) < 40_000 {
		t.Fatalf("only %d addresses accepted", len(emails))
	}
	ctx := context.Background()
	res, err := db.ExecContext(ctx, `INSERT INTO users (tenant_id, email, username, pbx)
		SELECT 'acme', e, e, 'main' FROM unnest($1::text[]) AS e`, pq.StringArray(emails))
	if err != nil {
		t.Fatalf("storing the %d addresses ParseEmail accepts: %v", len(emails), err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(emails)) {
		t.Fatalf("stored %d of %d addresses", n, len(emails))
	}
	// Each is found again by the key ParseEmail makes of any spelling.
	for _, spelling := range []string{"AÉ@acme.example", "aé@ACME.EXAMPLE", "AE\u0301@acme.example", "A\u212A@acme.example"} {
		if _, err := store.GetUser(ctx, db, "acme", mustEmail(t, spelling)); err != nil {
			t.Errorf("%s: %v", spelling, err)
		}
	}
	// The check still refuses what ParseEmail never writes.
	for _, bad := range []string{"Upper@acme.example", " space@acme.example", ""} {
		_, err := db.ExecContext(ctx, `INSERT INTO users (tenant_id, email, username, pbx) VALUES ('acme', $1, 'x', 'main')`, bad)
		if err == nil {
			t.Errorf("the users table took the email %q", bad)
		}
	}
	// A character Go's tables do not know is refused before the database.
	if _, problem := rules.ParseEmail("a\u1C89@acme.example"); problem == "" {
		t.Error("ParseEmail accepted U+1C89, unknown to Go's Unicode tables")
	}
}

func mustEmail(t *testing.T, s string) string {
	t.Helper()
	e, problem := rules.ParseEmail(s)
	if problem != "" {
		t.Fatalf("ParseEmail(%q): %s", s, problem)
	}
	return e
}
