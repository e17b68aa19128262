// Command bench measures ccbulk against PostgreSQL's own COPY and the other
// references of docs/PERFORMANCE.md, on generated sheets of users, and
// writes the table there. Run it with 'make bench' (scripts/bench.sh), which
// gives it a PostgreSQL server in DATABASE_URL.
//
// Environment:
//
//	BENCH_ROWS     users of the main sheets (default 1000000)
//	BENCH_GROWTH   smaller CSV imports showing growth (default 100000,300000)
//	BENCH_RUNS     runs; the table shows medians (default 3)
//	BENCH_DIR      where generated sheets and outputs are kept (default .bench)
//	BENCH_OUT      the Markdown file to write (default docs/PERFORMANCE.md; "-": none)
//	BENCH_PROFILE  a directory: ccbulk writes CPU profiles of its runs there
//	BENCH_SKIP     comma-separated: xlsx, pgloader, growth, report (the
//	               reports of rejected rows), serve (the uploads to ccbulk
//	               serve over HTTP); "others" stops each run after
//	               the reports (with growth,pgloader: the reports alone)
//	BENCH_KEEP     set: keep the main database of the last run (ccbulk_bench)
//	BENCH_SERVE_XLSX_ROWS  users of the workbook the rows of ccbulk serve
//	               upload as a dry run, one and four at once (default
//	               100000, at most BENCH_ROWS); their CSV import over HTTP
//	               uses BENCH_ROWS
//	CCBULK         the ccbulk binary (default bin/ccbulk)
package main

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/outcome"
)

