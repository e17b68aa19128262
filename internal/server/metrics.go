package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	imports         *prometheus.CounterVec
	importRows      prometheus.Counter
	importDuration  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccbulk_http_requests_total",
			Help: "HTTP requests answered, by route and status."}, []string{"route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ccbulk_http_request_duration_seconds",
			Help: "How long HTTP requests took, by route.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}, []string{"route"}),
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccbulk_imports_total",
			Help: "Imports run through the server, by outcome (applied, rejected_rows, dry_run, refused, failed)."}, []string{"outcome"}),
		importRows: prometheus.NewCounter(prometheus.CounterOpts{Name: "ccbulk_import_rows_total",
			Help: "Data rows read by imports run through the server."}),
		importDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ccbulk_import_duration_seconds",
			Help: "How long imports run through the server took.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.requestDuration, m.imports, m.importRows, m.importDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) imported(outcome string, rows int, d time.Duration) {
	m.imports.WithLabelValues(outcome).Inc()
	m.importRows.Add(float64(rows))
	m.importDuration.Observe(d.Seconds())
}
