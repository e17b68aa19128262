package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestImage builds the container image as make image does and runs
// ccbulk --version in it. Where podman is missing, or cannot build or run
// a container here (a sandbox may refuse what a container needs), it skips
// saying why.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (scripts/test-deps.sh installs it as root): the image was not built")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, podman, "info").CombinedOutput(); err != nil {
		t.Skipf("podman does not work here, the image was not built: podman info: %v\n%s", err, tail(out))
	}

	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	const version = "v0.0.0-imagetest"
	image := fmt.Sprintf("localhost/ccbulk-imagetest:%d", os.Getpid())
	build := exec.CommandContext(ctx, "make", "-C", root, "image", "VERSION="+version, "IMAGE="+image)
	out, err := build.CombinedOutput()
	if err != nil {
		if _, staged := os.Stat(filepath.Join(root, "dist", "image", "ccbulk")); staged != nil {
			t.Fatalf("make image failed before podman ran: %v\n%s", err, tail(out))
		}
		t.Skipf("podman could not build the image here: %v\n%s", err, tail(out))
	}
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "--force", image).Run() }) // best effort: a leftover image costs only disk

	user, err := exec.CommandContext(ctx, podman, "image", "inspect", "--format", "{{.Config.User}}", image).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	if strings.TrimSpace(string(user)) != "65532:65532" {
		t.Errorf("the image runs as %q, want 65532:65532 (not root)", strings.TrimSpace(string(user)))
	}

	run := exec.CommandContext(ctx, podman, "run", "--rm", image, "--version")
	var stderr strings.Builder
	run.Stderr = &stderr
	got, err := run.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "OCI") || strings.Contains(stderr.String(), "not permitted") {
			t.Skipf("the image was built, but podman cannot run a container here: %v\n%s", err, stderr.String())
		}
		t.Fatalf("podman run %s --version: %v\n%s", image, err, stderr.String())
	}
	if want := "ccbulk " + version + "\n"; string(got) != want {
		t.Errorf("ccbulk --version in the image printed %q, want %q", got, want)
	}
}

// tail is the end of a command's output, enough to say why it failed.
func tail(out []byte) string {
	const n = 2000
	if len(out) > n {
		return "…" + string(out[len(out)-n:])
	}
	return string(out)
}
