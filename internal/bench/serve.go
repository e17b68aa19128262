package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveOrgs are the tenants the rows of ccbulk serve upload to: empty
// until then, one per concurrent upload.
var serveOrgs = []string{"acme-http-1", "acme-http-2", "acme-http-3", "acme-http-4"}

// serveProc is a 'ccbulk serve' the bench started, on a port of its own.
type serveProc struct {
	cmd    *exec.Cmd
	base   string
	log    *os.File
	exited chan error
}

// startServe starts ccbulk serve on database dbURL and waits until it
// answers /healthz. Each measurement starts its own, so that the server's
// peak RSS (VmHWM) is that measurement's. profile names the server's CPU
// profile, written when BENCH_PROFILE is set (as it stops).
func (c *config) startServe(dbURL, logPath, profile string) (*serveProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &serveProc{base: "http://" + addr, log: log, exited: make(chan error, 1)}
	var args []string
	if c.profile != "" && profile != "" {
		args = append(args, "--cpuprofile", filepath.Join(c.profile, profile+".pprof"))
	}
	p.cmd = exec.Command(c.ccbulk, append(args, "serve", "--listen", addr, "--base-url", p.base)...)
	p.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting ccbulk serve: %w", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-p.exited:
			log.Close()
			return nil, fmt.Errorf("ccbulk serve stopped before it answered (%v); its log is %s", err, logPath)
		default:
		}
		if resp, err := http.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("ccbulk serve did not answer /healthz within a minute; its log is %s", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM (SIGKILL after a minute) and waits.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-p.exited:
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		err = <-p.exited
	}
	if err != nil {
		logf("ccbulk serve did not stop cleanly: %v (its log is %s)", err, p.log.Name())
	}
	p.log.Close()
}

// cpu is the CPU seconds (user and system) the server has used so far.
func (p *serveProc) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11]) // field 14
	st, _ := strconv.Atoi(f[12]) // field 15
	return float64(ut+st) / clockTicks
}

// peakKB is the server's peak resident set so far (VmHWM), in KB.
func (p *serveProc) peakKB() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); err == nil {
			return kb
		}
	}
	return 0
}

