package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJSONTimesAndVersion: the --json object's times are RFC 3339 in UTC,
// around the run, and its version is the binary's own (the scripts mask
// them, since they change from run to run). Also on a run that failed.
func TestJSONTimesAndVersion(t *testing.T) {
	tn := newTenant(t)
	version, _ := tn.mustRun(0, "--version")
	for _, tc := range []struct {
		name string
		want int
		args []string
	}{
		{"applied", 0, []string{"import", filepath.Join(fixtures(), "demo", "users.csv"), "--org", "acme", "--actor", marie, "--json"}},
		{"refused", 1, []string{"import", filepath.Join(fixtures(), "demo", "users.csv"), "--org", "nowhere", "--actor", marie, "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().UTC().Truncate(time.Second)
			stdout, _ := tn.mustRun(tc.want, tc.args...)
			after := time.Now().UTC()
			var got struct {
				StartedAt  string `json:"started_at"`
				FinishedAt string `json:"finished_at"`
				Version    string `json:"version"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			started, err1 := time.Parse(time.RFC3339, got.StartedAt)
			finished, err2 := time.Parse(time.RFC3339, got.FinishedAt)
			if err1 != nil || err2 != nil || !strings.HasSuffix(got.StartedAt, "Z") || !strings.HasSuffix(got.FinishedAt, "Z") {
				t.Fatalf("times %q and %q: not RFC 3339 in UTC", got.StartedAt, got.FinishedAt)
			}
			if started.Before(before) || finished.Before(started) || finished.After(after) {
				t.Errorf("started %s, finished %s: not within the run (%s to %s)", started, finished, before, after)
			}
			if want := strings.TrimPrefix(strings.TrimSpace(version), "ccbulk "); got.Version != want || want == "" {
				t.Errorf("version %q, want %q as --version says", got.Version, want)
			}
		})
	}
}
