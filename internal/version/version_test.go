package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	for _, tc := range []struct{ main, want string }{
		{"v1.4.0", "v1.4.0"},
		{"v0.0.0-20261130034700-56d73df0a1b2", "v0.0.0-20261130034700-56d73df0a1b2"},
		{"(devel)", "dev"},
		{"", "dev"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/ccbulk/ccbulk", Version: tc.main}}
		if got := fromBuild(info); got != tc.want {
			t.Errorf("main module version %q: %q, want %q", tc.main, got, tc.want)
		}
	}
	if String() == "" {
		t.Error("String() is empty")
	}
}
