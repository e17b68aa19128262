package cli_test

// Ends of a run that nobody sees through: a kill inside a long statement,
// a stop while waiting on an idle input, an error after the commit.

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledInLongStatementReleasesLock: a run killed (SIGKILL) while its
// merge waits on a row another session holds is inside one long statement;
// client_connection_check_interval makes the server notice the dead
// client then, not when the statement ends, so the tenant's lock is free
// again at once: a second run that waits for it (--lock-wait 10s) applies,
// while the row is still held, and the killed run's session is gone.
func TestKilledInLongStatementReleasesLock(t *testing.T) {
	tn := newTenant(t)
	cmd, _, _, pid, _ := tn.startInterruptible(interruptPoints[1]) // the merge, waiting on a held row
	killCommand(t, cmd)
	// The row stays locked: without the check, the killed run's statement
	// would wait for it, holding the advisory lock, for ever.
	small := tn.writeFile("one.csv", "Email,First Name,Last Name,PBX,Send Activation Email\nnew.user@acme.example,New,User,paris,FALSE\n")
	out, errOut := tn.mustRun(0, "import", small, "--org", "acme", "--actor", marie, "--lock-wait", "10s", "--json")
	if !strings.Contains(out, `"applied":true`) || !strings.Contains(out, `"created":1,`) {
		t.Fatalf("the run after the kill: %s%s", out, errOut)
	}
	var n int
	if err := tn.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the killed run's session (pid %d) is still there", pid)
	}
	if got := tn.batchStatus(2); got != "failed" {
		t.Errorf("batch 2 is %s after the next run, want failed", got)
	}
}

// waitExit waits for cmd to end and returns its exit code; it kills cmd and
// fails the test after a generous limit (a safety net against a run that
// never ends, not an assertion about time).
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(t, err)
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("ccbulk did not end after the signal (killed: %v)", <-done)
		return -1
	}
}

// waitReadingStdin waits until a thread of process pid is blocked in
// read(2) on its standard input, where /proc says so (Linux on amd64 or
// arm64); elsewhere it returns at once (the signal then may come before
// the read, and the run must end the same way).
func waitReadingStdin(t *testing.T, pid int) {
	t.Helper()
	nr := map[string]string{"amd64": "0", "arm64": "63"}[runtime.GOARCH]
	if nr == "" {
		return
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task", pid)); err != nil {
		return
	}
	waitFor(t, "ccbulk to read its idle standard input", func() bool {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			if err == nil && strings.HasPrefix(string(b), nr+" 0x0 ") {
				return true
			}
		}
		return false
	})
}

