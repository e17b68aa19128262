// Package tmpdir gives each ccbulk process a private temporary directory, so
// that the spill files of the XLSX library (and any other temporary file) are
// removed when the process ends, and those of a process that was killed
// without a chance to clean up are removed by the next run.
package tmpdir

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccbulk/ccbulk/internal/outfile"
)

// prefix starts the name of every private directory: ccbulk-PID-RANDOM.
const prefix = "ccbulk-"

// Setup creates a private directory in the system's temporary directory
// (TMPDIR, else /tmp), points TMPDIR at it for the rest of the process, and
// removes the private directories of ccbulk processes that no longer run.
// The returned function removes the directory and restores TMPDIR; call it
// on every way out (a run stopped by SIGINT or SIGTERM returns normally). When
// no directory can be made, Setup changes nothing.
func Setup() (cleanup func()) {
	parent := os.TempDir()
	Sweep(parent)
	dir, err := os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return func() {}
	}
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	return func() {
		os.RemoveAll(dir)
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}
}

// Sweep removes from parent the private directories of ccbulk processes that
// no longer run. Directories of running processes, and names that are not
// ccbulk-PID-…, are left alone.
func Sweep(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() || outfile.Alive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}
