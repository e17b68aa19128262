package importer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const admin = "root@acme.example"

// newTenant creates the tenant "acme" with the given PBXes.
func newTenant(t *testing.T, pbxes ...string) *sqlx.DB {
	t.Helper()
	db, _ := testdb.New(t)
	ctx := context.Background()
	err := store.CreateOrg(ctx, db, schema.Org{ID: "acme", Name: "Acme", PBXes: pbxes, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: admin})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func runImport(t *testing.T, db *sqlx.DB, actor, csv string, mod func(*importer.Options)) importer.Result {
	t.Helper()
	opts := importer.Options{File: "-", Stdin: strings.NewReader(csv), Org: "acme", Actor: actor,
		Report: filepath.Join(t.TempDir(), "report.csv")}
	if mod != nil {
		mod(&opts)
	}
	res, err := importer.Import(context.Background(), pgimporter.New(store.New(db)), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

func user(t *testing.T, db *sqlx.DB, email string) schema.User {
	t.Helper()
	u, err := store.GetUser(context.Background(), db, "acme", email)
	if err != nil {
		t.Fatal(err)
	}
	u.Version = 0 // the transaction that wrote the row: compared here are the fields
	return u
}

func TestNewUserDefaults(t *testing.T) {
	db := newTenant(t) // one PBX: "main"
	res := runImport(t, db, admin, "Email\n  Ann.Lee@Acme.Example \n", nil)
	if res.Created != 1 || res.Rejected != 0 {
		t.Fatalf("result %+v", res)
	}
	got := user(t, db, "ann.lee@acme.example")
	want := schema.User{Email: "ann.lee@acme.example", Username: "ann.lee@acme.example", PBX: "main", Status: schema.StatusActive}
	if got != want {
		t.Errorf("new user\n got %+v\nwant %+v", got, want)
	}
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM activation_outbox WHERE email = 'ann.lee@acme.example'`); err != nil || queued != 1 {
		t.Errorf("activation requests = %d (%v), want 1: new users are invited", queued, err)
	}
}

func TestNewAdminGetsSystemDefaultRole(t *testing.T) {
	db := newTenant(t)
	runImport(t, db, admin, "Email,Contact Center Service Administrator,Send Activation Email\nsam@acme.example,TRUE,FALSE\n", nil)
	u := user(t, db, "sam@acme.example")
	if u.AdminRole != schema.RoleCCService || u.CCRole != schema.DefaultCCRole {
		t.Errorf("role %q, CC role %q; want cc_service with %q", u.AdminRole, u.CCRole, schema.DefaultCCRole)
	}
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM activation_outbox`); err != nil || queued != 0 {
		t.Errorf("activation requests = %d, want 0 (Send Activation Email FALSE)", queued)
	}
}

func TestBlankMeansNoChange(t *testing.T) {
	db := newTenant(t, "paris", "warsaw")
	full := "Email,First Name,Last Name,Display Name,Username,PBX,Status,Contact Center Premium,Read-only Administrator,Send Activation Email\n" +
		"eve@acme.example,Eve,Ng,Eve Ng,eng,warsaw,Inactive,TRUE,TRUE,FALSE\n"
	runImport(t, db, admin, full, nil)
	before := user(t, db, "eve@acme.example")

	blank := "Email,First Name,Last Name,Display Name,Username,PBX,Status,Contact Center Premium,Read-only Administrator,CC Role,Send Activation Email\n" +
		"eve@acme.example,,,,,,,,,,\n"
	res := runImport(t, db, admin, blank, nil)
	if res.Unchanged != 1 || res.Updated != 0 {
		t.Errorf("result %+v, want one unchanged row", res)
	}
	if after := user(t, db, "eve@acme.example"); after != before {
		t.Errorf("blank cells changed the user\nbefore %+v\n after %+v", before, after)
	}
}

func TestPBXRequiredForNewUserWhenSeveral(t *testing.T) {
	db := newTenant(t, "paris", "warsaw")
	res := runImport(t, db, admin, "Email\nnew@acme.example\n", nil)
	if res.Rejected != 1 || len(res.Findings) != 1 || res.Findings[0].Rule != schema.RPBX {
		t.Errorf("result %+v, want one R-PBX rejection", res)
	}
}

// mustGet runs a query of one value into dest, failing the test on error.
func mustGet(t *testing.T, db *sqlx.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := db.Get(dest, query, args...); err != nil {
		t.Fatal(err)
	}
}

func TestSameFileTwiceChangesNothing(t *testing.T) {
	db := newTenant(t)
	csv := "Email,First Name,Contact Center Standard,Send Activation Email\na@acme.example,A,TRUE,TRUE\nb@acme.example,B,FALSE,\n"
	first := runImport(t, db, admin, csv, nil)
	if first.Created != 2 {
		t.Fatalf("first run %+v", first)
	}
	var changes, outbox int
	mustGet(t, db, &changes, `SELECT count(*) FROM changes`)
	mustGet(t, db, &outbox, `SELECT count(*) FROM activation_outbox`)
	second := runImport(t, db, admin, csv, nil)
	if second.Created != 0 || second.Updated != 0 || second.Unchanged != 2 {
		t.Errorf("second run %+v, want 2 unchanged", second)
	}
	var changes2, outbox2 int
	mustGet(t, db, &changes2, `SELECT count(*) FROM changes`)
	mustGet(t, db, &outbox2, `SELECT count(*) FROM activation_outbox`)
	if changes2 != changes || outbox2 != outbox {
		t.Errorf("second run wrote %d audit rows and %d activation requests", changes2-changes, outbox2-outbox)
	}
}

func TestValueEqualToDatabaseNeedsNoPermission(t *testing.T) {
	db := newTenant(t)
	runImport(t, db, admin, "Email,First Name,Contact Center Service Administrator,Send Activation Email\ncc@acme.example,Cy,TRUE,FALSE\n", nil)
	// A CC Service Administrator may not change names or grant Full
	// Administrator, but restating what the database holds is no change.
	csv := "Email,First Name,Full Administrator,Status\n" + admin + ",,TRUE,Active\ncc@acme.example,Cy,FALSE,Active\n"
	res := runImport(t, db, "cc@acme.example", csv, nil)
	if res.Rejected != 0 || res.Unchanged != 2 {
		t.Errorf("result %+v (findings %v), want 2 unchanged rows", res, res.Findings)
	}
	res = runImport(t, db, "cc@acme.example", "Email,First Name\ncc@acme.example,Cyril\n", nil)
	if res.Rejected != 1 || res.Findings[0].Rule != schema.RPerm || res.Findings[0].Column != "First Name" {
		t.Errorf("result %+v, want R-PERM on First Name", res)
	}
}

func TestDryRunAndAtomicWriteNothing(t *testing.T) {
	db := newTenant(t)
	csv := "Email,Contact Center Premium\nok@acme.example,TRUE\nbad@acme.example,yes\n"
	count := func() (n int) {
		mustGet(t, db, &n, `SELECT count(*) FROM users`)
		return n
	}
	before := count()
	var plan []importer.PlanItem
	res := runImport(t, db, admin, csv, func(o *importer.Options) {
		o.DryRun = true
		o.Plan = func(p importer.PlanItem) { plan = append(plan, p) }
	})
	if res.Applied || res.BatchID != 0 || res.Created != 1 || res.Rejected != 1 || count() != before {
		t.Errorf("dry run %+v wrote or miscounted (users %d -> %d)", res, before, count())
	}
	if len(plan) != 1 || plan[0].Action != "create" || plan[0].Email != "ok@acme.example" {
		t.Errorf("plan %+v", plan)
	}
	res = runImport(t, db, admin, csv, func(o *importer.Options) { o.Atomic = true })
	if res.Applied || count() != before {
		t.Errorf("atomic run with a rejected row applied something: %+v", res)
	}
	var status string
	mustGet(t, db, &status, `SELECT status FROM batches WHERE id = $1`, res.BatchID)
	if status != "aborted" {
		t.Errorf("atomic batch status %q, want aborted", status)
	}
	res = runImport(t, db, admin, csv, nil)
	if !res.Applied || res.Created != 1 || count() != before+1 {
		t.Errorf("plain run %+v", res)
	}
}
