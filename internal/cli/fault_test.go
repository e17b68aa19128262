package cli_test

// Faults a scheduled run meets with nobody watching, against the real
// binary and a real database: the process killed mid-transaction, the
// connection cut by the server, two runs at once, a sync over its safety
// limit, a run waiting for the lock, time limits.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/testdb"
)

// faultRows is the size of the large sheet (CCBULK_FAULT_ROWS overrides it).
func faultRows(t *testing.T) int {
	if s := os.Getenv("CCBULK_FAULT_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CCBULK_FAULT_ROWS=%q: want a row count", s)
		}
		return n
	}
	return 200_000
}

// tenant is a fresh database holding the demo organization with the demo
// users imported (batch 1).
type tenant struct {
	t   *testing.T
	url string
	db  *sqlx.DB
	dir string
}

const marie = "marie.dubois@acme.example" // the primary administrator

func newTenant(t *testing.T) *tenant {
	t.Helper()
	db, url := testdb.New(t)
	tn := &tenant{t: t, url: url, db: db, dir: t.TempDir()}
	cmd := newCommand(t, "bash", filepath.Join(fixtures(), "demo", "org.sh"))
	cmd.Env = tn.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("org.sh: %v\n%s", err, out)
	}
	tn.mustRun(0, "import", filepath.Join(fixtures(), "demo", "users.csv"), "--org", "acme", "--actor", marie)
	return tn
}

func fixtures() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

func (tn *tenant) env() []string {
	return append(os.Environ(), "DATABASE_URL="+tn.url, "CCBULK="+filepath.Join(binDir, "ccbulk"), "PGTZ=UTC")
}

// command returns the real binary ready to run with args in the tenant's
// work directory.
func (tn *tenant) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := newCommand(tn.t, filepath.Join(binDir, "ccbulk"), args...)
	cmd.Env, cmd.Dir = tn.env(), tn.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// run runs ccbulk to the end and returns its exit code and output.
func (tn *tenant) run(args ...string) (code int, stdout, stderr string) {
	tn.t.Helper()
	cmd, out, errOut := tn.command(args...)
	return exitCode(tn.t, cmd.Run()), out.String(), errOut.String()
}

