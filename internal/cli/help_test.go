package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// eachCommand calls fn with every command of ccbulk and its path below
// ccbulk ("org create").
func eachCommand(t *testing.T, fn func(path string, c *cli.Command)) {
	t.Helper()
	var walk func(cmds []*cli.Command, parent string)
	walk = func(cmds []*cli.Command, parent string) {
		for _, c := range cmds {
			path := strings.TrimSpace(parent + " " + c.Name)
			fn(path, c)
			walk(c.Subcommands, path)
		}
	}
	walk(newApp(nil, io.Discard, io.Discard).Commands, "")
}

// help runs "ccbulk PATH --help" and returns what it printed.
func help(t *testing.T, path string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append(append([]string{"ccbulk"}, strings.Fields(path)...), "--help")
	if code := Run(context.Background(), args, nil, &out, &errOut); code != 0 || errOut.Len() > 0 {
		t.Fatalf("ccbulk %s --help: exit %d, stderr %q", path, code, errOut.String())
	}
	return out.String()
}

func TestEveryCommandHasAnExample(t *testing.T) {
	eachCommand(t, func(path string, c *cli.Command) {
		if c.Hidden {
			return
		}
		if !strings.Contains(help(t, path), "Example:\n\n       ccbulk ") {
			t.Errorf("ccbulk %s --help shows no example: add one to commandHelp", path)
		}
	})
	if !strings.Contains(help(t, ""), "Exit codes:") {
		t.Error("ccbulk --help does not list the exit codes")
	}
}

// TestDefaultsPrintedOnce checks every flag's line in every help: a
// default shown twice, or a switch's "(default: false)", is noise.
func TestDefaultsPrintedOnce(t *testing.T) {
	check := func(path string) {
		for _, line := range strings.Split(help(t, path), "\n") {
			if strings.Count(line, "(default: ") > 1 || strings.Contains(line, "(default: false)") {
				t.Errorf("ccbulk %s --help: %q", path, strings.TrimSpace(line))
			}
		}
	}
	check("")
	eachCommand(t, func(path string, c *cli.Command) {
		if !c.Hidden {
			check(path)
		}
	})
}

func TestSplitDefault(t *testing.T) {
	tests := []struct{ usage, defaultText, wantUsage, wantDefault string }{
		{"wait this long (default: refuse at once)", "", "wait this long", "refuse at once"},
		{"seats (default: no limit)", "no limit", "seats", "no limit"},
		{"file to write (default: standard output)", "", "file to write", "standard output"},
		{"a PBX (repeat for several; default: one named main)", "", "a PBX (repeat for several; default: one named main)", ""},
		{"csv, xlsx or jsonl", "", "csv, xlsx or jsonl", ""},
		{"the most users", "500", "the most users", "500"},
	}
	for _, tt := range tests {
		u, d := splitDefault(tt.usage, tt.defaultText)
		if u != tt.wantUsage || d != tt.wantDefault {
			t.Errorf("splitDefault(%q, %q) = %q, %q; want %q, %q", tt.usage, tt.defaultText, u, d, tt.wantUsage, tt.wantDefault)
		}
	}
}

func TestSuggest(t *testing.T) {
	commands := []string{"migrate", "org", "role", "import", "export", "template", "batches", "undo", "mapping", "version", "completion"}
	tests := []struct {
		typed string
		names []string
		want  string
	}{
		{"imprt", commands, "import"},
		{"improt", commands, "import"},
		{"exprot", commands, "export"},
		{"migrat", commands, "migrate"},
		{"batch", commands, "batches"},
		{"temp", commands, "template"},
		{"or", commands, "org"},
		{"frobnicate", commands, ""},
		{"xyzzy", commands, ""},
		{"x", commands, ""},
		{"ogr", []string{"org", "actor", "dry-run", "db"}, "org"},
		{"dbb", []string{"db", "statement-timeout", "lock-timeout", "help", "h"}, "db"},
		{"nme", []string{"name", "primary-admin", "pbx"}, "name"},
		{"dryrun", []string{"org", "actor", "dry-run"}, "dry-run"},
		{"", commands, ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.typed, tt.names); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

func TestUsageHint(t *testing.T) {
	app := newApp(nil, io.Discard, io.Discard)
	tests := []struct {
		args string
		want string
	}{
		{"ccbulk imprt", "Run 'ccbulk --help' for usage."},
		{"ccbulk --db x imprt", "Run 'ccbulk --help' for usage."},
		{"ccbulk org frobnicate", "Run 'ccbulk org --help' for usage."},
		{"ccbulk --db org import users.csv", "Run 'ccbulk import --help' for usage."},
		{"ccbulk import --org acme users.csv --bogus", "Run 'ccbulk import --help' for usage."},
		{"ccbulk org create -- import", "Run 'ccbulk org create --help' for usage."},
		{"ccbulk man extra", "Run 'ccbulk --help' for usage."},
	}
	for _, tt := range tests {
		if got := usageHint(app, strings.Fields(tt.args)); got != tt.want {
			t.Errorf("usageHint(%s) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestManPage renders the manual page as man does and checks that it
// names every command (under its group for a subcommand).
func TestManPage(t *testing.T) {
	page, err := manPage(newApp(nil, io.Discard, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(page, ".nh\n.TH ccbulk 1") {
		t.Errorf("the page does not start as a section 1 manual page: %.40q", page)
	}
	for _, want := range []string{"Exit codes:", "CCBULK_ORG"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	eachCommand(t, func(path string, c *cli.Command) {
		heading := ".SH "
		if strings.Contains(path, " ") {
			heading = ".SS "
		}
		found := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(heading+c.Name) + `$`).MatchString(page)
		if found == c.Hidden {
			t.Errorf("the page has a heading for %q: %v, want %v", path, found, !c.Hidden)
		}
	})

	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed: the page was not rendered")
	}
	file := filepath.Join(t.TempDir(), "ccbulk.1")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	// -k: through preconv, as man does; -ww: every warning.
	cmd := exec.Command(groff, "-k", "-man", "-Tutf8", "-ww", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // bold and underline
	for _, want := range []string{"ccbulk(1)", "NAME", "COMMANDS", "Exit codes:", "import"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page does not show %q", want)
		}
	}
}

// TestBashCompletionParses checks the bash script with bash -n.
func TestBashCompletionParses(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(bashCompletion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
}
