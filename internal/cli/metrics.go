package cli

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outfile"
)

// The metrics file of a nightly job (--metrics-file): the last run's
// outcome, counts and duration in the Prometheus text format, for
// node_exporter's textfile collector. Each run replaces the file whole
// (written beside it and renamed into place), so the collector never reads
// half of one. Every sample carries the command and the organization.

func metricsFileFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "metrics-file", Usage: "write the run's outcome, counts and duration to this file in the Prometheus text format (node_exporter's textfile collector)"}
}

// checkMetricsFile refuses, before the run reads anything, a metrics file
// that could not be written at its end.
func checkMetricsFile(path string) error {
	if path == "" {
		return nil
	}
	if err := outfile.Check(path); err != nil {
		return fmt.Errorf("--metrics-file %s: cannot write the metrics there (%s); nothing was read: choose a writable place", path, outfile.Cause(err))
	}
	return nil
}

// runMetrics is what the metrics file says of one run.
type runMetrics struct {
	command, org      string
	started, finished time.Time
	exit              int
	res               importer.Result
}

// writeMetrics writes the metrics file of a run.
func writeMetrics(path string, m runMetrics) error {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"command": m.command, "org": m.org}
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ccbulk", Name: name, Help: help, ConstLabels: labels})
		g.Set(v)
		reg.MustRegister(g)
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	r := m.res
	gauge("last_run_exit_code", "Exit code of the last run: 0 done, 1 fatal, 2 wrong usage, 3 rows rejected, 4 refused.", float64(m.exit))
	gauge("last_run_applied", "1 if the last run applied its batch.", b(r.Applied))
	gauge("last_run_dry_run", "1 if the last run was a dry run.", b(r.DryRun))
	gauge("last_run_start_timestamp_seconds", "When the last run started, in seconds since 1970.", float64(m.started.UnixNano())/1e9)
	gauge("last_run_end_timestamp_seconds", "When the last run ended, in seconds since 1970.", float64(m.finished.UnixNano())/1e9)
	gauge("last_run_duration_seconds", "How long the last run took.", m.finished.Sub(m.started).Seconds())
	gauge("last_run_batch", "The batch id of the last run; 0 when it recorded none.", float64(r.BatchID))
	gauge("last_run_rows", "Data rows the last run read.", float64(r.Rows))
	gauge("last_run_warnings", "Rows of the last run with a warning.", float64(r.Warnings))
	applied := r.Applied || r.DryRun
	users := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "ccbulk", Name: "last_run_users",
		Help: "Users of the last run by what happened to them (a dry run: what would have; a run that applied nothing: rejected and unchanged only).", ConstLabels: labels}, []string{"action"})
	for action, n := range map[string]int{"created": r.Created, "updated": r.Updated, "deactivated": r.Deactivated,
		"unchanged": r.Unchanged, "rejected": r.Rejected} {
		if !applied && (action == "created" || action == "updated" || action == "deactivated") {
			n = 0
		}
		users.WithLabelValues(action).Set(float64(n))
	}
	reg.MustRegister(users)
	emails := r.Activations
	if !applied {
		emails = 0
	}
	gauge("last_run_activation_emails", "Activation emails the last run queued (a dry run: would have).", float64(emails))
	findings := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "ccbulk", Name: "last_run_findings",
		Help: "Findings of the last run by rule id.", ConstLabels: labels}, []string{"rule"})
	for rule, n := range r.FindingsByRule {
		findings.WithLabelValues(string(rule)).Set(float64(n))
	}
	reg.MustRegister(findings)

	families, err := reg.Gather()
	if err != nil {
		return err
	}
	out, err := outfile.Create(path)
	if err != nil {
		return fmt.Errorf("--metrics-file %s: %s", path, outfile.Cause(err))
	}
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(out, mf); err != nil {
			out.Abort()
			return fmt.Errorf("--metrics-file %s: %w", path, err)
		}
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("--metrics-file %s: %s", path, outfile.Cause(err))
	}
	return nil
}
