package store_test

import (
	"errors"
	"testing"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestAdminWaitsForNoRun: a change to an organization is refused, changing
// nothing, while a run holds the organization's lock, and names the run's
// batch; the lock is the one store.Lock takes for an import.
func TestAdminWaitsForNoRun(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	a := store.New(db).Admin()
	if err := a.OrgCreate(ctx, schema.Org{ID: "acme", Name: "Acme", PrimaryAdmin: "root@acme.example", PremiumSeats: 5, StandardSeats: -1}); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := store.Lock(ctx, conn, "acme", 0); err != nil {
		t.Fatal(err)
	}
	b := &schema.Batch{Tenant: "acme", Kind: "import", Actor: "root@acme.example"}
	if err := store.StartBatch(ctx, conn, b); err != nil {
		t.Fatal(err)
	}
	seats := 1
	name := "Renamed"
	for what, change := range map[string]func() error{
		"org update": func() error {
			_, err := a.OrgUpdate(ctx, app.OrgUpdateParams{ID: "acme", PremiumSeats: &seats, Name: &name, AddPBXes: []string{"lyon"}})
			return err
		},
		"role update": func() error {
			_, err := a.RoleUpdate(ctx, "acme", schema.CCRole{Name: schema.DefaultCCRole, Permissions: []string{"view", "write"}})
			return err
		},
		"role delete": func() error { _, err := a.RoleDelete(ctx, "acme", "nothing"); return err },
		"org primary": func() error { return a.OrgPrimarySet(ctx, "acme", "root@acme.example") },
	} {
		var locked *store.LockedError
		if err := change(); !errors.As(err, &locked) || locked.Batch != b.ID {
			t.Errorf("%s while batch %d runs: %v, want a LockedError naming the batch", what, b.ID, err)
		}
	}
	org, err := a.OrgGet(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Acme" || org.PremiumSeats != 5 || len(org.PBXes) != 1 {
		t.Errorf("the organization changed under a run's lock: %+v", org)
	}
	if err := store.Unlock(ctx, conn, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OrgUpdate(ctx, app.OrgUpdateParams{ID: "acme", PremiumSeats: &seats}); err != nil {
		t.Errorf("org update once the lock is free: %v", err)
	}
}

// TestSeatsBelowUse: seats are refused below those in use, per tier,
// counting inactive users' seats too (docs/REFERENCE.md §4, The rules: R-LIC-CAPACITY).
func TestSeatsBelowUse(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	a := store.New(db).Admin()
	if err := a.OrgCreate(ctx, schema.Org{ID: "acme", Name: "Acme", PrimaryAdmin: "root@acme.example", PremiumSeats: -1, StandardSeats: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO users (tenant_id, email, username, pbx, status, premium, standard) VALUES
		('acme', 'a@acme.example', 'a', 'main', 'active', true, false),
		('acme', 'b@acme.example', 'b', 'main', 'inactive', true, false),
		('acme', 'c@acme.example', 'c', 'main', 'active', false, true)`); err != nil {
		t.Fatal(err)
	}
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		premium, standard *int
		refused           string // the tier refused, "" for none
	}{
		{premium: n(1), refused: "Contact Center Premium"},
		{standard: n(0), refused: "Contact Center Standard"},
		{premium: n(2), standard: n(1)},
		{premium: n(-1), standard: n(-1)},
	} {
		_, err := a.OrgUpdate(ctx, app.OrgUpdateParams{ID: "acme", PremiumSeats: tc.premium, StandardSeats: tc.standard})
		var inUse *app.SeatsInUseError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("premium %v standard %v: %v", tc.premium, tc.standard, err)
		case tc.refused != "" && (!errors.As(err, &inUse) || inUse.Tier != tc.refused):
			t.Errorf("premium %v standard %v: %v, want %s refused", tc.premium, tc.standard, err, tc.refused)
		}
	}
}
