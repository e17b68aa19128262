package importer_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
)

// fullDisk fails every write with ENOSPC, as a full disk does.
type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "report", Err: syscall.ENOSPC}
}

// reportSheet has one new valid user and one rejected row.
const reportSheet = `Email,PBX,Contact Center Premium
new.user@acme.example,paris,FALSE
jean.martin@acme.example,,yes
`

// TestReportFailureAppliesNothing: a report that cannot be completed (the
// disk is full) fails the run before its COMMIT, with nothing applied, for
// every report format, and leaves no report behind.
func TestReportFailureAppliesNothing(t *testing.T) {
	tn := newAcme(t)
	for _, format := range []string{"csv", "xlsx", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			for _, mode := range []string{"apply", "atomic", "dry-run"} {
				restore := importer.SetReportOutput(func(io.Writer) io.Writer { return fullDisk{} })
				var report string
				res, err := tn.importSheet(t, primary, reportSheet, func(o *importer.Options) {
					report = filepath.Join(filepath.Dir(o.File), "out.report."+format)
					o.Report = report
					o.Atomic = mode == "atomic"
					o.DryRun = mode == "dry-run"
				})
				restore()
				var re *importer.ReportError
				if !errors.As(err, &re) {
					t.Fatalf("%s: err = %v, want a ReportError", mode, err)
				}
				for _, want := range []string{"--report " + report + ":", "no space left on device", "nothing was applied"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: message %q lacks %q", mode, err, want)
					}
				}
				if res.Applied || res.Report != "" {
					t.Errorf("%s: applied=%v report=%q", mode, res.Applied, res.Report)
				}
				if u := tn.user(t, "new.user@acme.example"); u != nil {
					t.Fatalf("%s: the valid row was applied although the report failed", mode)
				}
				if entries, _ := os.ReadDir(filepath.Dir(report)); len(entries) != 1 {
					t.Errorf("%s: files left beside the input: %v", mode, entries)
				}
			}
		})
	}
}

// TestReportPlaceCheckedFirst: where the report would go is checked before
// the first row is read, whether or not the sheet has findings; a place
// that cannot be written fails the run with nothing read and nothing
// applied.
func TestReportPlaceCheckedFirst(t *testing.T) {
	tn := newAcme(t)
	clean := "Email,PBX\nclean.user@acme.example,paris\n"
	for _, tc := range []struct {
		name   string
		report func(t *testing.T, input string) string
		cause  string
	}{
		{"parent is a file", func(t *testing.T, input string) string {
			return filepath.Join(input, "r.csv")
		}, "not a directory"},
		{"a directory", func(t *testing.T, input string) string {
			return filepath.Dir(input)
		}, "it is a directory"},
		{"missing directory", func(t *testing.T, input string) string {
			return filepath.Join(filepath.Dir(input), "no", "r.csv")
		}, "no such file or directory"},
		{"the input itself", func(t *testing.T, input string) string {
			return input
		}, "it is the input file"},
		{"the input by a link", func(t *testing.T, input string) string {
			link := filepath.Join(filepath.Dir(input), "link.csv")
			if err := os.Symlink(filepath.Base(input), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "it is the input file"},
		{"the input by a hard link", func(t *testing.T, input string) string {
			link := filepath.Join(filepath.Dir(input), "hard.csv")
			if err := os.Link(input, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "it is the input file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sheet := range []string{clean, reportSheet} {
				var report string
				res, err := tn.importSheet(t, primary, sheet, func(o *importer.Options) {
					report = tc.report(t, o.File)
					o.Report = report
				})
				var re *importer.ReportError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a ReportError", err)
				}
				want := "--report " + report + ": cannot write the report there (" + tc.cause
				if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "nothing was applied") {
					t.Errorf("message %q, want it to start %q", err, want)
				}
				if res.Rows != 0 || res.BatchID != 0 || res.Applied {
					t.Errorf("rows %d, batch %d, applied %v: want nothing read, no batch", res.Rows, res.BatchID, res.Applied)
				}
				for _, email := range []string{"clean.user@acme.example", "new.user@acme.example"} {
					if tn.user(t, email) != nil {
						t.Errorf("%s was created", email)
					}
				}
			}
		})
	}
}