// token creates an API token for the primary administrator of org.
func (c *config) token(dbURL, org string) (string, error) {
	_, out, err := c.ccbulkRun(dbURL, "", "token", "create", "--org", org, "--actor", primaryAdmin, "--name", "bench")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// upload POSTs file to the server's imports of org, as its raw body, and
// returns the --json object it answers.
func (p *serveProc) upload(tok, org, file string, dryRun bool) (importResult, error) {
	var res importResult
	f, err := os.Open(file)
	if err != nil {
		return res, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	q := url.Values{"name": {filepath.Base(file)}}
	if dryRun {
		q.Set("dry_run", "true")
	}
	req, err := http.NewRequest(http.MethodPost, p.base+"/api/v1/orgs/"+url.PathEscape(org)+"/imports?"+q.Encode(), f)
	if err != nil {
		return res, err
	}
	req.ContentLength = fi.Size()
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, fmt.Errorf("POST %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return res, fmt.Errorf("POST %s: reading the answer: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("POST %s: %s: %s", req.URL.Path, resp.Status, tail(string(body)))
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return res, fmt.Errorf("POST %s: reading its answer: %v (%s)", req.URL.Path, err, tail(string(body)))
	}
	return res, nil
}

// timedUploads starts a fresh server, uploads file to each of orgs at
// once, and measures: the wall time until the last answer, the server's
// peak RSS and CPU (as the client's: the imports run in it), and the
// PostgreSQL server's CPU. profile names the server's CPU profile.
func (c *config) timedUploads(dbURL, logPath, profile, file string, orgs []string, dryRun bool) (sample, []importResult, error) {
	toks := make([]string, len(orgs))
	for i, org := range orgs {
		t, err := c.token(dbURL, org)
		if err != nil {
			return sample{}, nil, err
		}
		toks[i] = t
	}
	p, err := c.startServe(dbURL, logPath, profile)
	if err != nil {
		return sample{}, nil, err
	}
	defer p.stop()
	results := make([]importResult, len(orgs))
	errs := make([]error, len(orgs))
	cpu0, server0 := p.cpu(), serverCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for i, org := range orgs {
		wg.Go(func() { results[i], errs[i] = p.upload(toks[i], org, file, dryRun) })
	}
	wg.Wait()
	s := sample{secs: time.Since(start).Seconds(), clientCPU: p.cpu() - cpu0, serverCPU: serverCPU() - server0, rssKB: p.peakKB()}
	for _, err := range errs {
		if err != nil {
			return s, nil, err
		}
	}
	return s, results, nil
}

// serveRuns measures ccbulk serve against the command line on the same
// files: an XLSX dry run uploaded over HTTP against the command line's
// --dry-run, four such uploads at once to four tenants (the server's peak
// RSS), and a CSV uploaded and applied against the command line's import.
// The workbook is sh.serveXLSX (issue 17: 100,000 rows), the CSV sh.csv.
// The tenants of serveOrgs are empty when it starts.
func (c *config) serveRuns(dbURL string, sh *sheets, outDir, tag string, withXLSX bool, res results) error {
	logPath := filepath.Join(outDir, "serve.log")
	check := func(what string, n int, r importResult, applied bool) error {
		if r.Created != n || r.Rejected > 0 || r.Applied != applied {
			return fmt.Errorf("%s of %d new users: %d created, %d rejected, applied=%v", what, n, r.Created, r.Rejected, r.Applied)
		}
		return nil
	}
	if withXLSX && sh.serveXLSX != "" {
		m := sh.serveRows()
		if err := c.settle(dbURL); err != nil {
			return err
		}
		s, out, err := c.ccbulkRun(dbURL, tag+"-dry-xlsx", "import", sh.serveXLSX, "--org", serveOrgs[0], "--actor", primaryAdmin, "--json", "--dry-run")
		if err != nil {
			return err
		}
		var r importResult
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("ccbulk import --dry-run: reading its --json summary: %v (%s)", err, out)
		}
		if err := check("the command line's XLSX dry run", m, r, false); err != nil {
			return err
		}
		res.add("dry-xlsx-cli", s)
		if err := c.settle(dbURL); err != nil {
			return err
		}
		s, rs, err := c.timedUploads(dbURL, logPath, tag+"-dry-xlsx-http", sh.serveXLSX, serveOrgs[:1], true)
		if err != nil {
			return err
		}
		if err := check("the XLSX dry run over HTTP", m, rs[0], false); err != nil {
			return err
		}
		res.add("dry-xlsx-http", s)
		logf("  XLSX dry run: command line %.2fs, over HTTP %.2fs (server %d MB)", res["dry-xlsx-cli"][len(res["dry-xlsx-cli"])-1].secs, s.secs, s.rssKB/1024)
		if err := c.settle(dbURL); err != nil {
			return err
		}
		s, rs, err = c.timedUploads(dbURL, logPath, tag+"-dry-xlsx-http4", sh.serveXLSX, serveOrgs, true)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := check("an XLSX dry run of four at once over HTTP", m, r, false); err != nil {
				return err
			}
		}
		res.add("dry-xlsx-http4", s)
		logf("  four XLSX dry runs at once over HTTP: %.2fs, server peak RSS %d MB", s.secs, s.rssKB/1024)
	}

	if err := c.settle(dbURL); err != nil {
		return err
	}
	s, r, err := c.importFile(dbURL, tag+"-import-cli", sh.csv, serveOrgs[0])
	if err != nil {
		return err
	}
	if err := check("the command line's import", sh.rows, r, true); err != nil {
		return err
	}
	res.add("import-cli-tenant", s)
	if err := c.settle(dbURL); err != nil {
		return err
	}
	s, rs, err := c.timedUploads(dbURL, logPath, tag+"-import-http", sh.csv, serveOrgs[1:2], false)
	if err != nil {
		return err
	}
	if err := check("the CSV import over HTTP", sh.rows, rs[0], true); err != nil {
		return err
	}
	res.add("import-http", s)
	logf("  CSV import: command line %.2fs, over HTTP %.2fs (server %d MB)", res["import-cli-tenant"][len(res["import-cli-tenant"])-1].secs, s.secs, s.rssKB/1024)
	return nil
}
