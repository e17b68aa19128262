package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium returns the Chromium of the browser tests, skipping the test
// when none is installed.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: Chromium is not installed (Debian: apt-get install chromium; scripts/test-deps.sh installs it when run as root)")
	return ""
}

// newChromium starts a headless Chromium for the test and returns its
// context, ending within a minute.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.DisableGPU)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// textOf returns the text of the page's main element.
func textOf(ctx context.Context, t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// navigateBy runs steps that load a page and returns its status code.
func navigateBy(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != 200 {
		t.Fatalf("%s: status %d (%s)", what, resp.Status, resp.URL)
	}
}

// TestBrowserLinkExportUndo: in Chromium, an administrator signs in with a
// one-time link, sees the organization, downloads the export, opens a
// batch, and undoes it after seeing what the undo would change.
func TestBrowserLinkExportUndo(t *testing.T) {
	ctx := newChromium(t)
	f := newFixture(t)
	batch := f.importCSV(t, "acme", primary, "new.agent@acme.example,New,<b>Agent</b>,,,paris,,,FALSE,TRUE,,,,,FALSE\n")

	navigateBy(ctx, t, "opening the link", chromedp.Navigate(f.link(t, "acme", primary)))
	navigateBy(ctx, t, "signing in", chromedp.Click(chromedp.ID("signin")))
	org := textOf(ctx, t)
	for _, want := range []string{"Acme Assurances", "Contact Center Premium", "paris", "Supervisors", "Recent batches"} {
		if !strings.Contains(org, want) {
			t.Errorf("the organization's page lacks %q:\n%s", want, org)
		}
	}

	data := download(ctx, t, "export-csv")
	for _, want := range []string{"Email,First Name", "new.agent@acme.example", "<b>Agent</b>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the export lacks %q:\n%s", want, data)
		}
	}

	navigateBy(ctx, t, "opening the batch", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/orgs/acme/batches/%d"]`, batch))))
	page := textOf(ctx, t)
	if !strings.Contains(page, "new.agent@acme.example") || !strings.Contains(page, "<b>Agent</b>") {
		t.Errorf("the batch's page does not show its change as text:\n%s", page)
	}
	navigateBy(ctx, t, "previewing the undo", chromedp.Click(chromedp.ID("undo")))
	if page := textOf(ctx, t); !strings.Contains(page, "would change 1 users: 1 deleted") {
		t.Errorf("the undo's preview:\n%s", page)
	}
	// The undo is confirmed from the keyboard: Tab to its button, Enter.
	var focused string
	var err error
	for range 40 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if focused, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.activeElement.id")); err != nil {
			t.Fatal(err)
		}
		if focused == "confirm-undo" {
			break
		}
	}
	if focused != "confirm-undo" {
		t.Fatal("the undo's button cannot be reached with the Tab key")
	}
	navigateBy(ctx, t, "confirming the undo", chromedp.KeyEvent(kb.Enter))
	if page := textOf(ctx, t); !strings.Contains(page, fmt.Sprintf("Batch %d was undone", batch)) {
		t.Errorf("after the undo:\n%s", page)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM users WHERE email = 'new.agent@acme.example'`); err != nil || n != 0 {
		t.Errorf("the user the batch created: %d %v", n, err)
	}
}

// TestBrowserOIDC: in Chromium, an administrator signs in through a real
// OpenID provider on localhost, typing into its own login form.
func TestBrowserOIDC(t *testing.T) {
	ctx := newChromium(t)
	f := newOIDCFixture(t)
	navigateBy(ctx, t, "opening ccbulk", chromedp.Navigate(f.srv.URL+"/?lang=fr"))
	navigateBy(ctx, t, "going to the provider", chromedp.Click(chromedp.CSS(`a[href="/signin/oidc"]`)))
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "jean"),
		chromedp.SendKeys(chromedp.ID("password"), opPassword),
	)
	if err != nil {
		t.Fatal(err)
	}
	navigateBy(ctx, t, "signing in at the provider", chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	page := textOf(ctx, t)
	header, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/orgs/acme") || !strings.Contains(page, "Lots récents") || !strings.Contains(header, "jean.martin@acme.example") {
		t.Errorf("after signing in, at %s:\n%s\n%s", loc, header, page)
	}
}
