package cli_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/testdb"
)

// TestLeastPrivilegeRoles proves docs/ccbulk-roles.sql sufficient: an
// owner role that is no superuser migrates a database it owns and sets up
// the demo organization; then the day-to-day role, with only the grants of
// that file, imports (clean, with rejected rows, --sync, a refused file),
// makes and applies a saved plan, undoes, exports and lists batches. It also checks what the role may not
// do.
func TestLeastPrivilegeRoles(t *testing.T) {
	server := testdb.ServerURL(t)
	admin, err := sqlx.Open("postgres", server)
	noErr(t, err)
	t.Cleanup(func() { admin.Close() }) // after the cleanup below, which uses it
	var mayCreate bool
	noErr(t, admin.Get(&mayCreate, `SELECT rolsuper OR (rolcreaterole AND rolcreatedb) FROM pg_roles WHERE rolname = current_user`))
	if !mayCreate {
		t.Skip("DATABASE_URL names a role that may not create roles and databases; run with 'make test' (a throwaway server) to check the least-privilege roles")
	}

	suffix := fmt.Sprintf("%d", os.Getpid())
	owner, app, dbname := "ccbulk_owner_"+suffix, "ccbulk_app_"+suffix, "ccbulk_roles_"+suffix
	const password = "least-privilege"
	for _, q := range []string{
		fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, dbname),
		fmt.Sprintf(`DROP ROLE IF EXISTS %s`, app),
		fmt.Sprintf(`DROP ROLE IF EXISTS %s`, owner),
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, owner, password),
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, app, password),
		fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, dbname, owner),
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{
			fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, dbname),
			fmt.Sprintf(`DROP ROLE IF EXISTS %s`, app),
			fmt.Sprintf(`DROP ROLE IF EXISTS %s`, owner),
		} {
			if _, err := admin.Exec(q); err != nil {
				t.Errorf("cleaning up: %s: %v", q, err)
			}
		}
	})
	ownerURL := roleURL(t, server, dbname, owner, password)
	appURL := roleURL(t, server, dbname, app, password)
	dir := t.TempDir()
	run := func(url string, want int, args ...string) string {
		t.Helper()
		cmd := newCommand(t, ccbulkPath(), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("ccbulk %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
		}
		return string(out)
	}

	// The owner migrates, applies the grants and sets up the organization.
	run(ownerURL, 0, "migrate")
	grants, err := os.ReadFile(filepath.Join(fixturesDir(), "..", "docs", "ccbulk-roles.sql"))
	noErr(t, err)
	sql := strings.NewReplacer("ccbulk_owner", owner, "ccbulk_app", app).Replace(string(grants))
	ownerDB, err := sqlx.Open("postgres", ownerURL)
	noErr(t, err)
	defer ownerDB.Close()
	if _, err := ownerDB.Exec(sql); err != nil {
		t.Fatalf("docs/ccbulk-roles.sql: %v", err)
	}
	cmd := newCommand(t, "bash", filepath.Join(fixturesDir(), "demo", "org.sh"))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+ownerURL, "CCBULK="+ccbulkPath())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("org.sh as the owner: %v\n%s", err, out)
	}

	// The day-to-day role does the day-to-day work.
	copyInput(t, filepath.Join(fixturesDir(), "demo", "users.csv"), filepath.Join(dir, "users.csv"))
	copyInput(t, filepath.Join(fixturesDir(), "demo", "changes.csv"), filepath.Join(dir, "changes.csv"))
	writeInput(t, filepath.Join(dir, "broken.csv"), []byte(inputHeader+good1+"new.two@acme.example,\"New,Two,paris\n"+good1))
	run(appURL, 0, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin, "--dry-run")
	out := run(appURL, 0, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin)
	if !strings.Contains(out, "11 created, 1 updated") {
		t.Errorf("first import:\n%s", out)
	}
	// An import with rejected rows, undone at once (the undo deletes the
	// users it created and withdraws their activation emails), and again.
	out = run(appURL, 3, "import", "changes.csv", "--org", "acme", "--actor", "jean.martin@acme.example", "--report", "report.csv")
	batch := regexp.MustCompile(`applied as batch (\d+)`).FindStringSubmatch(out)
	if batch == nil {
		t.Fatalf("no batch applied:\n%s", out)
	}
	run(appURL, 0, "undo", batch[1], "--actor", primaryAdmin, "--dry-run")
	run(appURL, 0, "undo", batch[1], "--actor", primaryAdmin)
	for _, format := range []string{"table", "csv", "json"} {
		run(appURL, 0, "batches", "show", batch[1], "--org", "acme", "--format", format)
	}
	// The same changes as a saved plan, made by one administrator and
	// applied by another (the first plan creates the installation's key).
	run(appURL, 3, "import", "changes.csv", "--org", "acme", "--actor", "jean.martin@acme.example", "--report", "report.csv", "--dry-run", "--plan-out", "changes.plan")
	run(appURL, 3, "apply", "changes.plan", "--actor", primaryAdmin)
	run(appURL, 3, "import", "changes.csv", "--org", "acme", "--actor", "jean.martin@acme.example", "--atomic", "--report", "report.csv")
	run(appURL, 1, "import", "broken.csv", "--org", "acme", "--actor", primaryAdmin)
	run(appURL, 0, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin, "--sync", "--dry-run")
	out = run(appURL, 0, "import", "users.csv", "--org", "acme", "--actor", primaryAdmin, "--sync")
	if !strings.Contains(out, "deactivated") {
		t.Errorf("--sync deactivated nobody:\n%s", out)
	}
	run(appURL, 0, "export", "--org", "acme", "--actor", primaryAdmin, "-o", "users-out.csv")
	run(appURL, 0, "export", "--org", "acme", "--actor", primaryAdmin, "-o", "users-out.xlsx")
	run(appURL, 0, "import", "users-out.xlsx", "--org", "acme", "--actor", primaryAdmin)
	run(appURL, 0, "template", "-o", "template.xlsx")
	run(appURL, 0, "token", "create", "--org", "acme", "--actor", primaryAdmin)
	run(appURL, 0, "token", "list", "--org", "acme")
	run(appURL, 0, "token", "revoke", "1")
	out = run(appURL, 0, "batches", "--org", "acme")
	if strings.Count(out, "\n") < 8 || strings.Contains(out, "failed") {
		t.Errorf("batches:\n%s", out)
	}
	// Each batch names the database user that ran it.
	if !strings.Contains(out, " "+app+"@") || strings.Contains(out, " "+owner+"@") {
		t.Errorf("batches does not name %s as the database user of every batch:\n%s", app, out)
	}

	link := run(appURL, 0, "serve", "link", "--org", "acme", "--actor", primaryAdmin, "--base-url", "http://ccbulk.test")

	// What the role may not do.
	appDB, err := sqlx.Open("postgres", appURL)
	noErr(t, err)
	defer appDB.Close()
	webAsRole(t, appDB, link)
	// A batch is recorded running, with the server's time and user, and
	// only its outcome may be written, once.
	var b struct {
		ID     int64  `db:"id"`
		DBUser string `db:"db_user"`
	}
	if err := appDB.Get(&b, `INSERT INTO batches (tenant_id, kind, actor, status, db_user) VALUES ('acme', 'import', 'x@acme.example', 'running', 'someone_else')
		RETURNING id, db_user`); err != nil {
		t.Fatal(err)
	}
	if b.DBUser != app {
		t.Errorf("a batch inserted as db_user someone_else records %q, want the session's user %s", b.DBUser, app)
	}
	mustFail := func(q string, args ...any) {
		t.Helper()
		if res, err := appDB.Exec(q, args...); err == nil {
			n, _ := res.RowsAffected()
			t.Errorf("the day-to-day role may %s (%v): %d rows", q, args, n)
		}
	}
	mustFail(`UPDATE batches SET actor = 'someone@else.example' WHERE id = $1`, b.ID)
	mustFail(`UPDATE batches SET file_name = 'other.csv' WHERE id = $1`, b.ID)
	if _, err := appDB.Exec(`UPDATE batches SET status = 'failed', error = 'refused', finished_at = now() WHERE id = $1`, b.ID); err != nil {
		t.Fatalf("finishing a running batch: %v", err)
	}
	mustFail(`UPDATE batches SET status = 'running' WHERE id = $1`, b.ID)
	mustFail(`INSERT INTO batches (tenant_id, kind, actor, status) VALUES ('acme', 'import', 'x@acme.example', 'applied')`)
	var applied, aborted int64
	noErr(t, appDB.Get(&applied, `SELECT min(id) FROM batches WHERE status = 'applied'`))
	noErr(t, appDB.Get(&aborted, `SELECT min(id) FROM batches WHERE status = 'aborted'`))
	mustFail(`UPDATE batches SET actor = 'someone@else.example' WHERE id = $1`, applied)
	mustFail(`UPDATE batches SET status = 'failed' WHERE id = $1`, applied)
	mustFail(`UPDATE batches SET created = 0, updated = 0 WHERE id = $1`, applied)
	mustFail(`DELETE FROM batches WHERE id = $1`, applied)
	mustFail(`DELETE FROM batches WHERE id = $1`, aborted)
	mustFail(`UPDATE batches SET status = 'applied' WHERE id = $1`, aborted)
	// A failed batch that wrote nothing may go (a run that refused its file
	// part-way through removes its own).
	if _, err := appDB.Exec(`DELETE FROM batches WHERE id = $1`, b.ID); err != nil {
		t.Errorf("removing a failed batch that wrote nothing: %v", err)
	}

	// The history stays as it is even where a grant says otherwise.
	if _, err := ownerDB.Exec(fmt.Sprintf(`GRANT UPDATE, DELETE, TRUNCATE ON user_changes, batches TO %s`, app)); err != nil {
		t.Fatal(err)
	}
	mustFail(`UPDATE user_changes SET new_values = '{}' WHERE batch_id = $1`, applied)
	mustFail(`DELETE FROM user_changes WHERE batch_id = $1`, applied)
	mustFail(`TRUNCATE user_changes`)
	mustFail(`TRUNCATE batches CASCADE`)
	mustFail(`UPDATE batches SET actor = 'someone@else.example' WHERE id = $1`, applied)
	mustFail(`DELETE FROM batches WHERE id = $1`, applied)
	if _, err := ownerDB.Exec(fmt.Sprintf(`REVOKE UPDATE, DELETE, TRUNCATE ON user_changes FROM %s; REVOKE TRUNCATE ON batches FROM %s`, app, app)); err != nil {
		t.Fatal(err)
	}

	for _, q := range []string{
		`DELETE FROM changes`,
		`DELETE FROM user_changes`,
		`UPDATE user_changes SET new_values = '{}'`,
		`DELETE FROM batches WHERE status = 'applied'`,
		`DELETE FROM external_orgs`,
		`UPDATE cc_roles SET permissions = '{view,write,create,modify}'`,
		`UPDATE changes SET new_value = ''`,
		`TRUNCATE batches`,
		`INSERT INTO tenants (id, name) VALUES ('evil', 'Evil')`,
		`UPDATE external_orgs SET cc_enabled = true`,
		`DROP TABLE users`,
		`DELETE FROM api_tokens`,
		`DELETE FROM reports`,
		`CREATE TABLE public.mine (x int)`,
	} {
		if _, err := appDB.Exec(q); err == nil {
			t.Errorf("the day-to-day role may %s", q)
		}
	}
}

// roleURL returns the server's URL for database dbname as user/password.
func roleURL(t *testing.T, server, dbname, user, password string) string {
	t.Helper()
	if !strings.Contains(server, "://") {
		return server + fmt.Sprintf(" dbname=%s user=%s password=%s", dbname, user, password)
	}
	u, err := url.Parse(server)
	noErr(t, err)
	u.Path = "/" + dbname
	u.User = url.UserPassword(user, password)
	q := u.Query()
	if q.Has("user") {
		q.Set("user", user)
	}
	q.Del("password")
	u.RawQuery = q.Encode()
	return u.String()
}
