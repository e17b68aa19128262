package exporter_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const primary = "marie.dubois@acme.example"

// TestXLSXTooManyUsers: an XLSX export of more users than the worksheet
// holds is refused before a byte is written, pointing to CSV; at the limit
// it is written, and CSV has no such limit. (The limit is lowered to a few
// rows: a worksheet holds 1,048,575.)
func TestXLSXTooManyUsers(t *testing.T) {
	ctx := context.Background()
	db, _ := testdb.New(t)
	if err := store.CreateOrg(ctx, db, schema.Org{ID: "acme", Name: "Acme", PBXes: []string{"paris"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: primary}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sheetPath := filepath.Join(dir, "users.csv")
	users := "Email\na@acme.example\nb@acme.example\nc@acme.example\n" // 4 users with the primary administrator
	if err := os.WriteFile(sheetPath, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := importer.Import(ctx, db, importer.Options{File: sheetPath, Org: "acme", Actor: primary}); err != nil || res.Created != 3 {
		t.Fatalf("seeding: %v %+v", err, res)
	}
	for _, tc := range []struct {
		format  sheet.Format
		limit   int
		refused bool
	}{
		{sheet.XLSX, 3, true},
		{sheet.XLSX, 4, false},
		{sheet.CSV, 3, false},
	} {
		var buf bytes.Buffer
		res, err := exporter.Export(ctx, db, &buf, exporter.Options{Org: "acme", Actor: primary, Format: tc.format, MaxXLSXRows: tc.limit})
		var tooMany *exporter.TooManyRowsError
		if got := errors.As(err, &tooMany); got != tc.refused {
			t.Errorf("%s, limit %d: err = %v, want refused=%v", tc.format, tc.limit, err, tc.refused)
			continue
		}
		if tc.refused {
			if buf.Len() != 0 || res.Users != 0 {
				t.Errorf("%s, limit %d: %d bytes, %d users written before the refusal", tc.format, tc.limit, buf.Len(), res.Users)
			}
			if want := "acme has more users than an XLSX worksheet holds (3 rows); nothing was written: export to CSV instead (--format csv, or -o FILE.csv)"; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			continue
		}
		if err != nil || res.Users != 4 || buf.Len() == 0 {
			t.Errorf("%s, limit %d: %v, %d users, %d bytes", tc.format, tc.limit, err, res.Users, buf.Len())
		}
	}
}
