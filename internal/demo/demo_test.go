package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// programLimit is how long one 'make demo' may take before the test fails
// by name (make test stops each program a test runs after 4 minutes).
const programLimit = 4 * time.Minute

var (
	linkRE  = regexp.MustCompile(`(?m)^\s+(http://127\.0\.0\.1:\d+/signin/link\?token=\S+)$`)
	tokenRE = regexp.MustCompile(`<input type="hidden" name="token" value="([^"]+)">`)
)

// make runs make in the repository's root with the demo kept in dir and
// its server's first port port, and returns what it printed.
func runMake(t *testing.T, dir string, port int, target string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), programLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", target, "DEMO="+dir)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "DEMO_PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("make %s did not finish within %s:\n%s", target, programLimit, out)
	}
	if err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	return string(out)
}

// serverPid reads the pid make demo recorded.
func serverPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "serve.pid"))
	if err != nil {
		t.Fatalf("make demo recorded no pid of its server: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("serve.pid holds %q: %v", b, err)
	}
	return pid
}

// isServe reports whether pid is a running 'ccbulk serve' (a zombie has no
// command line).
func isServe(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), "serve")
}

// freePort is a port nothing listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// signIn follows the one-time link as a browser does: the link's page, its
// form's POST, the redirect to the organization's page, whose body it
// returns.
func signIn(t *testing.T, link string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: time.Minute}
	page := get(t, client, link)
	m := tokenRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `<form method="post" action="/signin/link">`) || !strings.Contains(page, `<button type="submit"`) {
		t.Fatalf("the link's page has no sign-in form with the token and a button:\n%s", page)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = ""
	resp, err := client.PostForm(u.String(), url.Values{"token": {m[1]}})
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/orgs/acme" {
		t.Fatalf("signing in ended at %s with %s, want /orgs/acme with 200 OK:\n%s", resp.Request.URL, resp.Status, body)
	}
	return string(body)
}

func get(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, body)
	}
	return string(body)
}

// TestMakeDemo runs make demo twice in a row (the second run stops the
// first one's server), signs in with the printed link, reaches the
// organization's page, then runs make demo-down and checks that the server
// is gone.
func TestMakeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("make demo builds ccbulk and starts a PostgreSQL cluster")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	port := freePort(t)
	t.Cleanup(func() {
		// Whatever happened: no server and no cluster left running, and
		// the cluster pg.sh kept beside the socket (as root) removed.
		cmd := exec.Command("make", "--no-print-directory", "demo-down", "DEMO="+dir)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("make demo-down at cleanup: %v\n%s", err, out)
		}
		if target, err := os.Readlink(filepath.Join(dir, "data")); err == nil && strings.HasPrefix(target, "/tmp/ccbulk-") {
			_ = os.RemoveAll(target)
			_ = os.Remove(strings.TrimSuffix(target, ".data"))
		}
	})

	first := runMake(t, dir, port, "demo")
	pid1 := serverPid(t, dir)
	if !isServe(pid1) {
		t.Fatalf("the server make demo started (pid %d) is not running; its log:\n%s", pid1, readLog(dir))
	}
	if linkRE.FindStringSubmatch(first) == nil {
		t.Fatalf("make demo printed no sign-in link:\n%s", first)
	}

	second := runMake(t, dir, port, "demo")
	if isServe(pid1) {
		t.Errorf("the second make demo left the first one's server (pid %d) running", pid1)
	}
	pid2 := serverPid(t, dir)
	if pid2 == pid1 || !isServe(pid2) {
		t.Fatalf("the second make demo has no server of its own running (pids %d, %d); its log:\n%s", pid1, pid2, readLog(dir))
	}
	m := linkRE.FindStringSubmatch(second)
	if m == nil {
		t.Fatalf("make demo printed no sign-in link:\n%s", second)
	}
	link := m[1]
	for _, want := range []string{"marie.dubois@acme.example", "make demo-down", filepath.Join(dir, "serve.log")} {
		if !strings.Contains(second, want) {
			t.Errorf("make demo's last words do not mention %q:\n%s", want, second)
		}
	}
	if !strings.HasPrefix(link, fmt.Sprintf("http://127.0.0.1:%d/", port)) {
		t.Errorf("the link %s is not on the free port %d", link, port)
	}

	page := signIn(t, link)
	if !strings.Contains(page, "Acme Assurances") {
		t.Errorf("the organization's page does not name Acme Assurances:\n%s", page)
	}

	down := runMake(t, dir, port, "demo-down")
	if isServe(pid2) {
		t.Errorf("make demo-down left the server (pid %d) running:\n%s", pid2, down)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Errorf("after make demo-down something still listens on port %d", port)
	}
	if _, err := os.Stat(filepath.Join(dir, "serve.pid")); !os.IsNotExist(err) {
		t.Errorf("make demo-down left serve.pid behind (%v)", err)
	}
}

func readLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
	return string(b)
}