func main() {
	if len(os.Args) > 1 {
		// The bare excelize references run as child processes of the bench,
		// so that their peak RSS is measured like ccbulk's.
		var err error
		switch os.Args[1] {
		case "xlsx-read":
			err = refXLSXRead(os.Args[2])
		case "xlsx-write":
			err = refXLSXWrite(os.Args[2], os.Args[3])
		case "generate":
			err = generateSheets()
		default:
			err = fmt.Errorf("unknown command %q", os.Args[1])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

type config struct {
	rows    int
	growth  []int
	runs    int
	dir     string
	out     string
	profile string
	skip    map[string]bool
	ccbulk  string
	self    string
	adminDB string // DATABASE_URL

	// serveXLSXRows are the rows of the workbook uploaded to ccbulk
	// serve (BENCH_SERVE_XLSX_ROWS, at most rows).
	serveXLSXRows int
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number", name, v)
	}
	return n, nil
}

func loadConfig() (*config, error) {
	c := &config{dir: cmp.Or(os.Getenv("BENCH_DIR"), ".bench"), out: cmp.Or(os.Getenv("BENCH_OUT"), "docs/PERFORMANCE.md"),
		profile: os.Getenv("BENCH_PROFILE"), ccbulk: cmp.Or(os.Getenv("CCBULK"), "bin/ccbulk"), skip: map[string]bool{},
		adminDB: os.Getenv("DATABASE_URL")}
	var err error
	if c.rows, err = envInt("BENCH_ROWS", 1_000_000); err != nil {
		return nil, err
	}
	if c.runs, err = envInt("BENCH_RUNS", 3); err != nil {
		return nil, err
	}
	if c.serveXLSXRows, err = envInt("BENCH_SERVE_XLSX_ROWS", defaultServeXLSXRows); err != nil {
		return nil, err
	}
	c.serveXLSXRows = min(c.serveXLSXRows, c.rows)
	growth := os.Getenv("BENCH_GROWTH")
	if growth == "" {
		growth = "100000,300000"
	}
	for _, f := range strings.Split(growth, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("BENCH_GROWTH=%q: want sizes like 100000,300000", growth)
		}
		if n < c.rows {
			c.growth = append(c.growth, n)
		}
	}
	for _, s := range strings.Split(os.Getenv("BENCH_SKIP"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.skip[s] = true
		}
	}
	if c.adminDB == "" {
		return nil, errors.New("DATABASE_URL is not set; run 'make bench' (scripts/pg.sh gives it a throwaway PostgreSQL)")
	}
	if c.ccbulk, err = filepath.Abs(c.ccbulk); err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.ccbulk); err != nil {
		return nil, fmt.Errorf("no ccbulk binary at %s; run 'make build' first", c.ccbulk)
	}
	if c.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if c.dir, err = filepath.Abs(c.dir); err != nil {
		return nil, err
	}
	if c.profile != "" {
		if c.profile, err = filepath.Abs(c.profile); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(c.profile, 0o755); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// defaultServeXLSXRows is the size of the workbook uploaded to ccbulk
// serve: issue 17 measures the upload of a 100,000-row workbook.
const defaultServeXLSXRows = 100_000

// serveXLSX is how many rows the workbook of the serve rows has: 0 when
// those rows are not measured (no XLSX, or no serve).
func (c *config) serveXLSX() int {
	if c.skip["xlsx"] || c.skip["serve"] {
		return 0
	}
	return c.serveXLSXRows
}

// sample is one measured child process.
type sample struct {
	secs      float64
	rssKB     int64
	clientCPU float64 // user+system seconds of the child
	serverCPU float64 // user+system seconds of the PostgreSQL server meanwhile
}

// measure runs a command and returns its wall time and peak RSS (the
// child's ru_maxrss). Its standard output is returned.
func measure(env []string, name string, args ...string) (sample, []byte, error) {
	return measureCodes(env, nil, name, args...)
}

// measureCodes is measure for a command that may also exit with one of
// codes (ccbulk exits 3 when rows were rejected).
func measureCodes(env []string, codes []int, name string, args ...string) (sample, []byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	server0 := serverCPU()
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var s sample
	s.secs = elapsed.Seconds()
	s.serverCPU = serverCPU() - server0
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.rssKB = ru.Maxrss
			s.clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && slices.Contains(codes, ee.ExitCode()) {
		err = nil
	}
	if err != nil {
		return s, []byte(stdout.String()), fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return s, []byte(stdout.String()), nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// dbURL returns DATABASE_URL with the database name replaced.
func (c *config) dbURL(name string) string {
	u, err := url.Parse(c.adminDB)
	if err != nil {
		return c.adminDB
	}
	u.Path = "/" + name
	return u.String()
}

func (c *config) recreateDB(name string) error {
	db, err := sql.Open("postgres", c.adminDB)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
		return err
	}
	_, err = db.Exec(`CREATE DATABASE ` + name)
	return err
}

func (c *config) dropDB(name string) {
	db, err := sql.Open("postgres", c.adminDB)
	if err != nil {
		return
	}
	defer db.Close()
	_, _ = db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
}

// ccbulkRun runs ccbulk against database url; profile names a CPU profile
// to write when BENCH_PROFILE is set.
func (c *config) ccbulkRun(url, profile string, args ...string) (sample, []byte, error) {
	full := []string{"--db", url}
	if c.profile != "" && profile != "" {
		full = append(full, "--cpuprofile", filepath.Join(c.profile, profile+".pprof"))
	}
	return measure(nil, c.ccbulk, append(full, args...)...)
}

// importResult is ccbulk's --json summary, of which the bench checks the
// counts.
type importResult = outcome.Import

func (c *config) importFile(url, profile, file, org string, extra ...string) (sample, importResult, error) {
	args := append([]string{"import", file, "--org", org, "--actor", primaryAdmin, "--json"}, extra...)
	s, out, err := c.ccbulkRun(url, profile, args...)
	var res importResult
	if err != nil {
		return s, res, err
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return s, res, fmt.Errorf("ccbulk import: reading its --json summary: %v (%s)", err, out)
	}
	if !res.Applied || res.Rejected > 0 {
		return s, res, fmt.Errorf("ccbulk import %s: applied=%v, %d rows rejected", file, res.Applied, res.Rejected)
	}
	return s, res, nil
}

// copyDB makes database to a copy of from (no session may be open on from).
func (c *config) copyDB(from, to string) error {
	db, err := sql.Open("postgres", c.adminDB)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + to + ` WITH (FORCE)`); err != nil {
		return err
	}
	_, err = db.Exec(`CREATE DATABASE ` + to + ` TEMPLATE ` + from)
	return err
}

// planSizes are the sizes (bytes) of the sync's saved plan, one per run.
var planSizes []int64

// planApply measures the nightly sync as a saved plan: the dry run that
// writes it, then its apply, on planDB (a copy of the database as the
// plain sync found it); want is what the plain sync did.
func (c *config) planApply(tag func(string) string, sheet, plan string, want importResult, res results) error {
	url := c.dbURL(planDB)
	defer c.dropDB(planDB)
	if err := c.settle(url); err != nil {
		return err
	}
	s1, out, err := c.ccbulkRun(url, tag("plan"), "import", sheet, "--org", mainOrg, "--actor", primaryAdmin, "--json",
		"--sync", "--dry-run", "--plan-out", plan)
	if err != nil {
		return fmt.Errorf("ccbulk import --dry-run --plan-out: %w (%s)", err, out)
	}
	fi, err := os.Stat(plan)
	if err != nil {
		return err
	}
	planSizes = append(planSizes, fi.Size())
	s2, out, err := c.ccbulkRun(url, tag("apply"), "apply", plan, "--actor", primaryAdmin, "--json")
	if err != nil {
		return fmt.Errorf("ccbulk apply: %w (%s)", err, out)
	}
	var r importResult
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("ccbulk apply: reading its --json summary: %v (%s)", err, out)
	}
	if !r.Applied || r.Updated != want.Updated || r.Deactivated != want.Deactivated || r.Created != want.Created {
		return fmt.Errorf("ccbulk apply of the sync's plan: applied=%v, %d created, %d updated, %d deactivated; the plain sync: %d, %d, %d",
			r.Applied, r.Created, r.Updated, r.Deactivated, want.Created, want.Updated, want.Deactivated)
	}
	res.add("plan", s1)
	res.add("apply", s2)
	res.add("plan-apply", sample{secs: s1.secs + s2.secs, rssKB: max(s1.rssKB, s2.rssKB),
		clientCPU: s1.clientCPU + s2.clientCPU, serverCPU: s1.serverCPU + s2.serverCPU})
	logf("  ccbulk plan %.2fs (%d KB) + apply %.2fs of the sync", s1.secs, fi.Size()/1024, s2.secs)
	return nil
}

// generateSheets is the bench's child process that writes the sheets.
func generateSheets() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	growth := cfg.growth
	if cfg.skip["growth"] {
		growth = nil
	}
	_, err = generate(filepath.Join(cfg.dir, "sheets"), cfg.rows, growth, !cfg.skip["xlsx"], cfg.serveXLSX())
	return err
}

