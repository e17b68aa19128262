package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestReferenceListsEveryCommand: every command of ccbulk, and every flag
// of every command, is in docs/REFERENCE.md §5, Running it, so the
// contract never lags behind the command line.
func TestReferenceListsEveryCommand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "REFERENCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	ref := string(b)
	var named func(path, name string)
	flag := func(path string, f cli.Flag) {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			return // a developer's flag, such as --cpuprofile
		}
		for _, name := range f.Names() {
			named(path, name)
		}
	}
	named = func(path, name string) {
		dashes := "--"
		if len(name) == 1 {
			dashes = "-"
		}
		if !strings.Contains(ref, "`"+dashes+name) && !strings.Contains(ref, " "+dashes+name+" ") && !strings.Contains(ref, "["+dashes+name) {
			t.Errorf("docs/REFERENCE.md does not name %s%s of ccbulk %s", dashes, name, path)
		}
	}
	for _, f := range newApp(nil, nil, nil).Flags {
		flag("", f)
	}
	eachCommand(t, func(path string, c *cli.Command) {
		if c.Hidden {
			return
		}
		if !strings.Contains(ref, "ccbulk "+path) && !strings.Contains(ref, "**"+path+" ") {
			t.Errorf("docs/REFERENCE.md §5 does not name the command ccbulk %s", path)
		}
		for _, f := range c.Flags {
			flag(path, f)
		}
	})
}
