package store_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyStoreTalksToPostgres: no Go file of the module but those of
// internal/store, internal/testdb (the tests' database), internal/bench (a
// measuring program of its own) and the tests imports sqlx, lib/pq or
// database/sql (schema imports database/sql for the Null types of its
// records, nothing else); everything else reaches the database through
// internal/store's methods. depguard's database rule in .golangci.yaml
// says the same for `make lint`; this holds it for `go test` too.
func TestOnlyStoreTalksToPostgres(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	database := map[string]bool{"github.com/jmoiron/sqlx": true, "github.com/lib/pq": true, "database/sql": true}
	allowed := []string{"internal/store/", "internal/testdb/", "internal/bench/"}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			// tools is a module of its own; hidden and testdata folders
			// hold no package of this one.
			if rel == "tools" || strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, a := range allowed {
			if strings.HasPrefix(rel, a) {
				return nil
			}
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			// schema's records of the seam keep their optional columns in
			// database/sql's Null types; it imports no driver and no sqlx.
			if p == "database/sql" && strings.HasPrefix(rel, "schema/") {
				continue
			}
			if database[p] {
				t.Errorf("%s imports %s: only internal/store talks to the database (call a method of *store.DB)", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d files checked: the walk missed the module", checked)
	}
}
