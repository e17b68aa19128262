package cli_test

// The files ccbulk writes, against the real binary: devices are written in
// place, the umask decides permissions, the report's place is checked
// before any row is read, and no run, stopped or killed, leaves temporary
// files behind.

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"
)

// nullDevice returns a private copy of /dev/null (a character device made
// with mknod, as root), or else a FIFO that a goroutine drains. The tests
// never point ccbulk at the system's /dev/null: as root, a regression
// would replace it with a regular file for the whole machine.
func nullDevice(t *testing.T) (path string, isDevice bool) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
			return path, true
		}
		os.Remove(path)
	}
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Skip("neither a device node nor a FIFO can be made:", err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			f, err := os.Open(path) // one writer after another
			if err != nil {
				return
			}
			for {
				if _, err := f.Read(buf); err != nil {
					break
				}
			}
			f.Close()
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	return path, false
}

// TestOutputsToDevicesAndStdout: -o on a device (as /dev/null) writes to
// the device (as root a rename would have replaced it with a regular file),
// -o - writes to standard output, and -o DIR is refused.
func TestOutputsToDevicesAndStdout(t *testing.T) {
	tn := newTenant(t)
	null, isDevice := nullDevice(t)
	kind := fs.ModeNamedPipe
	if isDevice {
		kind = fs.ModeCharDevice
	}
	for _, args := range [][]string{
		{"export", "--org", "acme", "--actor", marie, "-o", null},
		{"export", "--org", "acme", "--actor", marie, "--format", "xlsx", "-o", null},
		{"template", "-o", null},
		{"import", filepath.Join(fixtures(), "demo", "changes.csv"), "--org", "acme", "--actor", marie, "--dry-run", "--report", null},
	} {
		code, stdout, stderr := tn.run(args...)
		if code != 0 && code != 3 {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		if fi, err := os.Lstat(null); err != nil || fi.Mode()&kind == 0 {
			t.Fatalf("%s: %s is now %v (%v)", strings.Join(args, " "), null, fi.Mode(), err)
		}
	}
	for _, args := range [][]string{
		{"export", "--org", "acme", "--actor", marie, "-o", "-"},
		{"template", "-o", "-"},
	} {
		stdout, _ := tn.mustRun(0, args...)
		if !strings.HasPrefix(stdout, "Email,First Name,") {
			t.Errorf("%s: standard output %.80q, want the sheet", strings.Join(args, " "), stdout)
		}
		if _, err := os.Stat(filepath.Join(tn.dir, "-")); err == nil {
			t.Errorf("%s wrote a file named -", strings.Join(args, " "))
		}
	}
	for _, args := range [][]string{
		{"export", "--org", "acme", "--actor", marie, "-o", tn.dir},
		{"template", "-o", tn.dir},
	} {
		code, _, stderr := tn.run(args...)
		if code != 1 || !strings.Contains(stderr, "cannot write "+tn.dir+" (it is a directory; name a file)") {
			t.Errorf("%s: exit %d, %q", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestUmaskDecidesPermissions: under umask 077 the export, the template and
// the report are readable by their owner only (they were 0644 whatever the
// umask).
func TestUmaskDecidesPermissions(t *testing.T) {
	tn := newTenant(t)
	changes := tn.writeFile("changes.csv", mustRead(t, filepath.Join(fixtures(), "demo", "changes.csv")))
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"export", "--org", "acme", "--actor", marie, "-o", "export.csv"}, "export.csv"},
		{[]string{"export", "--org", "acme", "--actor", marie, "-o", "export.xlsx"}, "export.xlsx"},
		{[]string{"template", "-o", "template.xlsx"}, "template.xlsx"},
		{[]string{"import", changes, "--org", "acme", "--actor", marie, "--dry-run"}, "changes.report.csv"},
	} {
		for _, replace := range []bool{false, true} { // a new file, then one replaced
			cmd := exec.Command("sh", "-c", `umask 077; exec "$CCBULK" "$@"`, "sh")
			cmd.Args = append(cmd.Args, tc.args...)
			cmd.Env, cmd.Dir = tn.env(), tn.dir
			out, err := cmd.CombinedOutput()
			if code := exitCode(t, err); code != 0 && code != 3 {
				t.Fatalf("%s: exit %d\n%s", strings.Join(tc.args, " "), code, out)
			}
			fi, err := os.Stat(filepath.Join(tn.dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s (replace %v): %s is %v under umask 077, want -rw-------", strings.Join(tc.args, " "), replace, tc.file, fi.Mode().Perm())
			}
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReportPlaceRefused: a report that could not be written where it
// would go fails the run at once (exit 1), naming --report, with nothing
// applied, whether or not the sheet has findings.
func TestReportPlaceRefused(t *testing.T) {
	tn := newTenant(t)
	before := tn.snapshot()
	changes := tn.writeFile("changes.csv", mustRead(t, filepath.Join(fixtures(), "demo", "changes.csv")))
	clean := tn.writeFile("clean.csv", "Email,PBX\nclean.user@acme.example,paris\n")
	notDir := tn.writeFile("not-a-dir", "")
	for _, tc := range []struct {
		name, report, cause string
	}{
		{"a directory", tn.dir, "it is a directory; name a file"},
		{"under a regular file", filepath.Join(notDir, "r.csv"), "not a directory"},
		{"in a missing directory", filepath.Join(tn.dir, "missing", "r.csv"), "no such file or directory"},
	} {
		for _, input := range []string{changes, clean} {
			code, stdout, stderr := tn.run("import", input, "--org", "acme", "--actor", marie, "--report", tc.report, "--json")
			want := "ccbulk: --report " + tc.report + ": cannot write the report there (" + tc.cause + "); nothing was applied: choose a writable place with --report\n"
			if code != 1 || stderr != want {
				t.Errorf("%s, %s: exit %d\nstderr %q\nwant   %q\nstdout %s", tc.name, filepath.Base(input), code, stderr, want, stdout)
			}
		}
		code, _, stderr := tn.run("import", changes, "--org", "acme", "--actor", marie, "--report", changes)
		if code != 1 || !strings.Contains(stderr, "--report "+changes+": cannot write the report there (it is the input file)") {
			t.Errorf("--report the input: exit %d, %q", code, stderr)
		}
	}
	if after := tn.snapshot(); after != before {
		t.Fatalf("a refused run changed the data\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var batches int
	if err := tn.db.Get(&batches, `SELECT count(*) FROM batches`); err != nil || batches != 1 {
		t.Errorf("%d batches (%v), want only the seeding one: a refused run starts none", batches, err)
	}
	// A read-only drop folder with the default report beside the input.
	// (Root writes into read-only directories: this part needs another user.)
	if os.Geteuid() == 0 {
		return
	}
	ro := filepath.Join(tn.dir, "dropbox")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(ro, "users.csv")
	if err := os.WriteFile(input, []byte("Email,PBX\nro.user@acme.example,paris\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer func() { noErr(t, os.Chmod(ro, 0o755)) }()
	code, _, stderr := tn.run("import", input, "--org", "acme", "--actor", marie)
	if code != 1 || !strings.Contains(stderr, "--report "+filepath.Join(ro, "users.report.csv")+": cannot write the report there (permission denied)") {
		t.Errorf("read-only drop folder: exit %d, %q", code, stderr)
	}
}

// spillingWorkbook writes an XLSX of n rows whose worksheet is larger than
// 1 MiB, so that --max-xml-size 1MiB makes the XLSX library spill it to a
// temporary file; every row but the last is rejected (Premium "yes"), and
// the last changes the held user.
func (tn *tenant) spillingWorkbook(name string, n int, held string) string {
	tn.t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tn.t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"Email", "First Name", "Last Name", "PBX", "Contact Center Premium"}); err != nil {
		tn.t.Fatal(err)
	}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		row := []any{fmt.Sprintf("spill%06d@acme.example", i), "Spill", fmt.Sprintf("User number %d with a long enough name", i), "paris", "yes"}
		if err := sw.SetRow(cell, row); err != nil {
			tn.t.Fatal(err)
		}
	}
	cell, _ := excelize.CoordinatesToCellName(1, n+2)
	if err := sw.SetRow(cell, []any{held, "Held", "", "paris", "FALSE"}); err != nil {
		tn.t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		tn.t.Fatal(err)
	}
	path := filepath.Join(tn.dir, name)
	if err := f.SaveAs(path); err != nil {
		tn.t.Fatal(err)
	}
	return path
}

// leftovers lists ccbulk's temporary files: anything in the run's TMPDIR,
// and temporary reports beside the input.
func leftovers(t *testing.T, tmp, dir string) []string {
	t.Helper()
	var found []string
	noErr(t, filepath.WalkDir(tmp, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != tmp {
			found = append(found, path)
		}
		return nil
	}))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".ccbulk-") {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	return found
}

// TestNoTemporaryFilesLeft: an XLSX import that spills its worksheet to a
// temporary file and is writing its report is stopped inside its merge.
// After SIGTERM nothing of it is left in TMPDIR or beside the input; after
// SIGKILL the next run removes what the killed one left.
func TestNoTemporaryFilesLeft(t *testing.T) {
	const held = "lucas.bernard@acme.example"
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			tn := newTenant(t)
			tmp := t.TempDir()
			book := tn.spillingWorkbook("users.xlsx", 20_000, held)
			args := []string{"--lock-timeout", "0", "import", book, "--org", "acme", "--actor", marie, "--max-xml-size", "1MiB"}

			// The held user's row is locked: the run waits inside its
			// merge, with its worksheet spilled and its report begun.
			unlock := tn.lockRow(held)
			cmd, stdout, stderr := tn.command(args...)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			startCommand(t, cmd)
			waitFor(t, "ccbulk to wait inside its merge", func() bool {
				var pid int
				return tn.db.Get(&pid, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ccbulk'
					AND xact_start IS NOT NULL AND query LIKE 'INSERT INTO users%' AND wait_event_type = 'Lock'`) == nil
			})
			during := leftovers(t, tmp, tn.dir)
			var spilled, report bool
			for _, f := range during {
				spilled = spilled || strings.HasPrefix(filepath.Base(f), "excelize-")
				report = report || strings.HasPrefix(filepath.Base(f), ".users.report.xlsx.ccbulk-")
			}
			if !spilled || !report {
				t.Fatalf("while running: %q; want a spilled worksheet in TMPDIR and the report being written", during)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code := exitCode(t, cmd.Wait())
			_ = unlock()
			if sig == syscall.SIGTERM {
				if code != 1 {
					t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
				}
				if left := leftovers(t, tmp, tn.dir); len(left) > 0 {
					t.Fatalf("left behind after SIGTERM: %q", left)
				}
				return
			}
			if left := leftovers(t, tmp, tn.dir); len(left) == 0 {
				t.Fatalf("SIGKILL left nothing: the test no longer shows the sweep")
			}
			// The next run (the same import, to the end) sweeps.
			cmd, stdout, stderr = tn.command(args...)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			if code := exitCode(t, cmd.Run()); code != 3 {
				t.Fatalf("the next run: exit %d, want 3\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if left := leftovers(t, tmp, tn.dir); len(left) > 0 {
				t.Fatalf("left behind after the next run: %q", left)
			}
		})
	}
}