// results holds every run's samples by measurement key.
type results map[string][]sample

func (r results) add(key string, s sample) { r[key] = append(r[key], s) }

func run() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	withXLSX := !cfg.skip["xlsx"]
	growth := cfg.growth
	if cfg.skip["growth"] {
		growth = nil
	}
	started := time.Now().UTC()
	if err := cfg.watchServer(); err != nil {
		logf("the server's CPU time is not measured: %v", err)
	}
	// The sheets are made by a child process: a child's peak RSS, as the
	// kernel reports it, is at least its parent's RSS when it started, so
	// the bench itself stays small.
	gen := exec.Command(cfg.self, "generate")
	gen.Stdout, gen.Stderr = os.Stderr, os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generating sheets: %w", err)
	}
	sh, err := generate(filepath.Join(cfg.dir, "sheets"), cfg.rows, growth, withXLSX, cfg.serveXLSX())
	if err != nil {
		return fmt.Errorf("generating sheets: %w", err)
	}
	outDir := filepath.Join(cfg.dir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	// The server runs as another user when the bench runs as root: psql
	// reads and writes the files itself (\copy), pgloader reads them.
	_ = os.Chmod(cfg.dir, 0o755)

	pgloader := ""
	if !cfg.skip["pgloader"] {
		if p, err := exec.LookPath("pgloader"); err == nil {
			pgloader = p
		} else {
			logf("pgloader is not installed: its row is skipped (apt-get install pgloader; scripts/bench.sh does it when run as root)")
		}
	}

	machine, err := cfg.machine()
	if err != nil {
		return err
	}
	res := results{}
	for run := 1; run <= cfg.runs; run++ {
		logf("run %d of %d", run, cfg.runs)
		if err := cfg.oneRun(run, sh, outDir, pgloader, growth, withXLSX, res); err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		// The table so far, after every run: a long bench that is cut
		// short still leaves its medians.
		table := render(cfg, sh, growth, res, machine, started, pgloader != "", withXLSX)
		fmt.Println(table.summary)
		if cfg.out != "-" {
			if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err != nil {
				return err
			}
			if err := writeDoc(cfg.out, table.markdown); err != nil {
				return err
			}
			logf("wrote %s (%d of %d runs)", cfg.out, run, cfg.runs)
		}
	}
	return nil
}

