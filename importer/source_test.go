package importer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// memSink keeps reports in memory, as a server keeping them in its
// database would.
type memSink struct{ files []*memReport }

type memReport struct {
	format string
	bytes.Buffer
	committed, aborted, withdrawn bool
}

func (s *memSink) Create(format string) (importer.ReportFile, error) {
	f := &memReport{format: format}
	s.files = append(s.files, f)
	return f, nil
}

func (f *memReport) Commit() error { f.committed = true; return nil }
func (f *memReport) Abort()        { f.aborted = true }
func (f *memReport) Withdraw()     { f.withdrawn = true }

// sourceSheet has one rejected row (no email) and one new user.
const sourceSheet = "Email,First Name,Last Name,PBX\n,No,Email,paris\nsam.source@acme.example,Sam,Source,paris\n"

// TestImportSource: Options.Source reads the input from a reader with a
// name and a size (an upload streamed as it comes), and Options.ReportSink
// keeps the report where the caller wants it: no file is written beside
// anything, the batch records the source's name and progress its size.
func TestImportSource(t *testing.T) {
	tn := newAcme(t)
	dir := t.TempDir()
	t.Chdir(dir)
	sink := &memSink{}
	var total int64
	res, err := importer.Import(context.Background(), pgimporter.New(store.New(tn.db)), importer.Options{
		Source: &importer.Source{Reader: strings.NewReader(sourceSheet), Name: "upload.csv", Size: int64(len(sourceSheet))},
		Org:    tn.org, Actor: primary, ReportSink: sink, Report: "the report",
		Progress: func(p importer.Progress) {
			if p.Phase == "reading" {
				total = p.TotalBytes
			}
		},
	})
	if err != nil || !res.Applied || res.Created != 1 || res.Rejected != 1 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	if len(sink.files) != 1 || !sink.files[0].committed || sink.files[0].aborted || sink.files[0].format != importer.ReportCSV {
		t.Fatalf("sink = %+v", sink.files)
	}
	if got := sink.files[0].String(); !strings.Contains(got, "R-EMAIL") {
		t.Errorf("the report holds no R-EMAIL finding:\n%s", got)
	}
	if res.Report != "the report" {
		t.Errorf("Result.Report = %q", res.Report)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files written beside the run: %v", left)
	}
	b, err := store.GetBatch(context.Background(), tn.db, res.BatchID)
	if err != nil || b.FileName != "upload.csv" {
		t.Errorf("batch file name = %q, %v", b.FileName, err)
	}
	if total != int64(len(sourceSheet)) {
		t.Errorf("progress TotalBytes = %d, want %d", total, len(sourceSheet))
	}

	// A source by its path reads the file as File does.
	path := filepath.Join(t.TempDir(), "sheet.csv")
	if err := os.WriteFile(path, []byte(strings.Replace(sourceSheet, "sam.source", "sue.source", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = importer.Import(context.Background(), pgimporter.New(store.New(tn.db)), importer.Options{
		Source: &importer.Source{Path: path}, Org: tn.org, Actor: primary, ReportSink: &memSink{}})
	if err != nil || res.Created != 1 || res.File != path {
		t.Errorf("Import(Source.Path) = %+v, %v", res, err)
	}
}

// TestReportSinkAborted: a run that fails after its report was begun
// (the input breaks a limit past two rejected rows) aborts the sink's report:
// nothing is kept, nothing applied.
func TestReportSinkAborted(t *testing.T) {
	tn := newAcme(t)
	sink := &memSink{}
	_, err := importer.Import(context.Background(), pgimporter.New(store.New(tn.db)), importer.Options{
		Source: &importer.Source{Reader: strings.NewReader("Email,First Name,Last Name,PBX\n,No,Email,paris\n,Nor,This,paris\nsol.source@acme.example,Sol,Source,paris\n")},
		Org:    tn.org, Actor: primary, ReportSink: sink, ChunkSize: 1,
		Limits: sheet.Limits{MaxRows: 2, MaxColumns: sheet.DefaultLimits.MaxColumns, MaxUnzipSize: sheet.DefaultLimits.MaxUnzipSize, MaxXMLSize: sheet.DefaultLimits.MaxXMLSize},
	})
	var fe *schema.FileError
	if !errors.As(err, &fe) || fe.Rule != schema.FLimit {
		t.Fatalf("err = %v, want F-LIMIT", err)
	}
	if len(sink.files) != 1 || sink.files[0].committed || !sink.files[0].aborted {
		t.Fatalf("sink = %+v, want one report, aborted", sink.files)
	}
	if u := tn.user(t, "sol.source@acme.example"); u != nil {
		t.Error("the run applied a row")
	}
}
