// Package outfile writes the files ccbulk produces (exports, templates,
// reports) so that a reader never sees half a file and nothing but a regular
// file is ever replaced.
//
// A regular file (or a name that does not exist yet) is written to a
// temporary file beside it, created with mode 0666 so that the umask decides
// the permissions, then synced and renamed into place by Commit. Something
// that exists and is not a regular file (a device such as /dev/null, a FIFO)
// is opened and written in place: renaming over it would destroy it. A
// directory is refused. A symbolic link is followed: the file it points to is
// replaced, the link stays.
//
// Temporary files are named ".NAME.ccbulk-PID-RANDOM"; Create removes those
// that a process that no longer runs left beside the same target (a run
// killed with SIGKILL has no chance to clean up).
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDirectory is returned when the target is a directory.
var ErrDirectory = errors.New("it is a directory; name a file")

// ErrNotWritable is returned when the target is neither a regular file nor
// something that can be written in place (a socket, for example).
var ErrNotWritable = errors.New("it is neither a file, a device nor a FIFO")

// Cause words an error of Create, Check or Commit without the paths of
// temporary files: "permission denied", "no space left on device".
func Cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	return err.Error()
}

// File is an output being written. Write to it, then Commit, or Abort.
type File struct {
	path string   // the target
	f    *os.File // the temporary file, or the target itself in place
	tmp  string   // the temporary file's path; "" when written in place
	done bool
}

// Create starts writing path.
func Create(path string) (*File, error) {
	path = resolve(path)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, ErrDirectory
	case err == nil && inPlace(fi.Mode()):
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, err
		}
		return &File{path: path, f: f}, nil
	case err == nil && !fi.Mode().IsRegular():
		return nil, ErrNotWritable
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	sweep(dir, base)
	f, err := createTemp(dir, base)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f, tmp: f.Name()}, nil
}

// Check tells, without writing the target, whether Create and Commit could
// write path: a directory is refused, and for a regular file (or a new one)
// a file is created in its directory and removed again.
func Check(path string) error {
	path = resolve(path)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return ErrDirectory
	case err == nil && inPlace(fi.Mode()):
		return nil
	case err == nil && !fi.Mode().IsRegular():
		return ErrNotWritable
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// inPlace reports whether a file of this mode is written in place: a
// character device (/dev/null, a terminal) or a FIFO.
func inPlace(m fs.FileMode) bool {
	return m&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0 || (m&fs.ModeDevice != 0)
}

// resolve follows a symbolic link to the file it points to, so that the
// link is kept and its target replaced.
func resolve(path string) string {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(path); err == nil {
			return target
		}
	}
	return path
}

func tempPrefix(base string) string {
	return "." + base + ".ccbulk-"
}

// createTemp creates a new file beside the target with mode 0666 (less the
// umask), unlike os.CreateTemp's 0600.
func createTemp(dir, base string) (*os.File, error) {
	prefix := filepath.Join(dir, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-")
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64()&0xffffffff, 36)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", dir)
}

// sweep removes temporary files of base left in dir by processes that no
// longer run.
func sweep(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() || Alive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// Alive reports whether a process with this id runs (on this machine).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Path returns the file that Commit writes.
func (o *File) Path() string { return o.path }

// InPlace reports whether the target is written in place (a device or a
// FIFO) rather than replaced on Commit.
func (o *File) InPlace() bool { return o.tmp == "" }

// Write writes to the output.
func (o *File) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit syncs the output to disk and moves it into place. After an error
// nothing was replaced and the temporary file is gone.
func (o *File) Commit() error {
	if o.done {
		return errors.New("output already finished")
	}
	o.done = true
	if o.tmp == "" {
		// A device or FIFO: nothing to sync or rename (fsync on them
		// fails with EINVAL on Linux).
		return o.f.Close()
	}
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.tmp, o.path)
	}
	if err != nil {
		os.Remove(o.tmp)
		return err
	}
	syncDir(filepath.Dir(o.path))
	return nil
}

// Abort drops the output: the temporary file is removed, the target left as
// it was (a device or FIFO written in place keeps what was written). It may
// be called after Commit, and then does nothing.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	if o.tmp != "" {
		os.Remove(o.tmp)
	}
}

// syncDir makes a rename in dir durable; where the file system cannot, the
// rename stands anyway.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	// The rename is durable once the directory is synced; where that
	// fails the file is still complete, only its name may not survive a
	// power cut.
	_ = d.Sync()
	_ = d.Close()
}

// WriteTo is a helper for commands: it writes through fn to path, or to w
// when path is "" or "-".
func WriteTo(path string, w io.Writer, fn func(w io.Writer, toFile bool) error) error {
	if path == "" || path == "-" {
		return fn(w, false)
	}
	o, err := Create(path)
	if err != nil {
		return &Error{Path: path, Err: err}
	}
	defer o.Abort()
	if err := fn(o, true); err != nil {
		return err
	}
	if err := o.Commit(); err != nil {
		return &Error{Path: path, Err: err}
	}
	return nil
}

// Error is an output that could not be written.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("cannot write %s (%s)", e.Path, Cause(e.Err)) }

func (e *Error) Unwrap() error { return e.Err }
