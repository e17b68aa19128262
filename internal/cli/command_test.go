package cli_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// commandTimeout bounds every program a test runs. A run that hangs fails
// its own test, named, with the stacks of its goroutines, instead of
// stopping the whole package at go test's -timeout with no word of which
// run hung.
const commandTimeout = 4 * time.Minute

// newCommand is exec.Command for a test: past commandTimeout the program
// gets SIGQUIT (a Go program then prints every goroutine's stack on stderr
// and exits 2) and the test fails saying so.
func newCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return cmd.Process.Kill() // the test is over
		}
		t.Errorf("%s %s: still running after %s; stopped with SIGQUIT (its stderr shows its goroutines)",
			name, strings.Join(args, " "), commandTimeout)
		return cmd.Process.Signal(syscall.SIGQUIT)
	}
	cmd.WaitDelay = 10 * time.Second
	return cmd
}
