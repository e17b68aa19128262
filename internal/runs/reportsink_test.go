package runs

import (
	"testing"

	"github.com/ccbulk/ccbulk/importer"
)

// TestReportSpool: the report the importer gives the server's sink is kept
// when committed, and not when the run aborted it or withdrew it (a run
// whose COMMIT failed); the format is the one the importer wrote.
func TestReportSpool(t *testing.T) {
	tests := []struct {
		name string
		end  func(importer.ReportFile)
		want string
	}{
		{"committed", func(f importer.ReportFile) { _ = f.Commit() }, "Row,Result\n"},
		{"aborted", func(f importer.ReportFile) { f.Abort() }, ""},
		{"withdrawn", func(f importer.ReportFile) {
			_ = f.Commit()
			f.(importer.ReportWithdrawer).Withdraw()
		}, ""},
		{"never ended", func(importer.ReportFile) {}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &reportSpool{dir: t.TempDir()}
			defer s.close()
			var sink importer.ReportSink = s
			f, err := sink.Create(importer.ReportCSV)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("Row,Result\n")); err != nil {
				t.Fatal(err)
			}
			tc.end(f)
			body, err := s.body()
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.want || s.format != importer.ReportCSV {
				t.Errorf("kept %q as %s, want %q as csv", body, s.format, tc.want)
			}
		})
	}
}