func (tn *tenant) mustRun(want int, args ...string) (stdout, stderr string) {
	tn.t.Helper()
	code, stdout, stderr := tn.run(args...)
	if code != want {
		tn.t.Fatalf("ccbulk %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("running ccbulk: %v", err)
	}
	return ee.ExitCode()
}

// snapshot is everything an import or undo may write, as text: the export
// (sorted by email), the audit trail, the outbox and the batches applied.
func (tn *tenant) snapshot() string {
	tn.t.Helper()
	export, _ := tn.mustRun(0, "export", "--org", "acme", "--actor", marie)
	var n struct {
		Changes int `db:"changes"`
		Outbox  int `db:"outbox"`
		Applied int `db:"applied"`
	}
	err := tn.db.Get(&n, `SELECT (SELECT count(*) FROM changes) AS changes, (SELECT count(*) FROM activation_outbox) AS outbox,
		(SELECT count(*) FROM batches WHERE status = 'applied') AS applied`)
	if err != nil {
		tn.t.Fatal(err)
	}
	return fmt.Sprintf("%s\nchanges=%d outbox=%d applied batches=%d", export, n.Changes, n.Outbox, n.Applied)
}

func (tn *tenant) batchStatus(id int64) string {
	tn.t.Helper()
	var s string
	if err := tn.db.Get(&s, `SELECT status FROM batches WHERE id = $1`, id); err != nil {
		tn.t.Fatalf("batch %d: %v", id, err)
	}
	return s
}

// bigSheet writes a sheet of n new users and returns its path.
func (tn *tenant) bigSheet(name string, n int) string {
	tn.t.Helper()
	path := filepath.Join(tn.dir, name)
	f, err := os.Create(path)
	if err != nil {
		tn.t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Email,First Name,Last Name,PBX,Send Activation Email")
	for i := range n {
		pbx := "paris"
		if i%2 == 1 {
			pbx = "warsaw"
		}
		fmt.Fprintf(w, "bulk%07d@acme.example,Bulk,User %d,%s,TRUE\n", i, i, pbx)
	}
	if err := w.Flush(); err != nil {
		tn.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tn.t.Fatal(err)
	}
	return path
}

func (tn *tenant) writeFile(name, content string) string {
	tn.t.Helper()
	path := filepath.Join(tn.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tn.t.Fatal(err)
	}
	return path
}

// waitFor polls cond until it holds; it fails the test after a generous
// limit (the limit is a safety net, not an assertion about time).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interruptAt is a point in the middle of a run's one transaction.
type interruptAt struct {
	name string
	// query matches the statement the run's session must be in.
	query string
	// holdRow, when set, is a user whose row the test locks first, so that
	// the run's merge waits on it: the run is then deterministically inside
	// its merge statement, after its audit rows were written.
	holdRow string
	// shrink divides the large sheet's rows (the run must stage it all
	// before it merges).
	shrink int
}

var interruptPoints = []interruptAt{
	{name: "while copying new users", query: "COPY%users%"},
	{name: "while merging", query: "INSERT INTO users%", holdRow: "lucas.bernard@acme.example", shrink: 10},
}

// startInterruptible starts an import of a large sheet and returns once its
// session is at the point p, inside the transaction of batch 2, with the
// pid of that session. release ends the row lock of p.holdRow.
func (tn *tenant) startInterruptible(p interruptAt) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer, pid int, release func()) {
	tn.t.Helper()
	big := tn.bigSheet("big.csv", faultRows(tn.t)/max(p.shrink, 1))
	release = func() {}
	args := []string{"import", big, "--org", "acme", "--actor", marie}
	if p.holdRow != "" {
		f, err := os.OpenFile(big, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			tn.t.Fatal(err)
		}
		fmt.Fprintf(f, "%s,Held,,paris,FALSE\n", p.holdRow)
		if err := f.Close(); err != nil {
			tn.t.Fatal(err)
		}
		unlock := tn.lockRow(p.holdRow)
		release = func() { _ = unlock() }
		args = append([]string{"--lock-timeout", "0"}, args...)
	}
	cmd, stdout, stderr = tn.command(args...)
	startCommand(tn.t, cmd)
	waitFor(tn.t, "ccbulk to reach "+p.name, func() bool {
		var status string
		if err := tn.db.Get(&status, `SELECT status FROM batches WHERE id = 2`); err != nil || status != "running" {
			return false
		}
		q := `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ccbulk'
			AND xact_start IS NOT NULL AND query LIKE $1`
		if p.holdRow != "" {
			q += ` AND wait_event_type = 'Lock'`
		}
		return tn.db.Get(&pid, q, p.query) == nil
	})
	return cmd, stdout, stderr, pid, release
}

// TestKilledMidTransaction: SIGKILL in the middle of applying a large file
// (while copying new users, or inside the merge) leaves the data exactly as before;
// the batch stays recorded as running until the next run, which succeeds
// and marks it failed.
func TestKilledMidTransaction(t *testing.T) {
	for _, p := range interruptPoints {
		t.Run(p.name, func(t *testing.T) {
			tn := newTenant(t)
			before := tn.snapshot()
			cmd, _, _, _, release := tn.startInterruptible(p)
			killCommand(t, cmd)
			release()
			// The server ends the dead client's session and rolls back.
			waitFor(t, "the killed run's session to end", func() bool {
				var n int
				_ = tn.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ccbulk'`)
				return n == 0
			})
			if got := tn.batchStatus(2); got != "running" {
				t.Fatalf("batch 2 is %s; the run was killed before it could record an outcome, so it should still read running", got)
			}
			if after := tn.snapshot(); after != before {
				t.Fatalf("the killed run left changes behind\nbefore:\n%s\nafter:\n%s", before, after)
			}

			// The next run takes the lock, marks the dead batch failed, and applies.
			small := tn.writeFile("one.csv", "Email,First Name\nlucas.bernard@acme.example,Luc\n")
			out, _ := tn.mustRun(0, "import", small, "--org", "acme", "--actor", marie, "--json")
			if !strings.Contains(out, `"batch_id":3,`) || !strings.Contains(out, `"applied":true`) || !strings.Contains(out, `"updated":1`) {
				t.Fatalf("the run after the kill: %s", out)
			}
			if got := tn.batchStatus(2); got != "failed" {
				t.Errorf("batch 2 is %s after the next run, want failed", got)
			}
		})
	}
}

// TestConnectionTerminated: the server ends the session mid-run
// (pg_terminate_backend), while copying new users or inside the merge: exit 1, a
// message saying what happened, nothing applied, the batch recorded as
// failed, and the next run succeeds.
func TestConnectionTerminated(t *testing.T) {
	for _, p := range interruptPoints {
		t.Run(p.name, func(t *testing.T) {
			tn := newTenant(t)
			before := tn.snapshot()
			cmd, stdout, stderr, pid, release := tn.startInterruptible(p)
			var ok bool
			if err := tn.db.Get(&ok, `SELECT pg_terminate_backend($1)`, pid); err != nil || !ok {
				t.Fatalf("pg_terminate_backend(%d): %v %v", pid, ok, err)
			}
			if code := exitCode(t, cmd.Wait()); code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			release()
			msg := stderr.String()
			for _, want := range []string{"the database connection was lost", "nothing of batch 2 was applied", "run the import again"} {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr %q does not say %q", msg, want)
				}
			}
			if got := tn.batchStatus(2); got != "failed" {
				t.Errorf("batch 2 is %s, want failed", got)
			}
			if after := tn.snapshot(); after != before {
				t.Fatalf("the cut-off run left changes behind\nbefore:\n%s\nafter:\n%s", before, after)
			}
			small := tn.writeFile("one.csv", "Email,First Name\nlucas.bernard@acme.example,Luc\n")
			tn.mustRun(0, "import", small, "--org", "acme", "--actor", marie)
		})
	}
}

