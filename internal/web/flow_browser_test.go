package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// download clicks the link sel and returns the file it downloads.
func download(ctx context.Context, t *testing.T, sel string) []byte {
	t.Helper()
	dir := t.TempDir()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	yes := true
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
			return err
		}),
		chromedp.Click(chromedp.ID(sel)),
	)
	if err != nil {
		t.Fatal(err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatalf("the download of %s was cancelled", sel)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	t.Fatalf("the download of %s did not end", sel)
	return nil
}

// waitText waits until the page's main element says want (the result page
// reloads itself while the apply runs) and returns its text.
func waitText(ctx context.Context, t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err == nil && strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never said %q:\n%s", want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeXLSX writes rows (the first is the header) as an XLSX file.
func writeXLSX(t *testing.T, path string, rows [][]string) {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range rows {
		for j, v := range row {
			name, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := x.SetCellStr("Sheet1", name, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserUploadPlanApplyFix: in Chromium, an administrator signs in
// with a one-time link, uploads an XLSX with one mistake, reads the plan,
// applies it, downloads the report, fixes the cell in the report and
// uploads it again, applies that, and undoes it from the batch's page.
func TestBrowserUploadPlanApplyFix(t *testing.T) {
	ctx := newChromium(t)
	f := newFixture(t)
	dir := t.TempDir()
	cols := strings.Split(strings.TrimSpace(header), ",")
	sheet := filepath.Join(dir, "new-hires.xlsx")
	writeXLSX(t, sheet, [][]string{cols,
		strings.Split("zoe.new@acme.example,Zoé,Nouveau,Zoé Nouveau,znew,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE", ","),
		strings.Split("yves.new@acme,Yves,Neuf,Yves Neuf,yneuf,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE", ","),
	})

	navigateBy(ctx, t, "opening the link", chromedp.Navigate(f.link(t, "acme", primary)))
	navigateBy(ctx, t, "signing in", chromedp.Click(chromedp.ID("signin")))
	upload := func(path string) string {
		t.Helper()
		navigateBy(ctx, t, "opening the upload", chromedp.Click(chromedp.ID("upload")))
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		navigateBy(ctx, t, "uploading", chromedp.Click(chromedp.ID("preview")))
		return textOf(ctx, t)
	}
	plan := upload(sheet)
	for _, want := range []string{"R-EMAIL — 1 rows", "yves.new@acme", "zoe.new@acme.example", "Zoé Nouveau"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan lacks %q:\n%s", want, plan)
		}
	}
	report := download(ctx, t, "report-xlsx")

	navigateBy(ctx, t, "applying", chromedp.Click(chromedp.ID("apply")))
	waitText(ctx, t, "Applied as")
	if s := f.status(t, "zoe.new@acme.example"); s != "active" {
		t.Errorf("zoe after the apply: %q", s)
	}

	// The report, its mistake fixed in a spreadsheet, goes in again.
	fixed := filepath.Join(dir, "new-hires.report.xlsx")
	if err := os.WriteFile(fixed, report, 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenFile(fixed)
	if err != nil {
		t.Fatalf("the report is no XLSX: %v", err)
	}
	found, err := x.SearchSheet(x.GetSheetName(0), "yves.new@acme")
	if err != nil || len(found) != 1 {
		t.Fatalf("the report's bad cell: %v %v", found, err)
	}
	if err := x.SetCellStr(x.GetSheetName(0), found[0], "yves.new@acme.example"); err != nil {
		t.Fatal(err)
	}
	if err := x.Save(); err != nil {
		t.Fatal(err)
	}
	x.Close()
	navigateBy(ctx, t, "back to the organization", chromedp.Navigate(f.srv.URL+"/orgs/acme"))
	plan = upload(fixed)
	if !strings.Contains(plan, "yves.new@acme.example") || strings.Contains(plan, "R-EMAIL") {
		t.Errorf("the fixed report's plan:\n%s", plan)
	}
	navigateBy(ctx, t, "applying the fix", chromedp.Click(chromedp.ID("apply")))
	waitText(ctx, t, "Applied as")
	if s := f.status(t, "yves.new@acme.example"); s != "active" {
		t.Errorf("yves after the apply: %q", s)
	}

	navigateBy(ctx, t, "opening the batch", chromedp.Click(chromedp.ID("batch")))
	navigateBy(ctx, t, "previewing the undo", chromedp.Click(chromedp.ID("undo")))
	navigateBy(ctx, t, "undoing", chromedp.Click(chromedp.ID("confirm-undo")))
	if page := textOf(ctx, t); !strings.Contains(page, "was undone") {
		t.Errorf("after the undo:\n%s", page)
	}
	if s := f.status(t, "yves.new@acme.example"); s != "" {
		t.Errorf("yves after the undo: %q", s)
	}
	var kinds []string
	if err := f.db.Select(&kinds, `SELECT origin_kind FROM batches WHERE tenant_id = 'acme' AND origin_kind IS NOT NULL ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, " ") != "web web web" {
		t.Errorf("the batches' origins: %v, want web for both applies and the undo", kinds)
	}
}
