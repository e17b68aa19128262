package store

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// queryArg is the position of the SQL text among the arguments of the
// database calls ccbulk makes: methods of *sqlx.DB, *sqlx.Conn, *sqlx.Tx
// and Querier, and the sqlx package functions.
var queryArg = map[string]int{
	"ExecContext": 1, "QueryContext": 1, "QueryxContext": 1, "QueryRowContext": 1, "QueryRowxContext": 1,
	"PrepareContext": 1, "PreparexContext": 1, "GetContext": 2, "SelectContext": 2,
	"Exec": 0, "Query": 0, "Queryx": 0, "QueryRow": 0, "QueryRowx": 0, "Prepare": 0, "Preparex": 0,
	"Get": 1, "Select": 1, "MustExec": 0, "MustExecContext": 1, "NamedExec": 0, "NamedExecContext": 1,
}

// sqlxFuncArg is the same for the package functions sqlx.GetContext(ctx, q, dest, query, ...).
var sqlxFuncArg = map[string]int{"GetContext": 3, "SelectContext": 3, "Get": 2, "Select": 2}

// TestSQLIsConstant checks that every query ccbulk sends is constant text:
// values reach PostgreSQL only as $N parameters or through COPY, never
// spliced into the SQL, so no cell of a sheet can change what a statement
// sqlWrappers are the store's functions that pass SQL they are given to the
// database: the SQL is checked where they are called, argument arg, and
// taken as it is inside them, parameter param.
var sqlWrappers = map[string]struct {
	arg   int
	param string
}{
	"copyRows":   {2, "copyIn"},
	"execAsSets": {2, "query"},
}

// does. It reads the source of every package that talks to the database.
func TestSQLIsConstant(t *testing.T) {
	checked := 0
	for _, dir := range []string{".", "../../importer", "../../exporter", "../cli"} {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		// A package's constants are known in all its files.
		parsed := map[string]*ast.File{}
		consts, lists := map[string]bool{}, map[string]bool{}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			parsed[path] = f
			c, l := constantNames(f)
			maps.Copy(consts, c)
			maps.Copy(lists, l)
		}
		for path, f := range parsed {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if id, isIdent := call.Fun.(*ast.Ident); isIdent {
					if w, isWrapper := sqlWrappers[id.Name]; isWrapper {
						checked++
						if !isConstant(call.Args[w.arg], consts, lists) {
							t.Errorf("%s: the SQL passed to %s is built at run time; write it as constant text with $N parameters (pq.CopyIn over constant names for COPY)", fset.Position(call.Args[w.arg].Pos()), id.Name)
						}
						return true
					}
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				i, ok := queryArg[sel.Sel.Name]
				if pkg, isIdent := sel.X.(*ast.Ident); isIdent && pkg.Name == "sqlx" {
					i, ok = sqlxFuncArg[sel.Sel.Name]
				}
				if !ok || i >= len(call.Args) {
					return true
				}
				if recv, isIdent := sel.X.(*ast.Ident); isIdent && recv.Name == "stmt" {
					return true // a prepared statement's Exec takes values only
				}
				if w, isWrapper := sqlWrappers[enclosingFunc(f, call)]; isWrapper && exprText(fset, call.Args[i]) == w.param {
					return true // checked at each call of the wrapper (above)
				}
				checked++
				arg := call.Args[i]
				if exprText(fset, arg) == "string(body)" && filepath.Base(path) == "migrate.go" {
					return true // the migrations embedded in the binary (schema.Migrations)
				}
				if !isConstant(arg, consts, lists) {
					t.Errorf("%s: the SQL of %s is built at run time; write it as constant text with $N parameters", fset.Position(call.Args[i].Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("only %d database calls found; is the list of methods out of date?", checked)
	}
}

// constantNames returns the names of the constants declared in f (at any
// level), and of variables initialized with a list of string literals
// (column lists for COPY).
func constantNames(f *ast.File) (consts, lists map[string]bool) {
	consts, lists = map[string]bool{}, map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		decl, ok := n.(*ast.GenDecl)
		if !ok {
			return true
		}
		for _, spec := range decl.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for j, name := range vs.Names {
				if decl.Tok == token.CONST {
					consts[name.Name] = true
				} else if j < len(vs.Values) && isStringList(vs.Values[j]) {
					lists[name.Name] = true
				}
			}
		}
		return true
	})
	return consts, lists
}

func exprText(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	if err := format.Node(&b, fset, e); err != nil {
		return ""
	}
	return b.String()
}

func isStringList(e ast.Expr) bool {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return false
	}
	for _, el := range lit.Elts {
		if b, ok := el.(*ast.BasicLit); !ok || b.Kind != token.STRING {
			return false
		}
	}
	return true
}

// isConstant reports whether e is constant SQL: string literals and
// constants joined with +, or pq.CopyIn over constant names (CopyIn quotes
// them).
func isConstant(e ast.Expr, consts, lists map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.Ident:
		return consts[e.Name]
	case *ast.ParenExpr:
		return isConstant(e.X, consts, lists)
	case *ast.BinaryExpr:
		return e.Op == token.ADD && isConstant(e.X, consts, lists) && isConstant(e.Y, consts, lists)
	case *ast.CallExpr:
		sel, ok := e.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "CopyIn" {
			return false
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "pq" {
			return false
		}
		for _, a := range e.Args {
			if id, ok := a.(*ast.Ident); ok && lists[id.Name] && e.Ellipsis.IsValid() {
				continue
			}
			if !isConstant(a, consts, lists) {
				return false
			}
		}
		return true
	}
	return false
}

// enclosingFunc names the function declaration of f that holds n.
func enclosingFunc(f *ast.File, n ast.Node) string {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= n.Pos() && n.End() <= fd.End() {
			return fd.Name.Name
		}
	}
	return ""
}
