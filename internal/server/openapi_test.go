package server_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ccbulk/ccbulk/internal/server"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

// TestOpenAPI: the OpenAPI document is valid OpenAPI 3, documents every
// route the server registers and nothing it does not serve, and holds
// every path of docs/REFERENCE.md §6 (but plans/…/apply, not served yet).
func TestOpenAPI(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(server.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	db, _ := testdb.New(t)
	srv, err := server.New(server.Config{DB: store.New(db), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	served := srv.Routes()
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("the OpenAPI document has %s, which the server does not serve", d)
		}
	}
	for _, spec := range []string{
		"POST /api/v1/orgs/{org}/imports", "GET /api/v1/orgs/{org}/users", "GET /api/v1/template",
		"GET /api/v1/orgs/{org}/batches", "GET /api/v1/orgs/{org}/batches/{id}", "GET /api/v1/orgs/{org}/batches/{id}/report",
		"POST /api/v1/orgs/{org}/batches/{id}/undo", "GET /api/v1/openapi.json", "GET /healthz", "GET /readyz", "GET /metrics",
	} {
		if !slices.Contains(documented, spec) {
			t.Errorf("docs/REFERENCE.md §6: %s is not in the OpenAPI document", spec)
		}
	}
	// Every import parameter of docs/REFERENCE.md §6 is documented.
	op := doc.Paths.Find("/api/v1/orgs/{org}/imports").Post
	for _, p := range strings.Fields("dry_run atomic sync max_deactivate max_rejected mapping sheet encoding activation_emails") {
		if op.Parameters.GetByInAndName("query", p) == nil {
			t.Errorf("the import's parameter %s is not documented", p)
		}
	}
}
