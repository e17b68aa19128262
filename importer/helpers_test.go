package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/internal/testorg"
	"github.com/ccbulk/ccbulk/schema"
)

const primary = testorg.Primary

// seedUsers are the users of the test tenant besides its primary
// administrator (testorg.Users).
const seedUsers = testorg.Users

// newDB returns a fresh database with the external organizations northwind
// (partner), contoso (other) and fabrikam (other, with its own contact
// center) registered.
func newDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db, _ := testdb.New(t)
	registerExternals(t, db)
	return db
}

func registerExternals(t *testing.T, db *sqlx.DB) {
	t.Helper()
	testorg.Register(t, store.New(db), testorg.Externals...)
}

// tenant is one organization of a test database.
type tenant struct {
	db  *sqlx.DB
	org string
}

// newAcme returns the tenant acme of a fresh database (see addTenant).
func newAcme(t *testing.T) tenant { return addTenant(t, newDB(t), "acme") }

// addTenant creates a tenant (PBXes paris and warsaw, no seat limits, the
// CC role Supervisors) holding seedUsers, in a database made by newDB.
func addTenant(t *testing.T, db *sqlx.DB, id string) tenant {
	t.Helper()
	return addTenantWithSeats(t, db, id, -1, -1)
}

// addTenantWithSeats is addTenant with seat limits (-1: no limit). seedUsers
// hold 1 Premium and 8 Standard seats.
func addTenantWithSeats(t *testing.T, db *sqlx.DB, id string, premium, standard int) tenant {
	t.Helper()
	testorg.Tenant(t, store.New(db), id, premium, standard, seedUsers)
	return tenant{db: db, org: id}
}

// importSheet imports a CSV sheet as actor, as a real run unless opts says
// otherwise. The report goes to the test's temporary directory.
func (tn tenant) importSheet(t *testing.T, actor, csv string, opts func(*importer.Options)) (importer.Result, error) {
	t.Helper()
	return testorg.Import(t, store.New(tn.db), tn.org, actor, csv, opts)
}

// user returns a user of the tenant, or nil.
func (tn tenant) user(t *testing.T, email string) *schema.User {
	t.Helper()
	u, err := store.GetUser(context.Background(), tn.db, tn.org, email)
	if err != nil {
		return nil
	}
	return &u
}

// withoutVersions returns a CSV export without its Version column, to
// compare the users of two databases (their versions are the ids of the
// transactions that wrote them).
func withoutVersions(t *testing.T, export string) string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewBufferString(export)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for _, r := range recs {
		if len(r) != int(schema.NumColumns) || r[schema.ColVersion] == "" && r[0] != "" {
			t.Fatalf("export row %q has no Version", r)
		}
		if err := w.Write(r[:schema.ColVersion]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return out.String()
}
