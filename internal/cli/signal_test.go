package cli_test

// Ends of a run that nobody sees through: a kill inside a long statement,
// a stop while waiting on an idle input, an error after the commit.

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
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
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("ccbulk was not killed: %v", err)
	}
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
