// Package version says which ccbulk is running: the version of the main
// module as the build recorded it ("go install ...@v1.2.3" records the tag;
// a build from a checkout records a pseudo-version or "(devel)"), or "dev"
// when the build recorded none.
package version

import "runtime/debug"

// String returns ccbulk's version: the main module's version from the build
// information, or "dev" for a build that carries none (go run, go test, a
// build from a checkout without version control information).
func String() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return fromBuild(info)
}

func fromBuild(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "dev"
}
