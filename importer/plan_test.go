package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// planSheet creates two users, changes two, asks one activation email of
// an unchanged user and rejects one row.
const planSheet = `Email,First Name,Display Name,PBX,Contact Center Premium,Contact Center Service Administrator,Send Activation Email
new.one@acme.example,New,New One,paris,TRUE,,
new.two@acme.example,Two,,warsaw,,TRUE,FALSE
hugo.moreau@acme.example,,Hugo M.,,,,
paul.david@acme.example,,,,TRUE,,
yanis.morel@acme.example,,,,,,TRUE
bad@acme.example,,,paris,yes,,
`

// makePlan runs a dry run of sheet as actor that writes its plan to a
// buffer, and returns the plan.
func makePlan(t *testing.T, tn tenant, actor, sheet string, opts func(*importer.Options)) []byte {
	t.Helper()
	var plan bytes.Buffer
	res, err := tn.importSheet(t, actor, sheet, func(o *importer.Options) {
		o.DryRun, o.PlanOut, o.ChunkSize = true, &plan, 2
		if opts != nil {
			opts(o)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.PlanSHA256 == "" || plan.Len() == 0 {
		t.Fatalf("the dry run wrote no plan (%+v)", res)
	}
	return plan.Bytes()
}

func applyPlan(tn tenant, actor string, plan []byte) (importer.Result, error) {
	return importer.Apply(context.Background(), pgimporter.New(store.New(tn.db)), importer.ApplyOptions{
		Plan: bytes.NewReader(plan), PlanName: "the plan", Actor: actor, ChunkSize: 2})
}

// tenantUsers returns every user of the tenant, in email order, without
// their Versions (which name the transactions that wrote them).
func tenantUsers(t *testing.T, tn tenant) []schema.User {
	t.Helper()
	var us []schema.User
	err := store.EachUser(context.Background(), tn.db, tn.org, func(u *schema.User) error {
		v := *u
		v.Version = 0
		us = append(us, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestApplyFromReader: a plan written to a buffer and applied from a
// reader (no file) leaves the users as a plain import of the same sheet
// leaves them (in a second tenant of the same database), with the same
// counts, by another administrator than its author; the batch records both.
func TestApplyFromReader(t *testing.T) {
	ctx := context.Background()
	a := newAcme(t)
	b := addTenant(t, a.db, "beta")
	plan := makePlan(t, a, "jean.martin@acme.example", planSheet, nil)
	if got := tenantUsers(t, a); len(got) != len(tenantUsers(t, b)) {
		t.Fatalf("the dry run changed the users")
	}
	res, err := applyPlan(a, primary, plan)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := b.importSheet(t, "jean.martin@acme.example", planSheet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || res.Created != 2 || res.Updated != 2 || res.Rejected != 1 || res.Activations != plain.Activations || res.Rows != 6 {
		t.Errorf("apply: %+v\nplain import: %+v", res, plain)
	}
	// The Version of a user is its state's number in the database, which
	// two tenants of one database never share: the rest must match.
	if planned, imported := tenantUsers(t, a), tenantUsers(t, b); !slices.Equal(planned, imported) {
		t.Errorf("users after the plan:\n%v\nafter a plain import:\n%v", planned, imported)
	}
	batch, err := store.GetBatch(ctx, a.db, res.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	if batch.Actor != primary || batch.PlanActor.String != "jean.martin@acme.example" || len(batch.PlanSHA256.String) != 64 || batch.Status != "applied" {
		t.Errorf("batch: actor %q, plan by %q, plan sha256 %q, %s", batch.Actor, batch.PlanActor.String, batch.PlanSHA256.String, batch.Status)
	}
	var queued int
	if err := a.db.Get(&queued, `SELECT count(*) FROM activation_outbox WHERE tenant_id = 'acme' AND batch_id = $1`, res.BatchID); err != nil {
		t.Fatal(err)
	}
	if queued != plain.Activations {
		t.Errorf("the plan queued %d activation emails, the plain import %d", queued, plain.Activations)
	}
}

// TestApplyRefused: every refusal applies nothing and says why, with data.
func TestApplyRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, tn tenant, plan []byte) []byte // between plan and apply
		actor  string
		check  func(t *testing.T, err error)
	}{
		{"applied twice", func(t *testing.T, tn tenant, plan []byte) []byte {
			if _, err := applyPlan(tn, primary, plan); err != nil {
				t.Fatal(err)
			}
			return plan
		}, primary, func(t *testing.T, err error) {
			var e *importer.PlanAppliedError
			if !errors.As(err, &e) || e.Batch == 0 || !errors.Is(err, importer.ErrPlanApplied) {
				t.Errorf("err = %v, want a PlanAppliedError naming the batch", err)
			}
		}},
		{"user changed by SQL", func(_ *testing.T, tn tenant, plan []byte) []byte {
			tn.db.MustExec(`UPDATE users SET cc_role = 'Supervisors' WHERE tenant_id = 'acme' AND email = 'paul.david@acme.example'`)
			return plan
		}, primary, func(t *testing.T, err error) {
			var e *importer.PlanDriftError
			if !errors.As(err, &e) || !slices.Equal(e.Changes, []string{"user paul.david@acme.example changed since the plan (CC Role)"}) {
				t.Errorf("err = %v, want a PlanDriftError naming paul.david's CC Role", err)
			}
		}},
		{"user created since", func(t *testing.T, tn tenant, plan []byte) []byte {
			if _, err := tn.importSheet(t, primary, "Email,PBX\nnew.two@acme.example,paris\n", nil); err != nil {
				t.Fatal(err)
			}
			return plan
		}, primary, func(t *testing.T, err error) {
			var e *importer.PlanDriftError
			if !errors.As(err, &e) || !slices.Contains(e.Changes, "user new.two@acme.example was created since the plan") {
				t.Errorf("err = %v, want a PlanDriftError naming new.two", err)
			}
		}},
		{"username taken", func(t *testing.T, tn tenant, plan []byte) []byte {
			if _, err := tn.importSheet(t, primary, "Email,PBX,Username\nother@acme.example,paris,new.one@acme.example\n", nil); err != nil {
				t.Fatal(err)
			}
			return plan
		}, primary, func(t *testing.T, err error) {
			var e *importer.PlanDriftError
			if !errors.As(err, &e) || len(e.Changes) != 1 || !strings.HasPrefix(e.Changes[0], "a username the plan gives was taken since: (Key (tenant_id, pbx, username_key)=(acme, paris, new.one@acme.example) already exists") {
				t.Errorf("err = %v, want a PlanDriftError naming the username", err)
			}
		}},
		{"role changed", func(_ *testing.T, tn tenant, plan []byte) []byte {
			tn.db.MustExec(`UPDATE cc_roles SET permissions = '{view}' WHERE tenant_id = 'acme' AND name = 'Supervisors'`)
			return plan
		}, primary, func(t *testing.T, err error) {
			var e *importer.PlanDriftError
			if !errors.As(err, &e) || !slices.Equal(e.Changes, []string{"CC role Supervisors: the plan saw permissions view,write, now view"}) {
				t.Errorf("err = %v, want a PlanDriftError naming the role", err)
			}
		}},
		{"actor not allowed", nil, "sophie.laurent@acme.example", func(t *testing.T, err error) {
			var fe *schema.FileError
			if !errors.As(err, &fe) || fe.Rule != schema.FActor || !strings.Contains(err.Error(), "new.one@acme.example: creating the user") {
				t.Errorf("err = %v, want F-ACTOR naming the changes", err)
			}
		}},
		{"truncated", func(_ *testing.T, _ tenant, plan []byte) []byte { return plan[:len(plan)-1] }, primary, isPlanFileError},
		{"cut in its data", func(_ *testing.T, _ tenant, plan []byte) []byte { return plan[:len(plan)/2] }, primary, isPlanFileError},
		{"empty", func(_ *testing.T, _ tenant, _ []byte) []byte { return nil }, primary, isPlanFileError},
		{"not a plan", func(_ *testing.T, _ tenant, _ []byte) []byte { return []byte(planSheet) }, primary, isPlanFileError},
		{"data after its end", func(_ *testing.T, _ tenant, plan []byte) []byte { return append(slices.Clone(plan), '\n') }, primary, isPlanFileError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newAcme(t)
			plan := makePlan(t, tn, "jean.martin@acme.example", planSheet, nil)
			if tc.change != nil {
				plan = tc.change(t, tn, plan)
			}
			before := tenantUsers(t, tn)
			res, err := applyPlan(tn, tc.actor, plan)
			tc.check(t, err)
			if res.Applied || !slices.Equal(tenantUsers(t, tn), before) {
				t.Errorf("a refused plan changed the users (applied %v)", res.Applied)
			}
		})
	}
}

func isPlanFileError(t *testing.T, err error) {
	t.Helper()
	var e *importer.PlanFileError
	if !errors.As(err, &e) {
		t.Errorf("err = %v, want a PlanFileError", err)
	}
}

// TestApplyEveryByteSealed: a plan with any one byte changed is refused as
// a bad plan file, whether the byte is in the compressed stream's header,
// its data, its end, or the seal.
func TestApplyEveryByteSealed(t *testing.T) {
	tn := newAcme(t)
	plan := makePlan(t, tn, "jean.martin@acme.example", "Email,Display Name\nhugo.moreau@acme.example,H\n", nil)
	for i := range plan {
		edited := slices.Clone(plan)
		edited[i] ^= 0x01
		_, err := applyPlan(tn, primary, edited)
		var e *importer.PlanFileError
		if !errors.As(err, &e) {
			t.Fatalf("byte %d of %d changed: err = %v, want a PlanFileError", i, len(plan), err)
		}
	}
	if _, err := applyPlan(tn, primary, plan); err != nil {
		t.Fatalf("the plan itself: %v", err)
	}
}

// TestPlanSync: a --sync plan deactivates the members the dry run found,
// and is refused when one of them changed since.
func TestPlanSync(t *testing.T) {
	tn := newAcme(t)
	var listed strings.Builder
	listed.WriteString("Email\n")
	for _, u := range tenantUsers(t, tn) {
		if u.Email != "gabriel.robin@acme.example" {
			listed.WriteString(u.Email + "\n")
		}
	}
	plan := makePlan(t, tn, primary, listed.String(), func(o *importer.Options) { o.Sync = true })
	res, err := applyPlan(tn, "jean.martin@acme.example", plan)
	if err != nil || res.Deactivated != 1 {
		t.Fatalf("apply: %v, %d deactivated", err, res.Deactivated)
	}
	if u := tn.user(t, "gabriel.robin@acme.example"); u.Status != schema.StatusInactive {
		t.Errorf("gabriel.robin is %s", u.Status)
	}
}

// TestPlanOutNeedsDryRun: Options.PlanOut on a real run is refused before
// anything is read.
func TestPlanOutNeedsDryRun(t *testing.T) {
	tn := newAcme(t)
	var plan bytes.Buffer
	_, err := tn.importSheet(t, primary, planSheet, func(o *importer.Options) { o.PlanOut = &plan })
	if err == nil || plan.Len() != 0 {
		t.Fatalf("err = %v, %d bytes of plan", err, plan.Len())
	}
	if u := tn.user(t, "new.one@acme.example"); u != nil {
		t.Error("the run applied the sheet")
	}
}

// TestApplyCopySource: a change that copies another user's privileges
// depends on that user: changed since, the plan is refused, naming it; a
// user the sheet itself creates first is no such dependency.
func TestApplyCopySource(t *testing.T) {
	const sheet = `Email,PBX,Contact Center Service Administrator,CC Role,Copy Privileges From
lead@acme.example,paris,TRUE,Supervisors,
copy.one@acme.example,paris,,,sophie.laurent@acme.example
copy.two@acme.example,paris,,,lead@acme.example
`
	tn := newAcme(t)
	plan := makePlan(t, tn, primary, sheet, nil)
	tn.db.MustExec(`UPDATE users SET cc_role = 'System Default' WHERE tenant_id = 'acme' AND email = 'sophie.laurent@acme.example'`)
	_, err := applyPlan(tn, primary, plan)
	var e *importer.PlanDriftError
	if !errors.As(err, &e) || !slices.Equal(e.Changes, []string{"user sophie.laurent@acme.example, whose privileges row 3 copies, changed since the plan"}) {
		t.Fatalf("err = %v, want a PlanDriftError naming sophie.laurent", err)
	}

	tn = newAcme(t)
	plan = makePlan(t, tn, primary, sheet, nil)
	if _, err := applyPlan(tn, primary, plan); err != nil {
		t.Fatal(err)
	}
	if u := tn.user(t, "copy.two@acme.example"); u == nil || u.AdminRole != schema.RoleCCService || u.CCRole != "Supervisors" {
		t.Errorf("copy.two: %+v", u)
	}
}

// TestPlanOldFormat: a plan of format 1 (whose states were digests of the
// rows) is refused as a plan this ccbulk no longer applies, saying to make
// it again; nothing is applied and no batch is left.
func TestPlanOldFormat(t *testing.T) {
	tn := newAcme(t)
	var plan bytes.Buffer
	gz := gzip.NewWriter(&plan)
	_, _ = gz.Write([]byte(`{"ccbulk_plan":1,"org":"acme","actor":"marie.dubois@acme.example","input":"users.csv","options":{},"org_state":{}}` + "\n" +
		`{"summary":{"items":0}}` + "\n"))
	_ = gz.Close()
	plan.WriteString(`{"hmac":"` + strings.Repeat("0", 64) + "\"}\n")
	before := tenantUsers(t, tn)
	res, err := importer.Apply(context.Background(), pgimporter.New(store.New(tn.db)), importer.ApplyOptions{Plan: &plan, PlanName: "old.plan", Actor: primary})
	var bad *importer.PlanFileError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "old.plan: the plan is of format 1, which an earlier ccbulk wrote") ||
		!strings.Contains(err.Error(), "make the plan again") {
		t.Errorf("err = %v, want a PlanFileError saying the format is old", err)
	}
	if res.Applied || res.BatchID != 0 || !slices.Equal(tenantUsers(t, tn), before) {
		t.Errorf("an old plan was applied (%+v)", res)
	}
}
