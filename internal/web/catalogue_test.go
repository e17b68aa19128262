package web

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// keyRE finds the catalogue keys the templates and the Go code name.
var keyRE = regexp.MustCompile(`(?:T|errorPage|errorPageSess|errorDetail)\s*\(?[^"\n]*?"([a-z]+(?:\.[a-z0-9]+)+)"|"((?:error|undo)\.[a-z.]+)"`)

// TestCatalogueComplete: every key the pages use has its text in English,
// French and Polish, and the languages have the same keys.
func TestCatalogueComplete(t *testing.T) {
	used := map[string]bool{}
	files, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, f := range files {
		data, _ := fs.ReadFile(templateFiles, f)
		for _, m := range regexp.MustCompile(`T "([a-z0-9.]+)"`).FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = true
		}
	}
	goFiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") || f == "catalogue.go" {
			continue
		}
		data, _ := os.ReadFile(f)
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			used[m[1]+m[2]] = true
		}
	}
	// Keys made from values: statuses, kinds, roles, changes, actor kinds.
	for _, k := range []string{"status.applied", "status.running", "status.aborted", "status.failed", "status.active", "status.inactive",
		"kind.import", "kind.undo", "role.full", "role.cc_service", "role.readonly", "change.created", "change.changed", "change.deleted",
		"actor.0", "actor.1", "actor.2", "actor.3", "actor.4", "actor.5", "actor.6",
		"action.create", "action.update", "action.activate", "action.deactivate",
		"plan.state.running", "plan.state.applied", "plan.state.refused", "plan.state.failed"} {
		used[k] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys: the scan is broken", len(used))
	}
	for _, lang := range langCodes {
		for k := range used {
			if _, ok := catalogue[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range catalogue[lang] {
			if _, ok := catalogue["en"][k]; !ok {
				t.Errorf("%s has %q, which English has not", lang, k)
			}
		}
		if len(catalogue[lang]) != len(catalogue["en"]) {
			var missing []string
			for k := range catalogue["en"] {
				if _, ok := catalogue[lang][k]; !ok {
					missing = append(missing, k)
				}
			}
			slices.Sort(missing)
			t.Errorf("%s lacks %v", lang, missing)
		}
	}
}

// TestTemplatesAccessible: every visible form field has a label, every
// table has header cells that say what they head, and every page has one
// h1 (the layout's) and the document's language.
func TestTemplatesAccessible(t *testing.T) {
	inputRE := regexp.MustCompile(`<input [^>]*>`)
	idRE := regexp.MustCompile(`id="([^"]+)"`)
	files, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, f := range files {
		data, _ := fs.ReadFile(templateFiles, f)
		page := string(data)
		for _, in := range inputRE.FindAllString(page, -1) {
			if strings.Contains(in, `type="hidden"`) {
				continue
			}
			m := idRE.FindStringSubmatch(in)
			if m == nil || !strings.Contains(page, `<label for="`+m[1]+`">`) {
				t.Errorf("%s: %s has no label", f, in)
			}
		}
		if n := strings.Count(page, "<table"); n > 0 && strings.Count(page, `<th scope="col">`) < n {
			t.Errorf("%s: a table without column headers", f)
		}
		if strings.Contains(page, "<h1") && !strings.HasSuffix(f, "layout.html") {
			t.Errorf("%s: a second h1", f)
		}
	}
	layout, _ := fs.ReadFile(templateFiles, "templates/layout.html")
	for _, want := range []string{`<html lang="{{.L.Lang}}">`, `<main id="main">`, `class="skip" href="#main"`, "<h1>"} {
		if !strings.Contains(string(layout), want) {
			t.Errorf("the layout lacks %s", want)
		}
	}
}
