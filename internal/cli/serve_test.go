package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/internal/cli"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

// served is a real 'ccbulk serve' on a fresh database holding the demo
// organization acme, and a token of its primary administrator.
type served struct {
	url, token, dbURL, dir string
	env                    []string
	cmd                    *exec.Cmd
	exited                 chan error
	log                    *strings.Builder
}

func startServe(t *testing.T) *served {
	t.Helper()
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		t.Skip("DATABASE_URL is not set: run the tests with 'make test'")
	}
	dbURL, drop, err := testdb.Create(server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(binDir, "ccbulk")
	s := &served{dbURL: dbURL, dir: t.TempDir(), log: &strings.Builder{}}
	s.env = append(os.Environ(), "DATABASE_URL="+dbURL, "CCBULK="+bin, "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env, cmd.Dir = s.env, s.dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run("bash", filepath.Join(root, "fixtures", "demo", "org.sh"))
	run(bin, "import", filepath.Join(root, "fixtures", "demo", "users.csv"), "--org", "acme", "--actor", "marie.dubois@acme.example", "--report", filepath.Join(s.dir, "seed.report.csv"))
	s.token = strings.TrimSpace(run(bin, "token", "create", "--org", "acme", "--actor", "marie.dubois@acme.example", "--name", "doc"))
	s.launch(t)
	return s
}

// launch starts 'ccbulk serve' on the served database (again, after the
// last one stopped).
func (s *served) launch(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(filepath.Join(binDir, "ccbulk"), "serve", "--listen", "127.0.0.1:0")
	s.cmd.Env, s.cmd.Dir = s.env, s.dir
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	addr := make(chan string, 1)
	cmd, exited := s.cmd, s.exited
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if u, ok := strings.CutPrefix(line, "ccbulk: serving on "); ok {
				addr <- u
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case s.url = <-addr:
	case err := <-s.exited:
		t.Fatalf("serve exited: %v\n%s", err, s.log)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
}

// stop sends SIGTERM and returns how serve exited.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop\n%s", s.log)
	}
	return nil
}

// docExample matches an example of docs/API.md: the shell block after
// "<!-- example: NAME -->".
var docExample = regexp.MustCompile("(?s)<!-- example: ([a-z]+) -->\n```sh\n(.*?)```")

