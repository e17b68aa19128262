package ccbulk_test

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ccbulk/ccbulk"

// TestArchitectureImports: the package table of ARCHITECTURE.md says, for
// each package of the module, which of the module's packages it imports; the
// code imports exactly those (its tests aside). A package that gains or
// loses an import of the module, or a package missing from the table, fails
// here until the table says so, so that the picture the next person reads
// is the code's.
func TestArchitectureImports(t *testing.T) {
	documented := architectureTable(t)
	for _, dir := range modulePackages(t) {
		t.Run(dir, func(t *testing.T) {
			want, ok := documented[dir]
			if !ok {
				t.Fatalf("ARCHITECTURE.md's package table has no row for %s: add one (what it owns, what it imports)", dir)
			}
			got := moduleImports(t, dir)
			for _, imp := range got {
				if !slices.Contains(want, imp) {
					t.Errorf("%s imports %s, which ARCHITECTURE.md does not list: add it to the row's imports, or drop the import", dir, imp)
				}
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("ARCHITECTURE.md says %s imports %s, which it does not: take it out of the row", dir, w)
				}
			}
		})
	}
}

// architectureTable reads the package table: its first column names a
// package (`internal/store`), its last the module's packages it imports,
// each by its path in the module or its last element ("store"), with
// remarks in parentheses; "stdlib" or nothing means none. It returns the
// imports as paths in the module, by package.
func architectureTable(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byName := map[string]string{} // last element -> path, for the packages of the module
	for _, dir := range modulePackages(t) {
		byName[path.Base(dir)] = dir
	}
	table := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		pkg := strings.TrimSuffix(strings.Trim(strings.TrimSpace(cells[0]), "`"), "/")
		var imports []string
		for _, name := range strings.Split(withoutParentheses(cells[len(cells)-1]), ",") {
			name = strings.TrimSpace(name)
			if name == "" || name == "stdlib" {
				continue
			}
			p, ok := byName[name]
			if strings.Contains(name, "/") {
				p, ok = name, true
			}
			if !ok {
				t.Errorf("ARCHITECTURE.md: the row of %s names %q, which is no package of the module", pkg, name)
				continue
			}
			imports = append(imports, p)
		}
		table[pkg] = imports
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return table
}

// withoutParentheses drops what stands in parentheses, nested or not.
func withoutParentheses(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// modulePackages returns the folders of the module that hold Go code other
// than tests, as slash paths from the root (tools is a module of its own).
func modulePackages(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || p == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && filepath.Dir(p) != "." {
			if dir := filepath.ToSlash(filepath.Dir(p)); !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// moduleImports returns the module's packages that the non-test files of
// dir import, as paths in the module, sorted.
func moduleImports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var imports []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if rel, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(imports, rel) {
				imports = append(imports, rel)
			}
		}
	}
	slices.Sort(imports)
	return imports
}
