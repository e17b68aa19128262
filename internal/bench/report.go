package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

type machineInfo struct {
	cpus     int
	memory   string
	cpu      string
	postgres string
}

func (c *config) machine() (machineInfo, error) {
	m := machineInfo{cpus: runtime.NumCPU(), memory: "?", cpu: "?"}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
				m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	db, err := sql.Open("postgres", c.adminDB)
	if err != nil {
		return m, err
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT version()`).Scan(&m.postgres); err != nil {
		return m, err
	}
	if i := strings.Index(m.postgres, " on "); i > 0 {
		m.postgres = m.postgres[:i]
	}
	return m, nil
}

type rendered struct {
	summary  string // for the terminal
	markdown string // between the markers of docs/PERFORMANCE.md
}

type line struct {
	what, key, ref string
	rows           int
	target         string
	rssTarget      float64 // MB; 0: none
	limit          float64 // ratio target; 0: none
}

func render(_ *config, sh *sheets, growth []int, res results, m machineInfo, started time.Time, pgloader, xlsx bool) rendered {
	n := sh.rows
	sx := sh.serveRows() // the rows of the workbook uploaded to ccbulk serve
	lines := []line{
		{what: "psql `\\copy` of the CSV into a table with the keys of users (reference)", key: "copy", rows: n},
		{what: "**ccbulk import**, CSV, new users", key: "import", ref: "copy", rows: n, target: "≤ 1.5×", limit: 1.5, rssTarget: 128},
		{what: "psql: `\\copy` into a staging table + one merge skipping unchanged rows (reference)", key: "sync-ref", rows: n},
		{what: "**ccbulk import --sync**, same users, 10% changed", key: "sync", ref: "sync-ref", rows: n, target: "≤ 1.5×", limit: 1.5},
		{what: "ccbulk import --sync --dry-run --plan-out: the same sync's saved plan", key: "plan", rows: n},
		{what: "ccbulk apply of that plan", key: "apply", rows: n},
		{what: "**plan + apply** of the same sync, against the plain import --sync", key: "plan-apply", ref: "sync", rows: n, target: "≤ 1.3×", limit: 1.3},
	}
	if xlsx {
		lines = append(lines,
			line{what: "bare excelize streaming read of the workbook (reference)", key: "xlsx-read", rows: n},
			line{what: "**ccbulk import**, XLSX, new users", key: "import-xlsx", ref: "xlsx-read", rows: n, target: "≤ 1.3×", limit: 1.3, rssTarget: 300},
			line{what: "bare excelize streaming write of the same rows (reference)", key: "xlsx-write", rows: n},
			line{what: "**ccbulk export**, XLSX", key: "export-xlsx", ref: "xlsx-write", rows: n, rssTarget: 300},
			line{what: "ccbulk import --dry-run, every row rejected, CSV report (reference)", key: "report-csv", rows: n},
			line{what: "**ccbulk import --dry-run**, every row rejected, XLSX report", key: "report-xlsx", ref: "report-csv", rows: n, target: "≤ 3×", limit: 3, rssTarget: 300},
		)
	}
	lines = append(lines,
		line{what: "psql `\\copy (select …) to` a file (reference)", key: "export-ref", rows: n},
		line{what: "**ccbulk export**, CSV", key: "export-csv", ref: "export-ref", rows: n, target: "≤ 2×", limit: 2},
	)
	if xlsx {
		lines = append(lines,
			line{what: "ccbulk import --dry-run, XLSX, new users, on the command line (reference)", key: "dry-xlsx-cli", rows: sx},
			line{what: "**ccbulk serve**: the same XLSX uploaded as a dry run (`POST …/imports?dry_run=true`)", key: "dry-xlsx-http", ref: "dry-xlsx-cli", rows: sx, target: "≤ 1.3×", limit: 1.3},
			line{what: "**ccbulk serve**: four such uploads at once, to four tenants (the server's peak RSS)", key: "dry-xlsx-http4", ref: "dry-xlsx-http", rows: 4 * sx, rssTarget: 400},
		)
	}
	lines = append(lines,
		line{what: "ccbulk import, CSV, new users, into another empty tenant (reference)", key: "import-cli-tenant", rows: n},
		line{what: "**ccbulk serve**: the same CSV uploaded and applied (`POST …/imports`)", key: "import-http", ref: "import-cli-tenant", rows: n, target: "≤ 1.2×", limit: 1.2},
	)
	if pgloader {
		lines = append(lines, line{what: "pgloader of the same CSV into a table of the same shape (peer)", key: "pgloader", ref: "copy", rows: n})
	}

	var md, sum strings.Builder
	runs := len(res["copy"])
	fmt.Fprintf(&md, "Measured %s on %d CPUs (%s), %s of memory; %s. Medians of %d runs of `make bench` with %s rows",
		started.Format("2006-01-02 15:04 UTC"), m.cpus, m.cpu, m.memory, m.postgres, runs, thousands(n))
	fmt.Fprintf(&md, " (the server as `scripts/pg.sh` starts it: fsync off, max_wal_size 4GB).\n\n")
	md.WriteString("| # | what | rows | time (s) | rows/s | ratio to its reference | target | peak RSS (MB) | RSS target | CPU s: client / server | spread of runs |\n")
	md.WriteString("|---|---|---:|---:|---:|---:|---|---:|---|---:|---:|\n")
	fmt.Fprintf(&sum, "%-4s %-62s %10s %9s %10s %7s %8s %8s %8s %8s\n", "#", "what", "rows", "time s", "rows/s", "ratio", "RSS MB", "cli CPU", "srv CPU", "spread")
	for i, l := range lines {
		ss := res[l.key]
		if len(ss) == 0 {
			continue
		}
		t, rss := median(ss, secs), median(ss, rssMB)
		ratio, verdict := "", ""
		if l.ref != "" && len(res[l.ref]) > 0 {
			r := t / median(res[l.ref], secs)
			ratio = fmt.Sprintf("%.2f×", r)
			if l.limit > 0 {
				verdict = " ✔"
				if r > l.limit {
					verdict = " ✘"
				}
			}
		}
		rssCell := fmt.Sprintf("%.0f", rss)
		rssTarget := ""
		if l.rssTarget > 0 {
			rssTarget = fmt.Sprintf("≤ %.0f", l.rssTarget)
			if rss <= l.rssTarget {
				rssTarget += " ✔"
			} else {
				rssTarget += " ✘"
			}
		}
		cc, sc := median(ss, clientCPU), median(ss, serverCPUs)
		fmt.Fprintf(&md, "| %d | %s | %s | %.2f | %s | %s | %s%s | %s | %s | %.1f / %.1f | %.0f%% |\n", i+1, l.what, thousands(l.rows), t,
			thousands(int(float64(l.rows)/t)), ratio, l.target, verdict, rssCell, rssTarget, cc, sc, 100*spread(ss))
		fmt.Fprintf(&sum, "%-4d %-62.62s %10d %9.2f %10.0f %7s %8.0f %8.2f %8.2f %7.0f%%\n", i+1, strings.ReplaceAll(l.what, "`", ""), l.rows, t, float64(l.rows)/t, ratio, rss, cc, sc, 100*spread(ss))
	}
	if len(res["import-http"]) > 0 || len(res["dry-xlsx-http"]) > 0 {
		md.WriteString("\nThe rows of **ccbulk serve**: the time is the HTTP request's, from the first byte sent to the answer read (a fresh server each time, on 127.0.0.1); " +
			"the peak RSS is the server process's (VmHWM), and the client's CPU is the server process's, where the imports run.\n")
	}
	if len(planSizes) > 0 {
		sizes := slices.Clone(planSizes)
		slices.Sort(sizes)
		fmt.Fprintf(&md, "\nThe saved plan of the sync (--plan-out: JSON Lines, gzip-compressed) is %.1f MB.\n", float64(sizes[len(sizes)/2])/(1<<20))
	}
	if len(growth) > 0 {
		md.WriteString("\nGrowth of the CSV import of new users (each size on a fresh database, same runs):\n\n")
		md.WriteString("| rows | psql `\\copy` (s) | ccbulk import (s) | ratio | ccbulk µs per row | ccbulk peak RSS (MB) |\n")
		md.WriteString("|---:|---:|---:|---:|---:|---:|\n")
		sizes := append(append([]int(nil), growth...), n)
		for _, size := range sizes {
			ck, ik := fmt.Sprintf("copy/%d", size), fmt.Sprintf("import/%d", size)
			if size == n {
				ck, ik = "copy", "import"
			}
			if len(res[ik]) == 0 {
				continue
			}
			ct, it := median(res[ck], secs), median(res[ik], secs)
			fmt.Fprintf(&md, "| %s | %.2f | %.2f | %.2f× | %.1f | %.0f |\n", thousands(size), ct, it, it/ct, it*1e6/float64(size), median(res[ik], rssMB))
			fmt.Fprintf(&sum, "growth %9d rows: copy %7.2fs  import %7.2fs  %.2f×  %.1f µs/row  %.0f MB\n", size, ct, it, it/ct, it*1e6/float64(size), median(res[ik], rssMB))
		}
	}
	md.WriteString("\nEvery run, in seconds (peak RSS in MB):\n\n| key | runs |\n|---|---|\n")
	for _, l := range lines {
		ss := res[l.key]
		if len(ss) == 0 {
			continue
		}
		var parts []string
		for _, s := range ss {
			parts = append(parts, fmt.Sprintf("%.2f (%.0f)", s.secs, rssMB(s)))
		}
		fmt.Fprintf(&md, "| %s | %s |\n", l.key, strings.Join(parts, ", "))
	}
	return rendered{summary: sum.String(), markdown: md.String()}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

const (
	beginMarker = "<!-- bench:begin (written by make bench) -->"
	endMarker   = "<!-- bench:end -->"
)

// writeDoc puts the table between the markers of the document, keeping
// the prose around them; a missing document is created.
func writeDoc(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	body := beginMarker + "\n" + table + endMarker
	doc := string(old)
	i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	switch {
	case i >= 0 && j > i:
		doc = doc[:i] + body + doc[j+len(endMarker):]
	default:
		doc = "# Performance\n\n" + body + "\n" + doc
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
