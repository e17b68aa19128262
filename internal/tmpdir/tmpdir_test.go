package tmpdir

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSetup: the process's temporary files go to a private directory that
// cleanup removes.
func TestSetup(t *testing.T) {
	parent := t.TempDir()
	t.Setenv("TMPDIR", parent)
	cleanup := Setup()
	dir := os.TempDir()
	if filepath.Dir(dir) != parent || !strings.HasPrefix(filepath.Base(dir), "ccbulk-"+strconv.Itoa(os.Getpid())+"-") {
		t.Fatalf("TMPDIR is %s, want a ccbulk-PID- directory in %s", dir, parent)
	}
	f, err := os.CreateTemp("", "excelize-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	cleanup()
	if os.TempDir() != parent {
		t.Errorf("TMPDIR not restored: %s", os.TempDir())
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestSweep: the directories of ended ccbulk processes go; those of running
// ones, and other names, stay.
func TestSweep(t *testing.T) {
	parent := t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	dead := filepath.Join(parent, "ccbulk-"+strconv.Itoa(cmd.Process.Pid)+"-x1")
	keep := []string{
		filepath.Join(parent, "ccbulk-1-x2"), // init runs
		filepath.Join(parent, "ccbulk-bin-x3"),
		filepath.Join(parent, "ccbulk-pg.x4"),
		filepath.Join(parent, "other-"+strconv.Itoa(cmd.Process.Pid)+"-x5"),
	}
	for _, d := range append([]string{dead}, keep...) {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	Sweep(parent)
	if _, err := os.Stat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead process's directory stays (%v)", err)
	}
	for _, d := range keep {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed", filepath.Base(d))
		}
	}
}
