package outfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func write(t *testing.T, path, text string) error {
	t.Helper()
	o, err := Create(path)
	if err != nil {
		return err
	}
	defer o.Abort()
	if _, err := io.WriteString(o, text); err != nil {
		return err
	}
	return o.Commit()
}

// TestUmaskDecides: new and replaced files get 0666 less the umask, never a
// fixed 0644 (under umask 077 personal data stays private).
func TestUmaskDecides(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  fs.FileMode
	}{{0o077, 0o600}, {0o022, 0o644}, {0o002, 0o664}} {
		old := syscall.Umask(tc.umask)
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		err1 := write(t, path, "new")
		fi1, _ := os.Stat(path)
		err2 := write(t, path, "replaced")
		fi2, _ := os.Stat(path)
		syscall.Umask(old)
		if err1 != nil || err2 != nil {
			t.Fatalf("umask %03o: %v, %v", tc.umask, err1, err2)
		}
		if fi1.Mode().Perm() != tc.want || fi2.Mode().Perm() != tc.want {
			t.Errorf("umask %03o: modes %v then %v, want %v", tc.umask, fi1.Mode().Perm(), fi2.Mode().Perm(), tc.want)
		}
		if b, _ := os.ReadFile(path); string(b) != "replaced" {
			t.Errorf("content %q", b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%d files left in the directory, want 1", len(entries))
		}
	}
}

// TestDeviceStaysADevice: a character device (a private copy of
// /dev/null: the test never touches the system's) is written in place,
// never renamed over (as root a rename would replace it with a regular
// file).
func TestDeviceStaysADevice(t *testing.T) {
	null := filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skip("cannot make a device node (not root):", err)
	}
	if err := write(t, null, "discarded"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(null); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("the device is now %v (%v)", fi.Mode(), err)
	}
}

// TestFIFOWrittenInPlace: a FIFO gets the bytes and stays a FIFO.
func TestFIFOWrittenInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(path)
		got <- string(b)
	}()
	if err := write(t, path, "through the pipe"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("read %q", s)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO is now %v (%v)", fi.Mode(), err)
	}
}

func TestRefused(t *testing.T) {
	dir := t.TempDir()
	if err := write(t, dir, "x"); !errors.Is(err, ErrDirectory) {
		t.Errorf("a directory: %v, want ErrDirectory", err)
	}
	if err := Check(dir); !errors.Is(err, ErrDirectory) {
		t.Errorf("Check of a directory: %v, want ErrDirectory", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(file, "out.csv") // the parent is a regular file
	if err := Check(under); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Check under a file: %v, want ENOTDIR", err)
	}
	if err := write(t, under, "x"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("writing under a file: %v, want ENOTDIR", err)
	}
	if err := Check(filepath.Join(dir, "missing", "out.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check in a missing directory: %v", err)
	}
	if err := Check(filepath.Join(dir, "new.csv")); err != nil {
		t.Errorf("Check of a new file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("Check left %d files, want only the one made by the test", len(entries))
	}
}

// TestSymlinkKept: the file a link points to is replaced; the link stays.
func TestSymlinkKept(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "real.csv"), filepath.Join(dir, "link.csv")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.csv", link); err != nil {
		t.Fatal(err)
	}
	if err := write(t, link, "new"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is now %v (%v)", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("the target holds %q", b)
	}
}

// TestAbortLeavesNothing: an aborted output leaves the target as it was and
// no temporary file.
func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(path, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(o, "half"); err != nil {
		t.Fatal(err)
	}
	o.Abort()
	if b, _ := os.ReadFile(path); string(b) != "before" {
		t.Errorf("target holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left, want 1", len(entries))
	}
}

// deadPID returns the id of a process that has ended.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return cmd.Process.Pid
}

// TestSweepStale: temporary files a killed process left beside the target
// are removed by the next Create; a running process's are kept.
func TestSweepStale(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".out.csv.ccbulk-"+strconv.Itoa(deadPID(t))+"-abc")
	live := filepath.Join(dir, ".out.csv.ccbulk-1-abc") // init runs
	other := filepath.Join(dir, ".other.csv.ccbulk-"+strconv.Itoa(deadPID(t))+"-abc")
	for _, p := range []string{stale, live, other} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(t, filepath.Join(dir, "out.csv"), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file kept (%v)", err)
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
}
