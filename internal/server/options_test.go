package server_test

import (
	"net/http"
	"testing"
)

// TestImportOptionsRefused: an import's options are checked by the
// importer (importer.Options.Validate, importer.ParseThreshold) and worded
// with the query parameters: 400, nothing read.
func TestImportOptionsRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)
	for _, tc := range []struct{ query, want string }{
		{"max_deactivate=5", "max_deactivate works with sync=true only"},
		{"sync=true&max_deactivate=101%25", `max_deactivate="101%": a percentage is over 0 and at most 100, like 5%`},
		{"max_rejected=some", `max_rejected="some": write a count like 500 or a percentage like 5%`},
		{"report_format=pdf", `report_format="pdf": use csv or xlsx or jsonl`},
	} {
		a := e.post(t, "/api/v1/orgs/acme/imports?"+tc.query, tok, header+"ann@acme.example,Ann,A,FALSE\n")
		if _, msg := a.errorOf(t); a.status != http.StatusBadRequest || msg != tc.want {
			t.Errorf("?%s = %d %q, want 400 %q", tc.query, a.status, msg, tc.want)
		}
		if s := e.userStatus(t, "acme", "ann@acme.example"); s != "" {
			t.Errorf("?%s: ann is %q, want no such user", tc.query, s)
		}
	}
}
