package web_test

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var scriptRE = regexp.MustCompile(`<script([^>]*)>`)

// TestUploadScriptPinned: the upload page loads its drag-and-drop script
// from the site's own static files with a Subresource Integrity hash equal
// to the SHA-384 of the file served (so the file cannot change without its
// pin), under a Content-Security-Policy allowing only the site's own
// scripts; it has no inline script, and the form keeps its file input.
func TestUploadScriptPinned(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("acme", primary)
	page := b.get("/orgs/acme/upload")
	tags := scriptRE.FindAllStringSubmatch(page.body, -1)
	if len(tags) != 1 {
		t.Fatalf("the upload page has %d scripts, want 1:\n%s", len(tags), page.body)
	}
	m := regexp.MustCompile(`^ src="(/static/upload\.js[^"]*)" integrity="(sha384-[A-Za-z0-9+/=]+)" defer$`).FindStringSubmatch(tags[0][1])
	if m == nil {
		t.Fatalf("the script tag %q is not the site's own file with its SHA-384", tags[0][0])
	}
	if strings.Contains(page.body, "<script>") || strings.Count(page.body, "</script>") != 1 {
		t.Error("the upload page has inline script")
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the upload page's Content-Security-Policy: %q", csp)
	}
	js := b.get(m[1])
	if js.code != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET %s = %d %q", m[1], js.code, js.header.Get("Content-Type"))
	}
	sum := sha512.Sum384([]byte(js.body))
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); m[2] != want {
		t.Errorf("the page pins %s, but the file served is %s: update uploadScript with the file", m[2], want)
	}
	for _, want := range []string{`<input type="file" id="file" name="file"`, `id="dropzone"`, `<p id="drophint" hidden>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the upload page lacks %q", want)
		}
	}
	// Other pages load no script.
	if r := b.get("/orgs/acme"); strings.Contains(r.body, "<script") {
		t.Error("the organization's page loads a script")
	}
}

// TestBrowserDropFile: in Chromium, a CSV file dropped on the upload
// page's drop zone is put into the form's file input by the page's own
// script (loaded under the CSP and its integrity hash), its name is shown,
// and the form sends it: the plan's page follows.
func TestBrowserDropFile(t *testing.T) {
	ctx := newChromium(t)
	f := newFixture(t)
	navigateBy(ctx, t, "opening the link", chromedp.Navigate(f.link(t, "acme", primary)))
	navigateBy(ctx, t, "signing in", chromedp.Click(chromedp.ID("signin")))
	navigateBy(ctx, t, "opening the upload", chromedp.Click(chromedp.ID("upload")))
	hintShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("drophint").hidden`))
	if err != nil {
		t.Fatal(err)
	}
	if !hintShown {
		t.Fatal("the drop hint is hidden: the page's script did not run")
	}
	csv := header + "drop.new@acme.example,Drop,Neuf,Drop Neuf,dneuf,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n"
	drop := `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([` + "`" + csv + "`" + `], "dropped.csv", {type: "text/csv"}));
		const zone = document.getElementById("dropzone");
		for (const type of ["dragenter", "dragover", "drop"]) {
			zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
		}
		const input = document.getElementById("file");
		return [input.files.length, input.files.length ? input.files[0].name : "", document.getElementById("dropname").textContent,
			document.getElementById("dropfile").hidden];
	})()`
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](drop))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != float64(1) || got[1] != "dropped.csv" || got[2] != "dropped.csv" || got[3] != false {
		t.Fatalf("after the drop: files, input's file, shown name, name hidden = %v", got)
	}
	navigateBy(ctx, t, "uploading the dropped file", chromedp.Click(chromedp.ID("preview")))
	plan := textOf(ctx, t)
	if !strings.Contains(plan, "drop.new@acme.example") || !strings.Contains(plan, "Drop Neuf") {
		t.Errorf("the plan of the dropped file:\n%s", plan)
	}
	var file string
	if err := f.db.Get(&file, `SELECT options->>'file' FROM plans`); err != nil || file != "dropped.csv" {
		t.Errorf("the plan's file = %q %v, want dropped.csv", file, err)
	}
}

// accessibilityProblems lists, in the page Chromium shows, every form
// control without a label (a label for it, around it, or an aria-label),
// every status told without words (its marks aside: by colour alone),
// every button without text and every table without headers.
const accessibilityProblems = `(() => {
	const bad = [];
	for (const el of document.querySelectorAll("input, select, textarea, progress")) {
		if (el.type === "hidden") continue;
		const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.closest("label") ||
			el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
		if (!labelled) bad.push("a control without a label: " + el.outerHTML);
	}
	for (const el of document.querySelectorAll(".status")) {
		if (!el.textContent.replace(/[✓✗…↻]/g, "").trim()) bad.push("a status without words: " + el.outerHTML);
	}
	for (const el of document.querySelectorAll("button")) {
		if (!el.textContent.trim() && !el.getAttribute("aria-label")) bad.push("a button without text: " + el.outerHTML);
	}
	for (const el of document.querySelectorAll("table")) {
		if (!el.querySelector("th")) bad.push("a table without headers: " + el.outerHTML.slice(0, 200));
	}
	return bad;
})()`

// accessible fails the test for each accessibility problem of the page.
func accessible(ctx context.Context, t *testing.T, page string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](accessibilityProblems))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		t.Errorf("%s: %s", page, p)
	}
}

// TestBrowserAccessible: in Chromium, the pages of the upload, plan and
// apply flow (the organization, the upload form, the plan with a finding,
// the result, the batches, a batch) have a label for every control, words
// for every status, text on every button and headers on every table.
func TestBrowserAccessible(t *testing.T) {
	ctx := newChromium(t)
	f := newFixture(t)
	navigateBy(ctx, t, "opening the link", chromedp.Navigate(f.link(t, "acme", primary)))
	navigateBy(ctx, t, "signing in", chromedp.Click(chromedp.ID("signin")))
	accessible(ctx, t, "the organization's page")
	navigateBy(ctx, t, "opening the upload", chromedp.Click(chromedp.ID("upload")))
	accessible(ctx, t, "the upload page")
	sheet := filepath.Join(t.TempDir(), "mixed.csv")
	if err := os.WriteFile(sheet, []byte(header+
		"acc.new@acme.example,Acc,Neuf,Acc Neuf,aneuf,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE\n"+
		"not-an-email,X,Y,X Y,xy,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{sheet})); err != nil {
		t.Fatal(err)
	}
	navigateBy(ctx, t, "uploading", chromedp.Click(chromedp.ID("preview")))
	accessible(ctx, t, "the plan's page")
	navigateBy(ctx, t, "applying", chromedp.Click(chromedp.ID("apply")))
	waitText(ctx, t, "Applied as")
	accessible(ctx, t, "the result page")
	navigateBy(ctx, t, "opening the batches", chromedp.Navigate(f.srv.URL+"/orgs/acme/batches"))
	accessible(ctx, t, "the batch list")
	navigateBy(ctx, t, "opening the batch", chromedp.Navigate(f.srv.URL+"/orgs/acme/batches/2"))
	accessible(ctx, t, "the batch's page")
}