// TestAPIDocExamples runs the curl examples of docs/API.md (a nightly sync,
// reading a batch and its report) against a real 'ccbulk serve' and
// PostgreSQL, then stops the server with SIGTERM.
func TestAPIDocExamples(t *testing.T) {
	for _, tool := range []string{"curl", "jq", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	_, file, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "API.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{}
	for _, m := range docExample.FindAllStringSubmatch(string(doc), -1) {
		examples[m[1]] = m[2]
	}
	if examples["nightly"] == "" || examples["report"] == "" || examples["preview"] == "" {
		t.Fatalf("docs/API.md lacks the examples nightly, report and preview (found %d)", len(examples))
	}
	s := startServe(t)
	_, file, _, _ = runtime.Caller(0)
	users, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "demo", "users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Tonight's export: one user renamed.
	tonight := strings.Replace(string(users), "Jean Martin,", "Jean-Pierre Martin,", 1)
	if tonight == string(users) {
		t.Fatal("the demo sheet has no Jean Martin to rename")
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("users.csv", tonight)
	lines := strings.SplitN(string(users), "\n", 2)
	write("fixes.csv", lines[0]+"\nnot-an-email,X,Y,,,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,,FALSE\n")

	runExample := func(name string) (string, error) {
		cmd := exec.Command("bash", "-c", examples[name])
		cmd.Env = append(slices.Clone(s.env), "CCBULK_URL="+s.url, "CCBULK_TOKEN="+s.token)
		cmd.Dir = s.dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := runExample("nightly")
	if err != nil || !regexp.MustCompile(`^applied as batch \d+: 0 rows rejected\n$`).MatchString(out) {
		t.Errorf("the nightly example: %v\n%s", err, out)
	}
	out, err = runExample("report")
	if err != nil || !strings.Contains(out, "jean.martin@acme.example\tDisplay Name\tJean Martin\tJean-Pierre Martin") ||
		!strings.Contains(out, "not-an-email") || !strings.Contains(out, "R-EMAIL") {
		t.Errorf("the report example: %v\n%s", err, out)
	}
	write("new-hires.csv", lines[0]+"\nnina.new@acme.example,Nina,New,,,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,,FALSE\n")
	out, err = runExample("preview")
	if err != nil || !regexp.MustCompile(`^would create 1, update 0, reject 0\napplied as batch \d+\n$`).MatchString(out) {
		t.Errorf("the preview example: %v\n%s", err, out)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("serve stopped with %v\n%s", err, s.log)
	}
	if strings.Contains(s.log.String(), s.token) {
		t.Error("the server's log holds the token")
	}
	if !strings.Contains(s.log.String(), `route="POST /api/v1/orgs/{org}/imports" status=200`) {
		t.Errorf("the log has no line for the import:\n%s", s.log)
	}
}

// TestServeStopsRunsInFlight: SIGTERM while an upload is still coming
// cancels its run: nothing applied, the batch failed, and serve exits 0.
func TestServeStopsRunsInFlight(t *testing.T) {
	s := startServe(t)
	db, err := sqlx.Open("postgres", s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The seeding import ran from the command line, and its batch says so.
	var origin string
	if err := db.Get(&origin, `SELECT coalesce(origin_kind, 'none') FROM batches ORDER BY id LIMIT 1`); err != nil || origin != "cli" {
		t.Errorf("the command line's batch records origin %q (%v), want cli", origin, err)
	}
	// The collector's settings: the memory limit grows with the runs in
	// flight (unless GOGC or GOMEMLIMIT says otherwise).
	tuned := os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == ""
	if tuned {
		checkMemory(t, s.url, "idle", cli.ServeMemoryLimit(0))
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.url+"/api/v1/orgs/acme/imports", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	fmt.Fprint(pw, "Email,First Name,Last Name\n")
	for i := range 3000 {
		fmt.Fprintf(pw, "late%d@acme.example,Late,%d\n", i, i)
	}
	var batch int64
	deadline := time.Now().Add(60 * time.Second)
	for batch == 0 {
		_ = db.Get(&batch, `SELECT coalesce(max(id), 0) FROM batches WHERE tenant_id = 'acme' AND status = 'running'`)
		if time.Now().After(deadline) {
			t.Fatalf("the import did not start\n%s", s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tuned {
		checkMemory(t, s.url, "one run in flight", cli.ServeMemoryLimit(1))
	}
	if err := s.stop(t); err != nil {
		t.Errorf("serve stopped with %v\n%s", err, s.log)
	}
	<-done
	var status string
	_ = db.Get(&status, `SELECT coalesce((SELECT status FROM batches WHERE id = $1), 'gone')`, batch)
	if status != "failed" && status != "gone" {
		t.Errorf("batch %d is %s after SIGTERM, want failed", batch, status)
	}
	var n int
	_ = db.Get(&n, `SELECT count(*) FROM users WHERE email LIKE 'late%'`)
	if n != 0 {
		t.Errorf("%d users of the cancelled run were applied", n)
	}
}

// TestServeKilledMidApply: a serve process killed (SIGKILL) while it
// applies a plan of 3,001 changes loses nothing and leaves nothing stuck:
// once the apply's lease has expired, another serve process marks the
// apply failed (the server stopped while it ran) and its batch failed,
// nothing of it is applied, and the plan is applied again, whole.
func TestServeKilledMidApply(t *testing.T) {
	s := startServe(t)
	db, err := sqlx.Open("postgres", s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	post := func(path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	var sheet strings.Builder
	sheet.WriteString("Email,First Name,Last Name,Display Name,PBX\njean.martin@acme.example,Jean,Martin,Jean-Pierre Martin,\n")
	for i := range 3000 {
		fmt.Fprintf(&sheet, "kill%d@acme.example,Kill,%d,,paris\n", i, i)
	}
	code, body := post("/api/v1/orgs/acme/imports?dry_run=true", sheet.String())
	m := regexp.MustCompile(`"plan_id":"([^"]+)"`).FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("dry run = %d %s", code, body)
	}
	plan := m[1]

	// Jean's row held: the apply waits on it, its batch running.
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec(`SELECT 1 FROM users WHERE tenant_id = 'acme' AND email = 'jean.martin@acme.example' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = post("/api/v1/orgs/acme/plans/"+plan+"/apply", "") }()
	var batch int64
	waitFor(t, "the apply's batch to be linked to its plan by its heartbeat", func() bool {
		return db.Get(&batch, `SELECT p.batch_id FROM plans p JOIN batches b ON b.id = p.batch_id
			WHERE p.id = $1 AND p.apply_state = 'running' AND b.status = 'running'`, plan) == nil
	})
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-s.exited; err == nil {
		t.Fatal("serve exited 0 when killed")
	}
	_ = tx.Rollback()
	// The lease (30 s) runs out: the heartbeat of the killed process is
	// made older than it rather than waited for.
	if _, err := db.Exec(`UPDATE plans SET apply_heartbeat = now() - interval '1 hour' WHERE id = $1`, plan); err != nil {
		t.Fatal(err)
	}

	s.launch(t)
	var state, msg string
	waitFor(t, "another serve process to mark the apply failed", func() bool {
		return db.QueryRow(`SELECT apply_state, coalesce(apply_message, '') FROM plans WHERE id = $1`, plan).Scan(&state, &msg) == nil && state == "failed"
	})
	if !strings.Contains(msg, "the server stopped while it applied the plan") {
		t.Errorf("the apply's message: %q", msg)
	}
	var status string
	waitFor(t, "the batch to be marked failed", func() bool {
		return db.Get(&status, `SELECT status FROM batches WHERE id = $1`, batch) == nil && status != "running"
	})
	if status != "failed" {
		t.Errorf("batch %d is %s, want failed", batch, status)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM users WHERE tenant_id = 'acme' AND (email LIKE 'kill%' OR display_name = 'Jean-Pierre Martin')`); err != nil || n != 0 {
		t.Errorf("%d users of the killed apply were applied (%v)", n, err)
	}

	code, body = post("/api/v1/orgs/acme/plans/"+plan+"/apply", "")
	if code != http.StatusOK || !strings.Contains(body, `"created":3000`) || !strings.Contains(body, `"updated":1`) {
		t.Errorf("applying the plan again = %d %s", code, body)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("serve stopped with %v\n%s", err, s.log)
	}
}

// checkMemory checks the server's collector settings in its /metrics: the
// GOGC of limitServeMemory and the memory limit want.
func checkMemory(t *testing.T, url, when string, want int64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"go_gc_gomemlimit_bytes": float64(want), "go_gc_gogc_percent": cli.ServeGCPercent} {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Errorf("%s: /metrics has no %s", when, name)
			continue
		}
		if got, err := strconv.ParseFloat(string(m[1]), 64); err != nil || got != want {
			t.Errorf("%s: %s is %s, want %v", when, name, m[1], want)
		}
	}
}
