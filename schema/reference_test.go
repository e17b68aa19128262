package schema_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// reference returns docs/REFERENCE.md, the contract the code follows.
func reference(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "REFERENCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ruleIDs returns the value of every RuleID constant declared in the
// package's source, so that a rule added to the code is found without a
// list to keep in step.
func ruleIDs(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	var ids []string
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "RuleID" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: a RuleID constant that is not a string literal", fset.Position(v.Pos()))
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, s)
				}
			}
		}
	}
	if len(ids) < 20 {
		t.Fatalf("found %d rule ids in the package's source: %v", len(ids), ids)
	}
	return ids
}

// TestReferenceListsEveryRule: every rule id of the code has its row in a
// table of docs/REFERENCE.md §4, The rules.
func TestReferenceListsEveryRule(t *testing.T) {
	ref := reference(t)
	for _, id := range ruleIDs(t) {
		if !strings.Contains(ref, "\n| "+id+" ") {
			t.Errorf("docs/REFERENCE.md §4 has no row for %s: add it to the table of row rules or of file-level findings", id)
		}
	}
}

// TestReferenceListsEveryColumn: every template column and every French or
// Polish header read as one is in docs/REFERENCE.md §2, The sheet.
func TestReferenceListsEveryColumn(t *testing.T) {
	ref := reference(t)
	for _, h := range schema.Headers() {
		if !strings.Contains(ref, "\n| "+h+" ") && !strings.Contains(ref, ", "+h+" |") && !strings.Contains(ref, "\n| "+h+",") {
			t.Errorf("docs/REFERENCE.md §2 has no row for the column %q", h)
		}
	}
	for _, a := range schema.HeaderAliases() {
		if !strings.Contains(ref, " "+a.Header+",") && !strings.Contains(ref, " "+a.Header+" |") {
			t.Errorf("docs/REFERENCE.md §2 does not list the header %q (read as %s)", a.Header, a.Column)
		}
	}
	for _, h := range schema.ReportHeaders() {
		if !strings.Contains(ref, "`"+h+"`") {
			t.Errorf("docs/REFERENCE.md §5 does not name the report column %q", h)
		}
	}
}

// citesOutside matches a comment that cites a document kept outside the
// repository instead of docs/REFERENCE.md.
var citesOutside = regexp.MustCompile(`\bSPEC\b|SPEC\.md|\.\./shared/`)

// TestCommentsCiteTheReference: the repository stands alone. Go comments
// and SQL comments cite docs/REFERENCE.md, never a specification kept
// elsewhere.
func TestCommentsCiteTheReference(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go":
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, g := range f.Comments {
				for _, c := range g.List {
					if citesOutside.MatchString(c.Text) {
						t.Errorf("%s: %q: cite docs/REFERENCE.md and its section instead", fset.Position(c.Pos()), c.Text)
					}
				}
			}
		case ".sql":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if _, comment, ok := strings.Cut(line, "--"); ok && citesOutside.MatchString(comment) {
					t.Errorf("%s:%d: %q: cite docs/REFERENCE.md and its section instead", path, i+1, strings.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
