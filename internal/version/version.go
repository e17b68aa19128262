// Package version tells which build of ccbulk is running.
package version

import (
	"runtime/debug"
	"strings"
)

// version is set for releases with
// -ldflags "-X github.com/ccbulk/ccbulk/internal/version.version=v1.2.3";
// it wins over what the build itself records.
var version string

// String returns the version of this build: the one set with -ldflags for a
// release; else the main module's version that the Go toolchain recorded
// (for a build in a git checkout, a pseudo-version naming the commit, its
// time and "+dirty" for uncommitted changes); else the commit recorded from
// version control; else "dev".
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return from(version, bi)
}

// from is String for a given -ldflags value and build information (nil
// when there is none).
func from(ldflag string, bi *debug.BuildInfo) string {
	if v := strings.TrimSpace(ldflag); v != "" {
		return v
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "dev-" + rev
	if at != "" {
		v += " (" + at + ")"
	}
	if dirty {
		v += " dirty"
	}
	return v
}