// TestStoppedBySIGTERM: a scheduler's stop (systemd stopping the unit, a
// Kubernetes deadline) mid-run: exit 1 saying nothing was applied, the data
// as before, the batch recorded as failed.
func TestStoppedBySIGTERM(t *testing.T) {
	for _, p := range interruptPoints {
		t.Run(p.name, func(t *testing.T) {
			tn := newTenant(t)
			before := tn.snapshot()
			cmd, stdout, stderr, _, release := tn.startInterruptible(p)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, cmd.Wait()); code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			release()
			if !strings.Contains(stderr.String(), "nothing of it was applied") {
				t.Errorf("stderr %q does not say that nothing was applied", stderr)
			}
			if got := tn.batchStatus(2); got != "failed" {
				t.Errorf("batch 2 is %s, want failed", got)
			}
			if after := tn.snapshot(); after != before {
				t.Fatalf("the stopped run left changes behind\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestTwoRunsAtOnce: two imports started together; exactly one applies,
// the other exits 4 naming the batch that holds the lock, and changes
// nothing.
func TestTwoRunsAtOnce(t *testing.T) {
	tn := newTenant(t)
	n := max(faultRows(t)/10, 1000)
	sheet := tn.bigSheet("big.csv", n)

	type result struct {
		code           int
		stdout, stderr string
	}
	results := make(chan result, 2)
	var cmds []*exec.Cmd
	var outs, errs []*bytes.Buffer
	for range 2 {
		cmd, out, errOut := tn.command("import", sheet, "--org", "acme", "--actor", marie, "--json")
		cmds, outs, errs = append(cmds, cmd), append(outs, out), append(errs, errOut)
	}
	for i := range cmds {
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range cmds {
		go func() {
			err := cmds[i].Wait()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
			results <- result{code, outs[i].String(), errs[i].String()}
		}()
	}
	a, b := <-results, <-results
	if a.code != 0 {
		a, b = b, a
	}
	if a.code != 0 || b.code != 4 {
		t.Fatalf("exit codes %d and %d, want 0 and 4\nfirst: %s%s\nsecond: %s%s", a.code, b.code, a.stdout, a.stderr, b.stdout, b.stderr)
	}
	m := regexp.MustCompile(`"batch_id":(\d+),`).FindStringSubmatch(a.stdout)
	if m == nil || !strings.Contains(a.stdout, fmt.Sprintf(`"created":%d,`, n)) {
		t.Fatalf("the run that applied: %s", a.stdout)
	}
	if want := "batch " + m[1] + " holds the lock of acme"; !strings.Contains(b.stderr, want) {
		t.Errorf("the refused run says %q; want it to name the running batch: %q", b.stderr, want)
	}
	var applied, all int
	if err := tn.db.Get(&applied, `SELECT count(*) FROM batches WHERE status = 'applied'`); err != nil {
		t.Fatal(err)
	}
	if err := tn.db.Get(&all, `SELECT count(*) FROM batches`); err != nil {
		t.Fatal(err)
	}
	if applied != 2 || all != 2 {
		t.Errorf("%d batches, %d applied; want the demo import and one of the two runs (the refused one records none)", all, applied)
	}
}

// TestSyncSafetyLimit: a sync that would deactivate more users than
// --max-deactivate allows (as a count, 0 included, or a percentage) changes nothing and
// exits 4; within the limit it deactivates the members the sheet does not
// list, never the primary administrator and never external users.
func TestSyncSafetyLimit(t *testing.T) {
	tn := newTenant(t)
	// Active members of the demo: 9, the primary administrator among them.
	// A sheet listing only jean.martin would deactivate the 7 others.
	sheet := tn.writeFile("hr.csv", "Email\njean.martin@acme.example\n")
	before := tn.snapshot()
	for _, limit := range []string{"0", "6", "70%"} {
		code, stdout, stderr := tn.run("import", sheet, "--org", "acme", "--actor", marie, "--sync", "--max-deactivate", limit, "--json")
		if code != 4 {
			t.Fatalf("--max-deactivate %s: exit %d, want 4\n%s%s", limit, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "--sync would deactivate 7 users, over the limit of") {
			t.Errorf("--max-deactivate %s: stderr %q", limit, stderr)
		}
		if !strings.Contains(stdout, `"applied":false`) {
			t.Errorf("--max-deactivate %s: --json says %s", limit, stdout)
		}
		if after := tn.snapshot(); after != before {
			t.Fatalf("--max-deactivate %s: a refused sync changed data\nbefore:\n%s\nafter:\n%s", limit, before, after)
		}
	}
	var statuses []string
	if err := tn.db.Select(&statuses, `SELECT status FROM batches WHERE id > 1 ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(statuses, ",") != "aborted,aborted,aborted" {
		t.Errorf("refused syncs recorded as %v, want aborted three times", statuses)
	}

	// A percentage is of the active members before the batch: the members
	// the same sheet creates (in users already when the limit is checked)
	// do not make room for more deactivations.
	var grown strings.Builder
	grown.WriteString("Email,PBX\njean.martin@acme.example,\n")
	for i := range 30 {
		fmt.Fprintf(&grown, "new.member%d@acme.example,paris\n", i)
	}
	code, stdout, stderr := tn.run("import", tn.writeFile("hr-grown.csv", grown.String()), "--org", "acme", "--actor", marie,
		"--sync", "--max-deactivate", "70%", "--json")
	if code != 4 || !strings.Contains(stderr, "--sync would deactivate 7 users, over the limit of 6") {
		t.Errorf("a sync creating 30 members, --max-deactivate 70%%: exit %d, want 4 (7 of the 9 members before it)\n%s%s", code, stdout, stderr)
	}
	if after := tn.snapshot(); after != before {
		t.Fatalf("a refused sync changed data\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// At the limit it applies: 7 of 9 active members is under 80%.
	stdout, _ = tn.mustRun(0, "import", sheet, "--org", "acme", "--actor", marie, "--sync", "--max-deactivate", "80%", "--json")
	if !strings.Contains(stdout, `"deactivated":7,`) {
		t.Fatalf("sync within the limit: %s", stdout)
	}
	var active []string
	if err := tn.db.Select(&active, `SELECT email FROM users WHERE tenant_id = 'acme' AND status = 'active' ORDER BY email`); err != nil {
		t.Fatal(err)
	}
	want := "ana.silva@contoso.example jean.martin@acme.example marie.dubois@acme.example tom.baker@northwind.example"
	if got := strings.Join(active, " "); got != want {
		t.Errorf("active after sync: %s\nwant (the listed member, the primary administrator, the external users): %s", got, want)
	}
	var users int
	if err := tn.db.Get(&users, `SELECT count(*) FROM users WHERE tenant_id = 'acme'`); err != nil || users != 12 {
		t.Errorf("%d users after sync (%v), want 12: sync never deletes", users, err)
	}
}

// TestLockWait: a run that finds the lock taken exits 4 at once; with
// --lock-wait it waits, and proceeds when the lock is released.
func TestLockWait(t *testing.T) {
	tn := newTenant(t)
	ctx := context.Background()
	holder, err := tn.db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended('ccbulk:acme', 0))`); err != nil {
		t.Fatal(err)
	}
	sheet := tn.writeFile("one.csv", "Email,First Name\nlucas.bernard@acme.example,Luc\n")

	stdout, stderr := tn.mustRun(4, "import", sheet, "--org", "acme", "--actor", marie, "--json")
	if !strings.Contains(stderr, "holds the lock of acme") {
		t.Errorf("refusal: %q", stderr)
	}
	if !strings.HasPrefix(stdout, `{"batch_id":null,"org":"acme","dry_run":false,"applied":false,`) {
		t.Errorf("refusal --json: %q", stdout)
	}
	_, stderr = tn.mustRun(4, "undo", "1", "--actor", marie)
	if !strings.Contains(stderr, "holds the lock of acme") {
		t.Errorf("undo refusal: %q", stderr)
	}

	cmd, out, errOut := tn.command("import", sheet, "--org", "acme", "--actor", marie, "--lock-wait", "10m", "--json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// It is waiting once it has asked for the lock more than once.
	waitFor(t, "ccbulk to wait for the lock", func() bool {
		var n int
		_ = tn.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND application_name = 'ccbulk' AND query LIKE '%pg_try_advisory_lock%'`)
		return n > 0
	})
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtextextended('ccbulk:acme', 0))`); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Fatalf("--lock-wait: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out.String(), `"updated":1,`) {
		t.Errorf("--lock-wait run: %s", out)
	}
}

// startCommand starts cmd and kills it when the test ends, if it has not
// been waited for by then.
func startCommand(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}

// killCommand kills cmd with SIGKILL and waits for it, failing the test
// unless the signal is what ended it.
func killCommand(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("ccbulk was not killed: %v", err)
	}
}

// lockRow holds the user's row of acme locked (SELECT … FOR UPDATE in a
// transaction of the test's own) until the returned function, also called
// when the test ends, rolls it back.
func (tn *tenant) lockRow(email string) (unlock func() error) {
	tn.t.Helper()
	ctx := context.Background()
	tx, err := tn.db.BeginTxx(ctx, nil)
	if err != nil {
		tn.t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE tenant_id = 'acme' AND email = $1 FOR UPDATE`, email); err != nil {
		_ = tx.Rollback()
		tn.t.Fatal(err)
	}
	var once sync.Once
	var rollbackErr error
	unlock = func() error {
		once.Do(func() { rollbackErr = tx.Rollback() })
		return rollbackErr
	}
	tn.t.Cleanup(func() { _ = unlock() })
	return unlock
}

// TestTimeLimits: a statement that waits past --lock-timeout for a row
// another session holds fails the run with exit 1, a message naming the
// setting, and nothing applied.
func TestTimeLimits(t *testing.T) {
	tn := newTenant(t)
	before := tn.snapshot()
	unlock := tn.lockRow("lucas.bernard@acme.example")
	sheet := tn.writeFile("one.csv", "Email,First Name\nlucas.bernard@acme.example,Luc\n")
	_, stderr := tn.mustRun(1, "--lock-timeout", "200ms", "import", sheet, "--org", "acme", "--actor", marie)
	if !strings.Contains(stderr, "waited longer than the lock timeout for a lock another session holds") || !strings.Contains(stderr, "--lock-timeout") {
		t.Errorf("stderr %q does not explain the lock timeout", stderr)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if after := tn.snapshot(); after != before {
		t.Fatalf("a run stopped by --lock-timeout changed data\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := tn.batchStatus(2); got != "failed" {
		t.Errorf("batch 2 is %s, want failed", got)
	}

	// The statement timeout, from the environment as a scheduler sets it.
	big := tn.bigSheet("big.csv", max(faultRows(t)/10, 1000))
	cmd, stdout, errOut := tn.command("import", big, "--org", "acme", "--actor", marie)
	cmd.Env = append(cmd.Env, "CCBULK_STATEMENT_TIMEOUT=1ms")
	if code := exitCode(t, cmd.Run()); code != 1 {
		t.Fatalf("statement timeout: exit %d\n%s%s", code, stdout, errOut)
	}
	if !strings.Contains(errOut.String(), "statement timeout") {
		t.Errorf("stderr %q does not explain the statement timeout", errOut)
	}
	if after := tn.snapshot(); after != before {
		t.Fatalf("a run stopped by --statement-timeout changed data")
	}
}

// TestDatabaseUnreachable: no server where the URL points: exit 1 and a
// message that says what to check.
func TestDatabaseUnreachable(t *testing.T) {
	tn := &tenant{t: t, url: "postgres://ccbulk@127.0.0.1:1/ccbulk?sslmode=disable&connect_timeout=5", dir: t.TempDir()}
	sheet := tn.writeFile("one.csv", "Email\na@acme.example\n")
	for _, args := range [][]string{
		{"import", sheet, "--org", "acme", "--actor", marie},
		{"undo", "1", "--actor", marie},
		{"batches", "--org", "acme"},
	} {
		_, stderr := tn.mustRun(1, args...)
		if !strings.Contains(stderr, "cannot connect to the database") || !strings.Contains(stderr, "is PostgreSQL running") {
			t.Errorf("%s: stderr %q", args[0], stderr)
		}
	}
}

// TestUndoKilledMidTransaction: an undo killed inside its transaction (its
// audit rows written, activation requests withdrawn, deleting users)
// leaves everything as before; the next undo succeeds and gives back the
// export from before the batch.
func TestUndoKilledMidTransaction(t *testing.T) {
	tn := newTenant(t)
	export, _ := tn.mustRun(0, "export", "--org", "acme", "--actor", marie)
	big := tn.bigSheet("big.csv", max(faultRows(t)/10, 1000))
	tn.mustRun(0, "import", big, "--org", "acme", "--actor", marie)
	before := tn.snapshot()

	unlock := tn.lockRow("bulk0000000@acme.example")
	cmd, _, _ := tn.command("--lock-timeout", "0", "undo", "2", "--actor", marie)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the undo to wait inside its delete", func() bool {
		var n int
		_ = tn.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ccbulk'
			AND query LIKE 'DELETE FROM users%' AND wait_event_type = 'Lock'`)
		return n == 1
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the killed undo's session to end", func() bool {
		var n int
		_ = tn.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ccbulk'`)
		return n == 0
	})
	if after := tn.snapshot(); after != before {
		t.Fatalf("the killed undo left changes behind")
	}
	if got := tn.batchStatus(3); got != "running" {
		t.Fatalf("undo batch 3 is %s, want running until the next run", got)
	}
	tn.mustRun(0, "undo", "2", "--actor", marie)
	if got := tn.batchStatus(3); got != "failed" {
		t.Errorf("undo batch 3 is %s after the next undo, want failed", got)
	}
	if again, _ := tn.mustRun(0, "export", "--org", "acme", "--actor", marie); again != export {
		t.Errorf("import then undo did not give back the export from before")
	}
	var pending int
	if err := tn.db.Get(&pending, `SELECT count(*) FROM activation_outbox WHERE batch_id = 2 AND sent_at IS NULL`); err != nil || pending != 0 {
		t.Errorf("%d activation requests of the undone batch still pending (%v)", pending, err)
	}
}

// TestLimitWhileCopying: a file refused part-way through (F-LIMIT past
// --max-rows) while the writer is copying the earlier chunks' new users
// ends at once, with nothing applied and no batch left. The COPY cut
// short used to leave lib/pq's connection bad, and closing it waited for
// the transaction open on it, whose rollback waited for the COPY: the run
// never ended.
func TestLimitWhileCopying(t *testing.T) {
	tn := newTenant(t)
	var sheet strings.Builder
	sheet.WriteString("Email,First Name,PBX\n")
	for i := range 30_000 {
		fmt.Fprintf(&sheet, "user%05d@acme.example,User %d,paris\n", i, i)
	}
	file := filepath.Join(tn.dir, "big.csv")
	if err := os.WriteFile(file, []byte(sheet.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	before := dumpTables(t, tn.db)
	_, stderr := tn.mustRun(1, "import", file, "--org", "acme", "--actor", marie, "--max-rows", "20000")
	if !strings.Contains(stderr, "F-LIMIT: the file has more than 20000 data rows") || strings.Contains(stderr, "removing the unfinished batch") {
		t.Errorf("stderr: %s", stderr)
	}
	if after := dumpTables(t, tn.db); !maps.Equal(before, after) {
		t.Errorf("the refused file changed the database")
	}
}
