package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-compiler", Value: "gc"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: at},
			{Key: "vcs.modified", Value: modified},
		}
	}
	const rev = "56d73df1a2b3c4d5e6f708192a3b4c5d6e7f8091"
	tests := []struct {
		name   string
		ldflag string
		bi     *debug.BuildInfo
		want   string
	}{
		{"nothing known", "", nil, "dev"},
		{"ldflags win", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v1.2.3"},
		{"ldflags without build info", "v1.2.3", nil, "v1.2.3"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"pseudo-version of a dirty checkout", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261130034500-56d73df1a2b3+dirty"}},
			"v0.0.0-20261130034500-56d73df1a2b3+dirty"},
		{"devel with a clean commit", "",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-11-30T03:45:00Z", "false")},
			"dev-56d73df1a2b3 (2026-11-30T03:45:00Z)"},
		{"devel with uncommitted changes", "",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-11-30T03:45:00Z", "true")},
			"dev-56d73df1a2b3 (2026-11-30T03:45:00Z) dirty"},
		{"devel without version control", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"blank ldflags value", "  ", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := from(tt.ldflag, tt.bi); got != tt.want {
				t.Errorf("from(%q, …) = %q, want %q", tt.ldflag, got, tt.want)
			}
		})
	}
}

// TestLdflags builds ccbulk as a release is built and checks that the
// version given with -ldflags is the one it prints.
func TestLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ccbulk")
	}
	bin := filepath.Join(t.TempDir(), "ccbulk")
	build := exec.Command("go", "build",
		"-ldflags", "-X github.com/ccbulk/ccbulk/internal/version.version=v1.2.3",
		"-o", bin, "github.com/ccbulk/ccbulk/cmd/ccbulk")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("ccbulk %s: %v", strings.Join(args, " "), err)
		}
		if got, want := string(out), "ccbulk v1.2.3\n"; got != want {
			t.Errorf("ccbulk %s printed %q, want %q", strings.Join(args, " "), got, want)
		}
	}
}
