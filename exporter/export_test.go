package exporter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
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
	if res, err := importer.Import(ctx, pgimporter.New(store.New(db)), importer.Options{File: sheetPath, Org: "acme", Actor: primary}); err != nil || res.Created != 3 {
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
		res, err := exporter.Export(ctx, store.New(db), &buf, exporter.Options{Org: "acme", Actor: primary, Format: tc.format, MaxXLSXRows: tc.limit})
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

// TestXLSXExportDropDowns: the XLSX export offers the organization's own
// PBXes, Active/Inactive, its CC roles and the registered external
// organizations as drop-downs, beside TRUE/FALSE on the flag columns, and
// carries the template's instructions sheet. A list over Excel's 255
// characters (or holding a comma) refers to a range of a hidden Lists
// sheet; the export still imports back with no change.
func TestXLSXExportDropDowns(t *testing.T) {
	ctx := context.Background()
	db, _ := testdb.New(t)
	short := []string{"paris", "warsaw"}
	var long []string
	for i := range 30 {
		long = append(long, fmt.Sprintf("site %02d of the northern region", i))
	}
	long = append(long, "Lyon, Part-Dieu")
	for _, ext := range []schema.ExternalOrg{{ID: "northwind", Name: "Northwind", Kind: schema.KindPartner}, {ID: "contoso", Name: "Contoso", Kind: schema.KindOther}} {
		if err := store.CreateExternal(ctx, db, ext); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		org   string
		pbxes []string
	}{{"acme", short}, {"initech", long}} {
		t.Run(tc.org, func(t *testing.T) {
			admin := "admin@" + tc.org + ".example"
			if err := store.CreateOrg(ctx, db, schema.Org{ID: tc.org, Name: tc.org, PBXes: tc.pbxes, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: admin}); err != nil {
				t.Fatal(err)
			}
			if err := store.CreateRole(ctx, db, tc.org, "Supervisors", []string{"view"}); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "users.xlsx")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exporter.Export(ctx, store.New(db), f, exporter.Options{Org: tc.org, Actor: admin, Format: sheet.XLSX}); err != nil {
				t.Fatal(err)
			}
			f.Close()

			book, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer book.Close()
			dvs, err := book.GetDataValidations("Users")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{} // column letter -> list formula
			for _, dv := range dvs {
				if dv.Type != "list" {
					t.Errorf("%s: validation of type %q", dv.Sqref, dv.Type)
				}
				got[strings.TrimRight(strings.SplitN(dv.Sqref, ":", 2)[0], "0123456789")] = dv.Formula1
			}
			want := map[string]string{
				"F": `"paris,warsaw"`,               // PBX
				"G": `"Active,Inactive"`,            // Status
				"H": `"contoso,northwind"`,          // Home Organization
				"N": `"Supervisors,System Default"`, // CC Role
			}
			for _, c := range []string{"I", "J", "K", "L", "M", "P"} {
				want[c] = `"TRUE,FALSE"`
			}
			if tc.org == "initech" {
				want["F"] = "Lists!$A$1:$A$31"
			}
			for col, w := range want {
				if got[col] != w {
					t.Errorf("column %s: drop-down %q, want %q", col, got[col], w)
				}
			}
			if len(got) != len(want) {
				t.Errorf("drop-downs on %v, want %d columns", got, len(want))
			}
			sheets := book.GetSheetList()
			wantSheets := []string{"Users", "Instructions"}
			if tc.org == "initech" {
				wantSheets = append(wantSheets, "Lists")
				visible, err := book.GetSheetVisible("Lists")
				if err != nil || visible {
					t.Errorf("Lists sheet visible=%v (%v), want hidden", visible, err)
				}
				values, err := book.GetRows("Lists")
				if err != nil || len(values) != 31 || values[0][0] != long[0] || values[30][0] != "Lyon, Part-Dieu" {
					t.Errorf("Lists sheet: %q (%v)", values, err)
				}
			}
			if !slices.Equal(sheets, wantSheets) {
				t.Errorf("sheets %q, want %q", sheets, wantSheets)
			}
			if lines, _ := book.GetRows("Instructions"); len(lines) == 0 || lines[0][0] != exporter.Instructions[0] {
				t.Errorf("instructions sheet: %q", lines)
			}

			res, err := importer.Import(ctx, pgimporter.New(store.New(db)), importer.Options{File: path, Org: tc.org, Actor: admin})
			if err != nil || res.Unchanged != 1 || res.Created+res.Updated+res.Rejected != 0 {
				t.Errorf("import of the export: %v %+v", err, res)
			}
		})
	}
}
