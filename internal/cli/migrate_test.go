package cli_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/internal/testdb"
)

// TestMigrateListsLookAlikes: 'ccbulk migrate' on a database of the
// earlier schema that holds names differing only in letter case refuses
// migration 0008 (exit 1) and prints the list of them as it is; once they
// are renamed, it applies.
func TestMigrateListsLookAlikes(t *testing.T) {
	db, url := testdb.Empty(t)
	testdb.ApplyMigrations(t, db, "0001", "0008", true)
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
