package cli_test

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestMigrateListsLookAlikes: 'ccbulk migrate' on a database of the
// earlier schema that holds names differing only in letter case refuses
// migration 0008 (exit 1) and prints the list of them as it is; once they
// are renamed, it applies.
func TestMigrateListsLookAlikes(t *testing.T) {
	server := testdb.ServerURL(t)
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("ccbulk_lookalikes_%d", os.Getpid())
	if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	url, err := testdb.WithDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	paths, _ := fs.Glob(schema.Migrations, "migrations/*.sql")
	slices.Sort(paths)
	for _, path := range paths {
		mig := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		if mig >= "0008" {
			break
		}
		body, _ := fs.ReadFile(schema.Migrations, path)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (name) VALUES ($1)`, mig); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`
		INSERT INTO tenants (id, name) VALUES ('acme', 'Acme');
		INSERT INTO external_orgs (id, name, kind) VALUES ('Northwind', 'N', 'other'), ('northwind', 'N', 'partner');
		INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ('acme', 'System Default', '{view}'), ('acme', 'system default', '{view,write}')`); err != nil {
		t.Fatal(err)
	}

	migrate := func() (int, string, string) {
		cmd := newCommand(t, ccbulkPath(), "migrate")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return code, stdout.String(), stderr.String()
	}
	code, stdout, stderr := migrate()
	want := "ccbulk: migration 0008_names_unique_without_case refused to run: " +
		"external organization ids that differ only in letter case: Northwind/northwind; " +
		"CC role names that differ only in letter case: System Default/system default in acme; " +
		"rename one of each pair (and each name listed), then run ccbulk migrate again\n"
	if code != 1 || stderr != want || stdout != "" {
		t.Errorf("migrate: exit %d\nstdout %q\nstderr %q\nwant exit 1 and\n%q", code, stdout, stderr, want)
	}
	if _, err := db.Exec(`UPDATE external_orgs SET id = 'northwind-partners' WHERE id = 'northwind';
		DELETE FROM cc_roles WHERE name = 'system default'`); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := migrate(); code != 0 || !strings.HasPrefix(stdout, "applied ") || !strings.Contains(stdout, " migration(s): 0008_names_unique_without_case") {
		t.Errorf("migrate after renaming: exit %d\n%s%s", code, stdout, stderr)
	}
}
