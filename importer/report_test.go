package importer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
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
				for _, want := range []string{"cannot write the report at " + report + " (", "no space left on device", "nothing was applied"} {
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
		{"parent is a file", func(_ *testing.T, input string) string {
			return filepath.Join(input, "r.csv")
		}, "not a directory"},
		{"a directory", func(_ *testing.T, input string) string {
			return filepath.Dir(input)
		}, "it is a directory"},
		{"missing directory", func(_ *testing.T, input string) string {
			return filepath.Join(filepath.Dir(input), "no", "r.csv")
		}, "no such file or directory"},
		{"the input itself", func(_ *testing.T, input string) string {
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
				want := "cannot write the report at " + report + " (" + tc.cause
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

// TestLargeXLSXReport: the XLSX report of 20,000 rejected rows opens with
// every row's cells, Row (a numeric cell), Result and Findings; every offending cell is
// highlighted, and only the first sheet.MaxCellComments carry a comment
// (comments cost excelize more than linear time and are held in memory).
func TestLargeXLSXReport(t *testing.T) {
	const n = 20_000
	tn := newAcme(t)
	var b strings.Builder
	b.WriteString("Email,PBX,Contact Center Premium\n")
	for i := range n {
		fmt.Fprintf(&b, "bulk%05d@acme.example,paris,yes\n", i)
	}
	var report string
	res, err := tn.importSheet(t, primary, b.String(), func(o *importer.Options) {
		report = filepath.Join(filepath.Dir(o.File), "big.report.xlsx")
		o.Report, o.DryRun = report, true
	})
	if err != nil || res.Rejected != n || res.Report != report {
		t.Fatalf("%v: %d rejected, report %q", err, res.Rejected, res.Report)
	}
	f, err := excelize.OpenFile(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Report")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d and the header", len(rows), n)
	}
	if want := append([]string{"Email", "PBX", "Contact Center Premium"}, schema.ReportHeaders()...); !slices.Equal(rows[0], want) {
		t.Errorf("header %q, want %q", rows[0], want)
	}
	comments, err := f.GetComments("Report")
	if err != nil {
		t.Fatal(err)
	}
	if len(comments) != sheet.MaxCellComments || comments[0].Cell != "C2" {
		t.Errorf("%d comments, the first on %v; want %d from C2", len(comments), comments[:min(1, len(comments))], sheet.MaxCellComments)
	}
	highlight := -1
	for _, i := range []int{1, 2, sheet.MaxCellComments, sheet.MaxCellComments + 1, n / 2, n} {
		want := []string{fmt.Sprintf("bulk%05d@acme.example", i-1), "paris", "yes", strconv.Itoa(i + 1), "error",
			`R-BOOL: "yes" is not TRUE or FALSE; write TRUE or FALSE, or leave the cell blank for no change`}
		if !slices.Equal(rows[i], want) {
			t.Errorf("row %d: %q, want %q", i+1, rows[i], want)
		}
		style, err := f.GetCellStyle("Report", "C"+strconv.Itoa(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if highlight < 0 {
			highlight = style
		}
		st, err := f.GetStyle(style)
		if err != nil || style != highlight || len(st.Fill.Color) == 0 {
			t.Errorf("row %d: cell C has style %d %+v, want the highlight", i+1, style, st)
		}
		// The Row cell is a number (no cell type, or "n"), not text.
		if typ, err := f.GetCellType("Report", "D"+strconv.Itoa(i+1)); err != nil || (typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset) {
			t.Errorf("row %d: the Row cell has type %v (%v), want a number", i+1, typ, err)
		}
		if typ, _ := f.GetCellType("Report", "A"+strconv.Itoa(i+1)); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
			t.Errorf("row %d: the Email cell has type %v, want text", i+1, typ)
		}
		if plain, _ := f.GetCellStyle("Report", "A"+strconv.Itoa(i+1)); plain == highlight {
			t.Errorf("row %d: cell A is highlighted too", i+1)
		}
	}
}

// TestReportWithdrawnWhenCommitFails: the report is in place before the
// COMMIT; when the COMMIT then fails (here a deferred constraint trigger
// refuses the new user at COMMIT), nothing is applied and the report is
// removed again: no report describes a run that did not happen.
func TestReportWithdrawnWhenCommitFails(t *testing.T) {
	tn := newAcme(t)
	refuseAtCommit(t, tn)
	var report string
	res, err := tn.importSheet(t, primary, reportSheet, func(o *importer.Options) {
		report = filepath.Join(filepath.Dir(o.File), "out.report.csv")
		o.Report = report
	})
	if err == nil || !strings.Contains(err.Error(), "refused at commit") {
		t.Fatalf("err = %v, want the COMMIT's refusal", err)
	}
	if res.Applied || res.Report != "" {
		t.Errorf("applied=%v report=%q", res.Applied, res.Report)
	}
	if tn.user(t, "new.user@acme.example") != nil {
		t.Error("the new user was created")
	}
	if _, err := os.Stat(report); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the report of the failed run stays (%v)", err)
	}
}

// TestReportOfReportCommitFails: importing NAME.report.csv writes its report
// to NAME.report.csv, the input itself; when the COMMIT then fails, the
// input comes back as it was (nothing else is left beside it), and when the
// run succeeds, only the new report is there.
func TestReportOfReportCommitFails(t *testing.T) {
	tn := newAcme(t)
	refuseAtCommit(t, tn)
	dir := t.TempDir()
	input := filepath.Join(dir, "x.report.csv")
	original := reportSheet + "other.user@acme.example,paris,FALSE\n"
	if err := os.WriteFile(input, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(context.Background(), pgimporter.New(store.New(tn.db)), importer.Options{File: input, Org: tn.org, Actor: primary})
	if err == nil || !strings.Contains(err.Error(), "refused at commit") {
		t.Fatalf("err = %v, want the COMMIT's refusal", err)
	}
	if res.Applied || res.Report != "" {
		t.Errorf("applied=%v report=%q", res.Applied, res.Report)
	}
	if got, err := os.ReadFile(input); err != nil || string(got) != original {
		t.Errorf("the input after the failed run: %q (%v), want it as it was", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the input alone", len(entries))
	}

	if _, err := tn.db.Exec(`DROP TRIGGER refuse_at_commit ON users`); err != nil {
		t.Fatal(err)
	}
	res, err = importer.Import(context.Background(), pgimporter.New(store.New(tn.db)), importer.Options{File: input, Org: tn.org, Actor: primary})
	if err != nil || !res.Applied || res.Report != input || res.Rejected != 1 {
		t.Fatalf("%v: applied=%v report=%q rejected=%d", err, res.Applied, res.Report, res.Rejected)
	}
	got, err := os.ReadFile(input)
	if err != nil || !strings.Contains(string(got), "Row,Result,Findings") || strings.Contains(string(got), "new.user") {
		t.Errorf("the input after the run: %q (%v), want its report", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the report alone", len(entries))
	}
}

// TestDefaultReportPath: the report goes beside the input, and a report of a
// report is named after the original.
func TestDefaultReportPath(t *testing.T) {
	tests := []struct{ input, format, want string }{
		{"users.csv", "csv", "users.report.csv"},
		{"dir/users.xlsx", "xlsx", "dir/users.report.xlsx"},
		{"users.report.csv", "csv", "users.report.csv"},
		{"users.report.xlsx", "xlsx", "users.report.xlsx"},
		{"users.Report.csv", "jsonl", "users.report.jsonl"},
		{"users.report.xlsx", "csv", "users.report.csv"},
		{"report.csv", "csv", "report.report.csv"},
		{"-", "csv", "stdin.report.csv"},
	}
	for _, tt := range tests {
		if got := importer.DefaultReportPath(tt.input, tt.format); got != tt.want {
			t.Errorf("DefaultReportPath(%q, %q) = %q, want %q", tt.input, tt.format, got, tt.want)
		}
	}
}

// refuseAtCommit makes the tenant's database refuse, at COMMIT, a batch that
// creates new.user@acme.example (a deferred constraint trigger): the run
// gets as far as its COMMIT and fails there.
func refuseAtCommit(t *testing.T, tn tenant) {
	t.Helper()
	for _, stmt := range []string{
		`CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'refused at commit'; END $$`,
		`CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON users
		 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
		 WHEN (NEW.email = 'new.user@acme.example') EXECUTE FUNCTION refuse_at_commit()`,
	} {
		if _, err := tn.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}
