package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/schema"
)

// TestMetricsFileParses: what --metrics-file writes is the Prometheus text
// format as the collector's own parser reads it, one family a metric, each
// sample labelled with the command and the organization.
func TestMetricsFileParses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ccbulk.prom")
	start := time.Date(2026, 11, 30, 2, 15, 0, 0, time.UTC)
	m := runMetrics{command: "import", org: "acme", started: start, finished: start.Add(90 * time.Second), exit: 3,
		res: importer.Result{Applied: true, Counts: importer.Counts{Rows: 10, Created: 2, Updated: 1, Unchanged: 5, Rejected: 2}, Activations: 2,
			FindingsByRule: map[schema.RuleID]int{schema.RBool: 2}}}
	if err := writeMetrics(path, m); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the collector could not read the file: %v", err)
	}
	want := map[string]float64{
		"ccbulk_last_run_exit_code":             3,
		"ccbulk_last_run_duration_seconds":      90,
		"ccbulk_last_run_rows":                  10,
		"ccbulk_last_run_end_timestamp_seconds": float64(start.Add(90 * time.Second).Unix()),
	}
	for name, v := range want {
		mf, ok := families[name]
		if !ok || len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetGauge().GetValue() != v {
			t.Errorf("%s: %v, want one gauge of %g", name, mf, v)
		}
	}
	for name, mf := range families {
		for _, s := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["command"] != "import" || labels["org"] != "acme" || !strings.HasPrefix(name, "ccbulk_") {
				t.Errorf("%s %v: every sample names ccbulk, the command and the organization", name, labels)
			}
		}
	}
	if got := families["ccbulk_last_run_findings"].GetMetric(); len(got) != 1 || got[0].GetGauge().GetValue() != 2 {
		t.Errorf("findings by rule: %v", got)
	}
}
