package main

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/sheet"
)

// setupDB makes a fresh database with ccbulk's schema, the external
// organizations, the tenants (two PBXes, seats for n users, two CC roles
// besides System Default) and the reference tables.
func (c *config) setupDB(name string, n int, orgs ...string) error {
	if err := c.recreateDB(name); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	url := c.dbURL(name)
	premium, standard := seats(n)
	cmds := [][]string{
		{"migrate"},
		{"org", "external", partnerOrg, "--name", "Northwind Partners", "--kind", "partner"},
		{"org", "external", otherOrg, "--name", "Contoso Consulting", "--kind", "other"},
	}
	for _, org := range orgs {
		cmds = append(cmds,
			[]string{"org", "create", org, "--name", "Acme Assurances", "--primary-admin", primaryAdmin, "--pbx", "paris", "--pbx", "warsaw",
				"--premium-seats", strconv.Itoa(premium), "--standard-seats", strconv.Itoa(standard)},
			[]string{"role", "create", "--org", org, "Supervisors", "--permissions", "view,write,modify"},
			[]string{"role", "create", "--org", org, "Analysts", "--permissions", "view"})
	}
	for _, args := range cmds {
		if _, _, err := c.ccbulkRun(url, "", args...); err != nil {
			return err
		}
	}
	for _, table := range []string{"ref_users", "pgl_users"} {
		if _, err := psql(url, "-c", refTableDDL(table)); err != nil {
			return err
		}
	}
	return nil
}

// sheetColumns are the columns of the reference tables, in the sheet's order.
const sheetColumns = `email, first_name, last_name, display_name, username, pbx, status, home_org, premium, standard,
	full_admin, cc_service_admin, readonly_admin, cc_role, copy_from, send_activation`

// refTableDDL is a table holding the sheet's columns with the keys of
// users: its primary key, the deferrable unique username per PBX on a
// generated lower-case column, the partial unique index of the primary
// administrator, its foreign keys and check constraints; emails and
// usernames in the "C" collation, as in users (migration 0005).
func refTableDDL(name string) string {
	return strings.NewReplacer("{T}", name).Replace(`
CREATE TABLE {T} (
    tenant_id        text NOT NULL DEFAULT 'acme' REFERENCES tenants (id),
    email            text COLLATE "C" NOT NULL CHECK (email <> '' AND email = lower(email) AND email = btrim(email)),
    first_name       text,
    last_name        text,
    display_name     text,
    username         text NOT NULL CHECK (username <> ''),
    pbx              text NOT NULL,
    status           text NOT NULL CHECK (lower(status) IN ('active', 'inactive')),
    home_org         text REFERENCES external_orgs (id),
    premium          boolean NOT NULL,
    standard         boolean NOT NULL,
    full_admin       boolean NOT NULL,
    cc_service_admin boolean NOT NULL,
    readonly_admin   boolean NOT NULL,
    cc_role          text,
    copy_from        text,
    send_activation  boolean,
    is_primary       boolean NOT NULL DEFAULT false,
    username_key     text COLLATE "C" GENERATED ALWAYS AS (lower(username)) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, email),
    FOREIGN KEY (tenant_id, pbx) REFERENCES pbxes (tenant_id, name),
    FOREIGN KEY (tenant_id, cc_role) REFERENCES cc_roles (tenant_id, name),
    CHECK (NOT (premium AND standard))
);
ALTER TABLE {T} ADD UNIQUE (tenant_id, pbx, username_key) DEFERRABLE INITIALLY IMMEDIATE;
CREATE UNIQUE INDEX ON {T} (tenant_id) WHERE is_primary;`)
}

func psqlPath() (string, error) {
	if p, err := exec.LookPath("psql"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", errors.New("psql not found; install the PostgreSQL client (apt-get install postgresql-client)")
}

func psql(url string, args ...string) (sample, error) {
	p, err := psqlPath()
	if err != nil {
		return sample{}, err
	}
	s, _, err := measure(nil, p, append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url}, args...)...)
	return s, err
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// refCopy: psql \copy of the sheet into ref_users.
func (c *config) refCopy(url, file string) (sample, error) {
	return psql(url, "-c", `\copy ref_users (`+oneLine(sheetColumns)+`) FROM `+sqlQuote(file)+` WITH (FORMAT csv, HEADER true)`)
}