const (
	mainDB       = "ccbulk_bench"
	planDB       = "ccbulk_bench_plan"
	growthDB     = "ccbulk_bench_growth"
	primaryAdmin = "marie.dubois@acme.example"
	mainOrg      = "acme"
	xlsxOrg      = "acme-xlsx"
)

// oneRun measures everything once, on fresh databases.
func (c *config) oneRun(run int, sh *sheets, outDir, pgloader string, growth []int, withXLSX bool, res results) error {
	n := sh.rows
	tag := func(s string) string { return fmt.Sprintf("%s-%d-run%d", s, n, run) }

	// Growth first, on its own database: the CSV import of smaller sheets.
	for _, size := range growth {
		if err := c.setupDB(growthDB, size, mainOrg); err != nil {
			return err
		}
		url := c.dbURL(growthDB)
		if err := c.settle(url); err != nil {
			return err
		}
		s, err := c.refCopy(url, sh.prefixes[size])
		if err != nil {
			return err
		}
		res.add(fmt.Sprintf("copy/%d", size), s)
		if err := c.settle(url); err != nil {
			return err
		}
		s, r, err := c.importFile(url, fmt.Sprintf("import-%d-run%d", size, run), sh.prefixes[size], mainOrg)
		if err != nil {
			return err
		}
		if r.Created != size {
			return fmt.Errorf("import of %d users created %d", size, r.Created)
		}
		res.add(fmt.Sprintf("import/%d", size), s)
		logf("  %d rows: copy %.2fs, import %.2fs", size, res[fmt.Sprintf("copy/%d", size)][run-1].secs, s.secs)
		c.dropDB(growthDB)
	}

	orgs := []string{mainOrg, xlsxOrg}
	if !c.skip["serve"] {
		orgs = append(orgs, serveOrgs...)
	}
	if err := c.setupDB(mainDB, n, orgs...); err != nil {
		return err
	}
	url := c.dbURL(mainDB)

	// (7) first, while the tenant is empty: a dry run of a sheet whose
	// every row is rejected, the XLSX report against the CSV report of the
	// same rows.
	if withXLSX && !c.skip["report"] {
		if err := c.reportRuns(url, sh, outDir, tag("report"), res); err != nil {
			return err
		}
		if c.skip["others"] {
			return nil
		}
	}

	// (1) the reference: psql \copy of the sheet into a table of the same shape.
	if err := c.settle(url); err != nil {
		return err
	}
	s, err := c.refCopy(url, sh.csv)
	if err != nil {
		return err
	}
	res.add("copy", s)
	logf("  psql \\copy: %.2fs", s.secs)

	// (2) ccbulk import of n new users.
	if err := c.settle(url); err != nil {
		return err
	}
	s, r, err := c.importFile(url, tag("import"), sh.csv, mainOrg)
	if err != nil {
		return err
	}
	if r.Created != n {
		return fmt.Errorf("import of %d new users created %d", n, r.Created)
	}
	res.add("import", s)
	logf("  ccbulk import: %.2fs, %d MB", s.secs, s.rssKB/1024)

	// (3) the nightly sync: by hand in psql, then ccbulk import --sync.
	if err := c.settle(url); err != nil {
		return err
	}
	s, err = c.refSync(url, sh.sync)
	if err != nil {
		return err
	}
	res.add("sync-ref", s)
	logf("  psql sync merge: %.2fs", s.secs)
	if err := c.settle(url); err != nil {
		return err
	}
	// (3b) the same sync as a saved plan, applied, on a copy of the
	// database as the sync found it.
	if err := c.copyDB(mainDB, planDB); err != nil {
		return err
	}
	s, r, err = c.importFile(url, tag("sync"), sh.sync, mainOrg, "--sync")
	if err != nil {
		return err
	}
	if r.Updated != n/10 && r.Updated != (n+6)/10 {
		return fmt.Errorf("sync of %d users with 10%% changed updated %d", n, r.Updated)
	}
	res.add("sync", s)
	logf("  ccbulk import --sync: %.2fs (%d updated)", s.secs, r.Updated)
	if err := c.planApply(tag, sh.sync, filepath.Join(outDir, "sync.plan"), r, res); err != nil {
		return err
	}

	// (5) CSV export against psql \copy (select …) to.
	if err := c.settle(url); err != nil {
		return err
	}
	s, err = c.refExport(url, filepath.Join(outDir, "ref-export.csv"))
	if err != nil {
		return err
	}
	res.add("export-ref", s)
	s, _, err = c.ccbulkRun(url, tag("export-csv"), "export", "--org", mainOrg, "--actor", primaryAdmin, "-o", filepath.Join(outDir, "export.csv"))
	if err != nil {
		return err
	}
	res.add("export-csv", s)
	logf("  export: psql %.2fs, ccbulk %.2fs", res["export-ref"][run-1].secs, s.secs)

	// (4) XLSX import and export against bare excelize.
	if withXLSX {
		if err := c.settle(url); err != nil {
			return err
		}
		s, _, err = measure(nil, c.self, "xlsx-read", sh.xlsx)
		if err != nil {
			return err
		}
		res.add("xlsx-read", s)
		if err := c.settle(url); err != nil {
			return err
		}
		s, r, err = c.importFile(url, tag("import-xlsx"), sh.xlsx, xlsxOrg)
		if err != nil {
			return err
		}
		if r.Created != n {
			return fmt.Errorf("XLSX import of %d new users created %d", n, r.Created)
		}
		res.add("import-xlsx", s)
		logf("  XLSX: excelize read %.2fs, ccbulk import %.2fs", res["xlsx-read"][run-1].secs, s.secs)
		if err := c.settle(url); err != nil {
			return err
		}
		s, _, err = measure(nil, c.self, "xlsx-write", sh.csv, filepath.Join(outDir, "ref-export.xlsx"))
		if err != nil {
			return err
		}
		res.add("xlsx-write", s)
		if err := c.settle(url); err != nil {
			return err
		}
		s, _, err = c.ccbulkRun(url, tag("export-xlsx"), "export", "--org", mainOrg, "--actor", primaryAdmin, "-o", filepath.Join(outDir, "export.xlsx"))
		if err != nil {
			return err
		}
		res.add("export-xlsx", s)
		logf("  XLSX: excelize write %.2fs, ccbulk export %.2fs", res["xlsx-write"][run-1].secs, s.secs)
	}

	// (6) the peer: pgloader of the same CSV into a table of the same shape.
	if pgloader != "" {
		if err := c.settle(url); err != nil {
			return err
		}
		s, err = c.pgloader(pgloader, url, sh.csv, outDir)
		if err != nil {
			return err
		}
		res.add("pgloader", s)
		logf("  pgloader: %.2fs", s.secs)
	}
	// (8) ccbulk serve against the command line, on tenants of their own.
	if !c.skip["serve"] {
		if err := c.serveRuns(url, sh, outDir, tag("serve"), withXLSX, res); err != nil {
			return err
		}
	}
	if os.Getenv("BENCH_KEEP") == "" {
		c.dropDB(mainDB)
	}
	return nil
}

func median(ss []sample, f func(sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// spread is (max-min)/median of the wall times, the runs' noise.
func spread(ss []sample) float64 {
	if len(ss) < 2 {
		return 0
	}
	lo, hi := ss[0].secs, ss[0].secs
	for _, s := range ss {
		lo, hi = min(lo, s.secs), max(hi, s.secs)
	}
	return (hi - lo) / median(ss, secs)
}

func secs(s sample) float64       { return s.secs }
func clientCPU(s sample) float64  { return s.clientCPU }
func serverCPUs(s sample) float64 { return s.serverCPU }
func rssMB(s sample) float64      { return float64(s.rssKB) / 1024 }
