package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPlanApply walks POST /api/v1/orgs/{org}/plans/{plan_id}/apply: a dry
// run's plan applied as it was shown (200), then refused the second time
// (409 naming the batch); a plan made before a user changed is refused
// naming the user (409); an actor who may not apply (403); a plan of
// another organization or of no dry run (404).
func TestPlanApply(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.token(t, "acme", root, 0)
	_, jeanTok := e.token(t, "acme", admin2, 0)
	_, betaTok := e.token(t, "beta", betaRoot, 0)

	plan := func(tok, org, rows string) string {
		t.Helper()
		a := e.post(t, "/api/v1/orgs/"+org+"/imports?dry_run=true", tok, header+rows)
		id, _ := a.json(t)["plan_id"].(string)
		if a.status != 200 || id == "" {
			t.Fatalf("dry run = %d %s", a.status, a.body)
		}
		return id
	}
	apply := func(tok, org, id string) answer {
		t.Helper()
		return e.post(t, "/api/v1/orgs/"+org+"/plans/"+id+"/apply", tok, "")
	}

	ann := plan(tok, "acme", "ann@acme.example,Ann,A,FALSE\n")
	// The dry run kept its saved plan, with the plan's SHA-256.
	var kept bool
	if err := e.db.Get(&kept, `SELECT body IS NOT NULL AND sha256 = encode(sha256(body), 'hex') FROM plans WHERE id = $1`, ann); err != nil || !kept {
		t.Fatalf("the dry run's plan is not kept with its SHA-256: %v", err)
	}
	a := apply(tok, "acme", ann)
	m := a.json(t)
	if a.status != 200 || m["applied"] != true || num(m, "created") != 1 || m["batch_id"] == nil {
		t.Fatalf("apply = %d %s", a.status, a.body)
	}
	if _, ok := m["report_url"]; !ok {
		t.Errorf("the apply's answer has no report_url: %s", a.body)
	}
	if s := e.userStatus(t, "acme", "ann@acme.example"); s != "active" {
		t.Errorf("ann after the apply: %q", s)
	}
	var kind string
	if err := e.db.Get(&kind, `SELECT origin_kind FROM batches WHERE id = $1`, num(m, "batch_id")); err != nil || kind != "api" {
		t.Errorf("the apply's batch origin = %q %v, want api", kind, err)
	}

	// Twice: refused, naming the batch that applied it.
	a = apply(tok, "acme", ann)
	if _, msg := a.errorOf(t); a.status != http.StatusConflict || !strings.Contains(msg, fmt.Sprint(num(m, "batch_id"))) {
		t.Errorf("apply twice = %d %s", a.status, a.body)
	}

	// The database moved: jean's name changed since the plan.
	moved := plan(tok, "acme", admin2+",Jeanne,Martin,TRUE\n")
	if _, err := e.db.Exec(`UPDATE users SET first_name = 'Jean-Paul' WHERE tenant_id = 'acme' AND email = $1`, admin2); err != nil {
		t.Fatal(err)
	}
	a = apply(tok, "acme", moved)
	if _, msg := a.errorOf(t); a.status != http.StatusConflict || !strings.Contains(msg, admin2) {
		t.Errorf("apply after a change = %d %s", a.status, a.body)
	}
	if u := e.userStatus(t, "acme", admin2); u != "active" {
		t.Errorf("jean after the refused apply: %q", u)
	}

	// An actor who may no longer apply: jean demoted.
	carl := plan(tok, "acme", "carl@acme.example,Carl,C,FALSE\n")
	if _, err := e.db.Exec(`UPDATE users SET admin_role = 'readonly' WHERE tenant_id = 'acme' AND email = $1`, admin2); err != nil {
		t.Fatal(err)
	}
	if a := apply(jeanTok, "acme", carl); a.status != http.StatusForbidden {
		t.Errorf("apply by a Read-only Administrator = %d %s", a.status, a.body)
	}
	if s := e.userStatus(t, "acme", "carl@acme.example"); s != "" {
		t.Errorf("carl after the refused apply: %q", s)
	}

	// Another organization's plan, a token on another organization, no plan.
	betaPlan := plan(betaTok, "beta", "dan@beta.example,Dan,D,FALSE\n")
	for _, c := range []struct {
		name, tok, org, id string
		want               int
	}{
		{"a plan of beta from acme", tok, "acme", betaPlan, http.StatusNotFound},
		{"acme's token on beta", tok, "beta", betaPlan, http.StatusForbidden},
		{"no such plan", tok, "acme", "nope", http.StatusNotFound},
	} {
		if a := apply(c.tok, c.org, c.id); a.status != c.want {
			t.Errorf("%s = %d, want %d: %s", c.name, a.status, c.want, a.body)
		}
	}
	if s := e.userStatus(t, "beta", "dan@beta.example"); s != "" {
		t.Errorf("dan after the refused applies: %q", s)
	}
	// And the plan of beta applies in beta.
	if a := apply(betaTok, "beta", betaPlan); a.status != 200 {
		t.Errorf("beta's apply = %d %s", a.status, a.body)
	}
}
