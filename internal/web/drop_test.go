package web_test

import (
	"crypto/sha512"
	"encoding/base64"
	"net/http"
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