// TestStoppedWhileWaitingForInput: SIGTERM or SIGINT ends a run that waits
// on input that does not come, a FIFO whose writer is idle or a standard
// input held open, before the header (no batch) or after some rows (the
// batch recorded failed): exit 1, "interrupted", the data as it was.
func TestStoppedWhileWaitingForInput(t *testing.T) {
	// More than the 64 KiB a CSV reader looks at before it reads the
	// header, so that the run gets past it, starts its batch and then
	// waits for more rows.
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,PBX\n")
	for i := 0; b.Len() < 100<<10; i++ {
		fmt.Fprintf(&b, "new%05d@acme.example,New,User %d,paris\n", i, i)
	}
	rows := b.String()
	cases := []struct {
		name   string
		fifo   bool
		write  string
		signal syscall.Signal
	}{
		{"FIFO, nothing written, SIGTERM", true, "", syscall.SIGTERM},
		{"FIFO, rows then idle, SIGINT", true, rows, syscall.SIGINT},
		{"standard input, nothing written, SIGINT", false, "", syscall.SIGINT},
		{"standard input, rows then idle, SIGTERM", false, rows, syscall.SIGTERM},
		// A workbook is copied to a temporary file before it is read:
		// the copy stops too.
		{"standard input, a workbook's first bytes then idle, SIGTERM", false, "PK\x03\x04" + strings.Repeat("\x00", 4096), syscall.SIGTERM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := newTenant(t)
			before := tn.snapshot()
			var cmd *exec.Cmd
			var stderr *bytes.Buffer
			var input io.WriteCloser
			if c.fifo {
				fifo := filepath.Join(tn.dir, "users.csv")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				cmd, _, stderr = tn.command("import", fifo, "--org", "acme", "--actor", marie)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Opening the FIFO for writing returns once ccbulk has
				// opened it for reading.
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				input = w
			} else {
				cmd, _, stderr = tn.command("import", "-", "--org", "acme", "--actor", marie)
				w, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				input = w
			}
			defer input.Close()
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				}
			})
			workbook := strings.HasPrefix(c.write, "PK")
			switch {
			case workbook:
				if _, err := io.WriteString(input, c.write); err != nil {
					t.Fatal(err)
				}
				waitReadingStdin(t, cmd.Process.Pid)
			case c.write != "":
				// Returns when ccbulk has read it all, or ends (then with the
				// error this test expects).
				go func() { _, _ = io.WriteString(input, c.write) }()
				waitFor(t, "ccbulk to start batch 2", func() bool {
					var s string
					return tn.db.Get(&s, `SELECT status FROM batches WHERE id = 2`) == nil && s == "running"
				})
			case !c.fifo:
				waitReadingStdin(t, cmd.Process.Pid)
			}
			if err := cmd.Process.Signal(c.signal); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != 1 {
				t.Fatalf("exit %d, want 1\nstderr: %s", code, stderr)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr %q does not say the run was interrupted", stderr)
			}
			var batches []string
			if err := tn.db.Select(&batches, `SELECT status FROM batches WHERE id > 1 ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if c.write != "" && !workbook {
				want = []string{"failed"}
			}
			if !slices.Equal(batches, want) {
				t.Errorf("batches after the demo import: %v, want %v", batches, want)
			}
			if after := tn.snapshot(); after != before {
				t.Fatalf("the stopped run left changes behind\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestCommittedRunWithClosedOutput: a run whose batch was committed exits
// 0 (an import, an undo) even when its --json summary cannot be written:
// standard output a pipe whose reader went away (no death by SIGPIPE), or
// closed altogether (ccbulk ... >&-, where the summary must not go into a
// file or connection that took the descriptor).
func TestCommittedRunWithClosedOutput(t *testing.T) {
	tn := newTenant(t)
	sheet := tn.writeFile("one.csv", "Email,First Name,Last Name,PBX\nnew.user@acme.example,New,User,paris\n")

	// A pipe whose read end is closed before ccbulk writes.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd, _, stderr := tn.command("import", sheet, "--org", "acme", "--actor", marie, "--json")
	cmd.Stdout = w
	code := exitCode(t, cmd.Run())
	w.Close()
	if code != 0 {
		t.Fatalf("import with its output pipe closed: exit %d, want 0\nstderr: %s", code, stderr)
	}
	if got := tn.batchStatus(2); got != "applied" {
		t.Fatalf("batch 2 is %s, want applied", got)
	}

	// Closed altogether: undo the batch with standard output closed.
	cmd, _, stderr = tn.command("undo", "2", "--actor", marie, "--json")
	cmd.Args = append([]string{"sh", "-c", `exec "$0" "$@" >&-`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	if code := exitCode(t, cmd.Run()); code != 0 {
		t.Fatalf("undo with standard output closed: exit %d, want 0\nstderr: %s", code, stderr)
	}
	if got := tn.batchStatus(3); got != "applied" {
		t.Fatalf("undo batch 3 is %s, want applied", got)
	}
	// The database connections were not written into: the next run works.
	tn.mustRun(0, "import", sheet, "--org", "acme", "--actor", marie)
}

// TestImportFromFIFO: a FIFO (import <(command)) is read once, whole: the
// rows past the first 64 KiB are imported too, and the batch records the
// SHA-256 of everything read.
func TestImportFromFIFO(t *testing.T) {
	tn := newTenant(t)
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,PBX\n")
	n := 0
	for ; b.Len() < 200<<10; n++ {
		fmt.Fprintf(&b, "fifo%05d@acme.example,Fifo,User %d,paris\n", n, n)
	}
	fifo := filepath.Join(tn.dir, "users.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := tn.command("import", fifo, "--org", "acme", "--actor", marie, "--json")
	startCommand(t, cmd)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if want := fmt.Sprintf(`"rows":%d,"created":%d,`, n, n); !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %s does not say %s", stdout, want)
	}
	var sha string
	if err := tn.db.Get(&sha, `SELECT file_sha256 FROM batches WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte(b.String()))); sha != want {
		t.Errorf("batch 2 records SHA-256 %s, want %s", sha, want)
	}
}
