package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestNamesUniqueWithoutCase: tenant ids, external organization ids, PBX
// names and CC role names are unique without regard to letter case
// (docs/REFERENCE.md §1, The model). ccbulk refuses a look-alike with a message naming the one stored,
// and the database refuses it too (migration 0008), so that a sheet naming
// either spelling is never ambiguous.
func TestNamesUniqueWithoutCase(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	org := schema.Org{ID: "northwind", Name: "Northwind", PBXes: []string{"Paris", "Warsaw"}, PremiumSeats: -1, StandardSeats: -1,
		PrimaryAdmin: "boss@northwind.example"}
	if err := store.CreateOrg(ctx, db, org); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"partners", "Contoso"} {
		if err := store.CreateExternal(ctx, db, schema.ExternalOrg{ID: id, Name: id, Kind: schema.KindPartner}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CreateRole(ctx, db, "northwind", "Team Leads", []string{"view", "write"}); err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		name     string
		create   func() error
		existing string // the stored spelling the message names
	}{
		{"tenant id in capitals", func() error {
			o := org
			o.ID = "NorthWind"
			return store.CreateOrg(ctx, db, o)
		}, `"northwind"`},
		{"external organization in lower case", func() error {
			return store.CreateExternal(ctx, db, schema.ExternalOrg{ID: "contoso", Name: "Contoso", Kind: schema.KindOther})
		}, `"Contoso"`},
		{"external organization in capitals", func() error {
			return store.CreateExternal(ctx, db, schema.ExternalOrg{ID: "PARTNERS", Name: "P", Kind: schema.KindOther})
		}, `"partners"`},
		{"role system default", func() error {
			return store.CreateRole(ctx, db, "northwind", "system default", []string{"view", "write", "create", "modify"})
		}, `"System Default"`},
		{"role in capitals, tenant in capitals", func() error {
			return store.CreateRole(ctx, db, "NORTHWIND", "TEAM LEADS", []string{"view"})
		}, `"Team Leads"`},
	}
	for _, tc := range refused {
		err := tc.create()
		if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), tc.existing) || !strings.Contains(err.Error(), "letter case") {
			t.Errorf("%s: %v; want ErrExists naming %s", tc.name, err, tc.existing)
		}
	}

	badNames := []struct {
		name   string
		create func() error
		want   string
	}{
		{"PBXes differing in case", func() error {
			return store.CreateOrg(ctx, db, schema.Org{ID: "contoso", Name: "C", PBXes: []string{"Main", "main"}, PrimaryAdmin: "a@c.example"})
		}, `PBX names "Main" and "main" differ only in letter case`},
		{"PBX ending in a space", func() error {
			return store.CreateOrg(ctx, db, schema.Org{ID: "contoso", Name: "C", PBXes: []string{"main "}, PrimaryAdmin: "a@c.example"})
		}, `begins or ends with spaces`},
		{"role beginning with a space", func() error {
			return store.CreateRole(ctx, db, "northwind", " Agents", []string{"view"})
		}, `begins or ends with spaces`},
		{"role of 201 characters", func() error {
			return store.CreateRole(ctx, db, "northwind", strings.Repeat("r", 201), []string{"view"})
		}, `over the limit of 200`},
	}
	for _, tc := range badNames {
		if err := tc.create(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
	if err := store.CreateRole(ctx, db, "northwind", strings.Repeat("r", 200), []string{"view"}); err != nil {
		t.Errorf("a role name of 200 characters: %v", err)
	}

	// The database refuses the same without ccbulk's own check.
	for _, stmt := range []string{
		`INSERT INTO tenants (id, name) VALUES ('northwind ', 'N')`,
		`INSERT INTO external_orgs (id, name, kind) VALUES ('CONTOSO', 'C', 'other')`,
		`INSERT INTO pbxes (tenant_id, name, position) VALUES ('northwind', 'PARIS', 9)`,
		`INSERT INTO pbxes (tenant_id, name, position) VALUES ('northwind', ' Lyon', 9)`,
		`INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ('northwind', 'SYSTEM DEFAULT', '{view}')`,
		`INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ('northwind', 'Agents ', '{view}')`,
		`INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ('northwind', repeat('x', 201), '{view}')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("the database took %s", stmt)
		}
	}

	// Named in any letter case, each resolves to the one stored.
	o, err := store.LoadOrg(ctx, db, "NorthWind")
	if err != nil || o.ID != "northwind" || !slices.Equal(o.PBXes, []string{"Paris", "Warsaw"}) {
		t.Errorf("LoadOrg(NorthWind) = %+v, %v; want northwind", o, err)
	}
	exts, err := store.LoadExternals(ctx, db)
	if err != nil || exts[schema.NameKey("CONTOSO")].ID != "Contoso" || len(exts) != 2 {
		t.Errorf("LoadExternals = %v, %v", exts, err)
	}
	roles, err := store.LoadRoles(ctx, db, "northwind")
	if err != nil || roles[schema.NameKey("SYSTEM DEFAULT")] != schema.DefaultCCRole {
		t.Errorf("LoadRoles = %v, %v", roles, err)
	}
}

// TestMigrationRefusesNamesDifferingInCase: migration 0008 runs on a
// database of the earlier schema only when no two names differ only in
// letter case; otherwise it changes nothing and lists every such pair, and
// 'ccbulk migrate' shows that list.
func TestMigrationRefusesNamesDifferingInCase(t *testing.T) {
	db, _ := testdb.Empty(t)
	testdb.ApplyMigrations(t, db, "0001", "0008", true)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex');
		INSERT INTO external_orgs (id, name, kind) VALUES ('Northwind', 'N', 'other'), ('northwind', 'N', 'partner'), ('Initech', 'I', 'other');
		INSERT INTO pbxes (tenant_id, name, position) VALUES ('acme', 'Main', 0), ('acme', 'main', 1), ('globex', 'main', 0), ('globex', 'Paris ', 1);
		INSERT INTO cc_roles (tenant_id, name, permissions) VALUES
			('acme', 'System Default', '{view}'), ('acme', 'system default', '{view,write,create,modify}'),
			('globex', 'System Default', '{view}')`); err != nil {
		t.Fatal(err)
	}
	applied, err := store.Migrate(ctx, db)
	var refused *store.MigrationRefusedError
	if !errors.As(err, &refused) || len(applied) != 0 {
		t.Fatalf("Migrate = %v, %v; want migration 0008 refused", applied, err)
	}
	for _, want := range []string{
		"migration 0008_names_unique_without_case refused to run",
		"external organization ids that differ only in letter case: Northwind/northwind",
		"PBX names that differ only in letter case: Main/main in acme",
		"CC role names that differ only in letter case: System Default/system default in acme",
		"names that begin or end with spaces or are longer than 200 characters: PBX 'Paris ' in globex",
		"rename one of each pair (and each name listed), then run ccbulk migrate again",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal\n%v\nshould say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "pq:") || strings.Contains(err.Error(), "Initech") || strings.Contains(err.Error(), "main in globex") {
		t.Errorf("the refusal %q holds more than the pairs", err)
	}
	var indexes int
	if err := db.GetContext(ctx, &indexes, `SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%without_case'`); err != nil || indexes != 0 {
		t.Errorf("after the refusal, %d indexes of 0008 exist (%v)", indexes, err)
	}

	// Renamed, the migration runs.
	if _, err := db.ExecContext(ctx, `
		UPDATE external_orgs SET id = 'northwind-partners' WHERE id = 'northwind';
		UPDATE pbxes SET name = 'main2' WHERE tenant_id = 'acme' AND name = 'main';
		UPDATE pbxes SET name = 'Paris' WHERE name = 'Paris ';
		DELETE FROM cc_roles WHERE name = 'system default'`); err != nil {
		t.Fatal(err)
	}
	if applied, err := store.Migrate(ctx, db); err != nil || len(applied) == 0 || applied[0] != "0008_names_unique_without_case" {
		t.Fatalf("Migrate after renaming = %v, %v", applied, err)
	}
}
