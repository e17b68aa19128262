package mapping

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed profiles/*.yaml
var builtins embed.FS

// Builtins returns the names of the built-in profiles, sorted.
func Builtins() []string {
	entries, _ := builtins.ReadDir("profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Builtin returns the YAML text of a built-in profile, as 'ccbulk mapping
// show' prints it.
func Builtin(name string) ([]byte, bool) {
	data, err := builtins.ReadFile(path.Join("profiles", strings.ToLower(name)+".yaml"))
	if err != nil || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	return data, true
}

// ErrNoProfile is wrapped when --mapping names neither a built-in profile
// nor a readable file.
var ErrNoProfile = errors.New("no such mapping profile")

type noProfileError struct{ msg string }

func (e *noProfileError) Error() string        { return e.msg }
func (e *noProfileError) Is(target error) bool { return target == ErrNoProfile }

func noProfile(format string, args ...any) error {
	return &noProfileError{msg: fmt.Sprintf(format, args...)}
}

// Load returns the profile --mapping names: a built-in name always means
// the built-in profile, even when a file of that name is in the working
// directory (a file is named by a path, ./webex); anything else is read as
// a mapping file. A file with mistakes gives Errors.
func Load(nameOrPath string) (*Profile, error) {
	if data, ok := Builtin(nameOrPath); ok {
		return Parse(strings.ToLower(nameOrPath), data)
	}
	f, err := os.Open(nameOrPath)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, noProfile("cannot read %s: %v", nameOrPath, errors.Unwrap(err))
		}
		return nil, noProfile("%q is neither a built-in profile (%s) nor a mapping file; check the name or the path", nameOrPath, strings.Join(Builtins(), ", "))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, noProfile("%s is a directory; name a mapping file (YAML) or a built-in profile (%s)", nameOrPath, strings.Join(Builtins(), ", "))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, noProfile("cannot read %s: %v", nameOrPath, err)
	}
	return Parse(nameOrPath, data)
}
