// Package ccbulk_test holds the tests of the module as a whole: it sits at
// the root because what it checks is the boundary between the packages other
// modules may import (the top-level folders) and those they may not
// (internal/...), which belongs to no one package.
package ccbulk_test

import (
	"fmt"
	"go/ast"
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

// publicPackages are the module's importable packages (its top-level
// folders holding Go code) whose exported API is checked. cmd/ccbulk is a
// main package: nothing of it can be imported, so it is listed as checked
// for nothing.
var publicPackages = []struct {
	dir   string
	check bool
}{
	{"app", true},
	{"cmd/ccbulk", false},
	{"exporter", true},
	{"importer", true},
	{"mapping", true},
	{"rules", true},
	{"schema", true},
	{"sheet", true},
	{"tenant", true},
}

// TestExportsNameNoInternalType: no exported identifier of a top-level
// package names a type of an internal package in its signature (the
// parameters and results of exported functions and methods, exported struct
// fields, the methods and embedded interfaces of exported interfaces,
// exported type definitions and aliases, the types of exported variables
// and constants): another module could not spell that type, so it could not
// use the identifier. What the packages export is theirs, deliberately.
func TestExportsNameNoInternalType(t *testing.T) {
	for _, p := range publicPackages {
		if !p.check {
			continue
		}
		t.Run(p.dir, func(t *testing.T) {
			for _, v := range internalTypesExported(t, p.dir) {
				t.Error(v)
			}
		})
	}
}

// TestPublicPackagesListed: every top-level folder holding Go code is in
// publicPackages, so that a new importable package is checked too.
func TestPublicPackagesListed(t *testing.T) {
	var listed []string
	for _, p := range publicPackages {
		listed = append(listed, p.dir)
	}
	for _, dir := range modulePackages(t) {
		if dir == "internal" || strings.HasPrefix(dir, "internal/") {
			continue
		}
		if !slices.Contains(listed, dir) {
			t.Errorf("%s holds Go code but is not in publicPackages: add it, checked unless it is a main package", dir)
		}
	}
}

// internalTypesExported parses the package in dir (its files but the tests)
// and returns a line for each exported identifier whose signature names a
// type of an internal package: the identifier, the internal type and where.
func internalTypesExported(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, internalTypesOf(fset, f)...)
	}
	return found
}

// internalTypesOf is internalTypesExported for one file.
func internalTypesOf(fset *token.FileSet, f *ast.File) []string {
	c := &exportChecker{fset: fset, pkg: f.Name.Name, imports: importPaths(f)}
	c.file(f)
	return c.found
}

// TestExportChecker: the check finds an internal type in every place of an
// exported signature, and only there.
func TestExportChecker(t *testing.T) {
	const head = `package p

import (
	"context"

	"example.com/m/internal/db"
	st "example.com/m/internal/db"
	"example.com/m/schema"
)
`
	for _, tc := range []struct {
		name, src string
		want      []string // the identifiers reported, in order
	}{
		{"parameter", `func F(ctx context.Context, b db.Row) {}`, []string{"p.F"}},
		{"result", `func F() (*db.Row, error) { return nil, nil }`, []string{"p.F"}},
		{"renamed import", `func F(b []st.Row) {}`, []string{"p.F"}},
		{"in a func type", `func F(fn func(db.Change) error) {}`, []string{"p.F"}},
		{"method", `type T struct{}
func (T) M(m map[string]db.Row) {}`, []string{"p.T.M"}},
		{"struct field", `type T struct { B db.Row; n int }`, []string{"p.T.B"}},
		{"embedded field", `type T struct { db.Where }`, []string{"p.T"}},
		{"interface method", `type I interface { M(ctx context.Context, p db.Params) error }`, []string{"p.I.M"}},
		{"embedded interface", `type I interface { db.Queries }`, []string{"p.I"}},
		{"alias", `type B = db.Row`, []string{"p.B"}},
		{"definition", `type B []db.Row`, []string{"p.B"}},
		{"variable", `var V db.Row`, []string{"p.V"}},
		{"public types only", `func F(b schema.Row) context.Context { return nil }`, nil},
		{"unexported function", `func f(b db.Row) {}`, nil},
		{"unexported field", `type T struct { b db.Row }`, nil},
		{"unexported interface method", `type I interface { m(db.Row) }`, nil},
		{"method of an unexported type", `type t struct{}
func (t) M(b db.Row) {}`, nil},
		{"unexported type", `type t struct { B db.Row }`, nil},
		{"body", `func F() { var b db.Row; _ = b }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", head+tc.src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, line := range internalTypesOf(fset, f) {
				got = append(got, strings.Fields(line)[0])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

// importPaths maps the names a file refers to its imports by to their paths.
func importPaths(f *ast.File) map[string]string {
	m := make(map[string]string)
	for _, spec := range f.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		name := path.Base(p)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		m[name] = p
	}
	return m
}

type exportChecker struct {
	fset    *token.FileSet
	pkg     string
	imports map[string]string
	found   []string
}

func (c *exportChecker) file(f *ast.File) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			id := d.Name.Name
			if d.Recv != nil {
				recv := receiverName(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue // a method of an unexported type is not part of the API
				}
				id = recv + "." + id
			}
			c.expr(id, d.Type)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						if s.TypeParams != nil {
							c.expr(s.Name.Name, s.TypeParams)
						}
						c.expr(s.Name.Name, s.Type)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Type != nil {
							c.expr(n.Name, s.Type)
						}
					}
				}
			}
		}
	}
}

// receiverName is the name of a method's receiver type (T of *T, T[P]).
func receiverName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// expr reports each type of an internal package n names, skipping what of
// it is not exported: unexported struct fields and interface methods
// (parameters and results count whatever their names).
func (c *exportChecker) expr(id string, n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.StructType:
			c.members(id, x.Fields)
			return false
		case *ast.InterfaceType:
			c.members(id, x.Methods)
			return false
		case *ast.SelectorExpr:
			pkg, ok := x.X.(*ast.Ident)
			if !ok {
				return true
			}
			if p, ok := c.imports[pkg.Name]; ok && isInternal(p) {
				c.found = append(c.found, fmt.Sprintf("%s.%s names %s.%s, a type of the internal package %s (%s): move the type to a public package or stop exporting %s",
					c.pkg, id, pkg.Name, x.Sel.Name, p, c.fset.Position(x.Pos()), id))
			}
			return false
		}
		return true
	})
}

// members checks the exported fields of a struct or methods of an
// interface, and the embedded ones (which are exported when their type is,
// and then promote its exported members).
func (c *exportChecker) members(id string, fl *ast.FieldList) {
	for _, f := range fl.List {
		if len(f.Names) == 0 {
			c.expr(id, f.Type)
			continue
		}
		for _, n := range f.Names {
			if n.IsExported() {
				c.expr(id+"."+n.Name, f.Type)
			}
		}
	}
}

// isInternal says whether an import path is of an internal package.
func isInternal(p string) bool {
	return strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal") || strings.HasPrefix(p, "internal/")
}
