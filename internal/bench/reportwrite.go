package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ccbulk/ccbulk/internal/outfile"
	"github.com/ccbulk/ccbulk/schema"
)

// rejectedSheet writes dst: the users of src (a generated CSV) with
// "yes" in Contact Center Premium, so that every row is rejected (R-BOOL)
// and lands in the report. Kept between runs like the other sheets.
func rejectedSheet(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	in, r, err := openCSV(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := outfile.Create(dst)
	if err != nil {
		return err
	}
	defer out.Abort()
	buf := bufio.NewWriterSize(out, 1<<20)
	w := csv.NewWriter(buf)
	premium := -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if premium < 0 {
			premium = slices.IndexFunc(rec, func(h string) bool { return strings.TrimPrefix(h, "\uFEFF") == schema.ColPremium.Header() })
			if premium < 0 {
				return fmt.Errorf("%s has no %s column", src, schema.ColPremium.Header())
			}
		} else {
			rec[premium] = "yes"
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	return out.Commit()
}

// reportRuns measures the dry run of a sheet whose rows are all rejected,
// once with a CSV report and once with an XLSX report: the XLSX report of a
// million rows must take time linear in its rows (docs/REFERENCE.md §5, Running it).
func (c *config) reportRuns(url string, sh *sheets, outDir, tag string, res results) error {
	bad := strings.TrimSuffix(sh.csv, ".csv") + "-rejected.csv"
	if err := rejectedSheet(sh.csv, bad); err != nil {
		return fmt.Errorf("generating the rejected sheet: %w", err)
	}
	for _, format := range []string{"csv", "xlsx"} {
		if err := c.settle(url); err != nil {
			return err
		}
		report := filepath.Join(outDir, "rejected.report."+format)
		args := []string{"--db", url, "import", bad, "--org", mainOrg, "--actor", primaryAdmin, "--dry-run", "--json", "--report", report}
		if c.profile != "" {
			args = append(args[:2], append([]string{"--cpuprofile", filepath.Join(c.profile, tag+"-report-"+format+".pprof")}, args[2:]...)...)
		}
		s, out, err := measureCodes(nil, []int{3}, c.ccbulk, args...)
		if err != nil {
			return err
		}
		var r importResult
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("ccbulk import: reading its --json summary: %v (%s)", err, out)
		}
		if r.Rejected != sh.rows {
			return fmt.Errorf("dry run of %d rejected rows rejected %d", sh.rows, r.Rejected)
		}
		res.add("report-"+format, s)
		logf("  %d rejected rows, %s report: %.2fs, %d MB", sh.rows, format, s.secs, s.rssKB/1024)
	}
	return nil
}