// refSync: the nightly sync by hand: \copy into a staging table, then one
// merge that skips unchanged rows.
func (c *config) refSync(url, file string) (sample, error) {
	cols := oneLine(sheetColumns)
	var set, old, neu []string
	for _, col := range strings.Split(cols, ", ") {
		if col == "email" {
			continue
		}
		set = append(set, col+" = excluded."+col)
		old = append(old, "u."+col)
		neu = append(neu, "excluded."+col)
	}
	script := `BEGIN;
CREATE TEMP TABLE staging (LIKE ref_users INCLUDING DEFAULTS) ON COMMIT DROP;
\copy staging (` + cols + `) FROM ` + sqlQuote(file) + ` WITH (FORMAT csv, HEADER true)
INSERT INTO ref_users AS u (` + cols + `)
  SELECT ` + cols + ` FROM staging ORDER BY email
  ON CONFLICT (tenant_id, email) DO UPDATE SET ` + strings.Join(set, ", ") + `, updated_at = now()
  WHERE (` + strings.Join(old, ", ") + `) IS DISTINCT FROM (` + strings.Join(neu, ", ") + `);
COMMIT;
`
	f, err := os.CreateTemp("", "bench-sync-*.sql")
	if err != nil {
		return sample{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		return sample{}, err
	}
	f.Close()
	return psql(url, "-f", f.Name())
}

// refExport: psql \copy (select …) to a file, with the export's columns.
func (c *config) refExport(url, file string) (sample, error) {
	query := `SELECT email AS "Email", first_name AS "First Name", last_name AS "Last Name", display_name AS "Display Name",
		username AS "Username", pbx AS "PBX", initcap(status) AS "Status", home_org AS "Home Organization",
		upper(premium::text) AS "Contact Center Premium", upper(standard::text) AS "Contact Center Standard",
		upper((admin_role IS NOT DISTINCT FROM 'full')::text) AS "Full Administrator",
		upper((admin_role IS NOT DISTINCT FROM 'cc_service')::text) AS "Contact Center Service Administrator",
		upper((admin_role IS NOT DISTINCT FROM 'readonly')::text) AS "Read-only Administrator",
		cc_role AS "CC Role", '' AS "Copy Privileges From", '' AS "Send Activation Email"
		FROM users WHERE tenant_id = 'acme' ORDER BY email`
	return psql(url, "-c", `\copy (`+oneLine(query)+`) TO `+sqlQuote(file)+` WITH (FORMAT csv, HEADER true)`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// pgloader loads the sheet into pgl_users, a table of ref_users' shape.
func (c *config) pgloader(bin, dbURL, file, outDir string) (sample, error) {
	target, err := pgloaderURL(dbURL)
	if err != nil {
		return sample{}, err
	}
	var fields []string
	for _, col := range strings.Split(oneLine(sheetColumns), ", ") {
		fields = append(fields, col+" [null if blanks]")
	}
	load := `LOAD CSV
    FROM ` + sqlQuote(file) + ` (` + strings.Join(fields, ", ") + `)
    INTO ` + target + `
    TARGET TABLE pgl_users
    TARGET COLUMNS (` + oneLine(sheetColumns) + `)
    WITH skip header = 1, fields optionally enclosed by '"', fields escaped by double-quote, fields terminated by ','
;
`
	path := filepath.Join(outDir, "pgloader.load")
	if err := os.WriteFile(path, []byte(load), 0o644); err != nil {
		return sample{}, err
	}
	s, out, err := measure(nil, bin, "--no-ssl-cert-verification", "--logfile", filepath.Join(outDir, "pgloader.log"), path)
	if err != nil {
		return s, err
	}
	// pgloader reports bad rows in its summary and goes on: check the count.
	var loaded int
	if _, err := psqlOut(dbURL, `SELECT count(*) FROM pgl_users`, &loaded); err != nil {
		return s, err
	}
	if loaded == 0 {
		return s, fmt.Errorf("pgloader loaded no rows:\n%s", tail(string(out)))
	}
	return s, nil
}

func psqlOut(url, query string, n *int) (string, error) {
	p, err := psqlPath()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(p, "-X", "-A", "-t", "-d", url, "-c", query).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql: %v: %s", err, out)
	}
	*n, err = strconv.Atoi(strings.TrimSpace(string(out)))
	return string(out), err
}

// pgloaderURL turns a libpq URL naming a socket directory in ?host= into
// pgloader's spelling, postgresql://user@unix:DIR:PORT/DB.
func pgloaderURL(dbURL string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	host, user, port := q.Get("host"), q.Get("user"), u.Port()
	if host == "" {
		host = u.Hostname()
	}
	if user == "" && u.User != nil {
		user = u.User.Username()
	}
	if port == "" {
		port = "5432"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.HasPrefix(host, "/") {
		host = "unix:" + host
	}
	if user != "" {
		user += "@"
	}
	return fmt.Sprintf("postgresql://%s%s:%s/%s", user, host, port, db), nil
}

// refXLSXRead is the bare excelize streaming read of a workbook: every row's
// cells, nothing else. It opens the workbook with ccbulk's limits.
func refXLSXRead(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	book, err := excelize.OpenReader(f, excelize.Options{
		UnzipSizeLimit:    sheet.DefaultLimits.MaxUnzipSize,
		UnzipXMLSizeLimit: sheet.DefaultLimits.MaxXMLSize,
	})
	if err != nil {
		return err
	}
	defer book.Close()
	rows, err := book.Rows(book.GetSheetList()[0])
	if err != nil {
		return err
	}
	n, cells := 0, 0
	for rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		n++
		cells += len(cols)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fmt.Println(n, cells)
	return rows.Error()
}

// openCSV opens a generated CSV for reading record by record (the record
// reused); the caller closes the file.
func openCSV(path string) (*os.File, *csv.Reader, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.ReuseRecord = true
	return in, r, nil
}

// refXLSXWrite is the bare excelize streaming write of the rows of a CSV.
func refXLSXWrite(csvPath, out string) error {
	in, r, err := openCSV(csvPath)
	if err != nil {
		return err
	}
	defer in.Close()
	book := excelize.NewFile()
	defer book.Close()
	sw, err := book.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	row := 0
	var cells []any
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		row++
		cells = cells[:0]
		for _, v := range rec {
			cells = append(cells, v)
		}
		ref, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return book.SaveAs(out)
}

// settle vacuums and analyzes the database and waits until no autovacuum
// worker runs on it. The bench settles before every measurement: after a
// million rows loaded, autovacuum goes over them (the reference's table
// after psql \copy, the users, their audit rows and the activation
// requests after an import) while the next measurement runs, competing
// with it for the two cores. Each measurement starts on a quiet server.
func (c *config) settle(dbURL string) error {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// Do autovacuum's work now, then wait for any worker still at it.
	if _, err := db.Exec(`VACUUM (ANALYZE)`); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		time.Sleep(2 * time.Second)
	}
	return nil
}
