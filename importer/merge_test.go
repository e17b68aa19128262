package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// An import that merges its staged users in slices, as an XLSX import does
// while it reads, must end exactly as one merge at the end: same verdicts,
// same users, same audit rows, same activation requests in the same order.
func TestMergeInSlicesSameOutcome(t *testing.T) {
	seed := "Email,First Name,Username,PBX,Contact Center Premium,Full Administrator,CC Role,Send Activation Email\n" +
		"ann@acme.example,Ann,ann,paris,TRUE,FALSE,,FALSE\n" +
		"bob@acme.example,Bob,bob,paris,FALSE,FALSE,,FALSE\n" +
		"cyd@acme.example,Cyd,cyd,warsaw,FALSE,TRUE,Supervisors,FALSE\n" +
		"dan@acme.example,Dan,dan,warsaw,TRUE,FALSE,,FALSE\n"
	sheet := "Email,First Name,Username,PBX,Contact Center Premium,Copy Privileges From,Send Activation Email\n" +
		"ann@acme.example,Ann,ann2,,,,\n" + // frees "ann" in paris
		"new1@acme.example,New,n1,paris,TRUE,,\n" + // takes a seat freed later? no: one is left
		"dan@acme.example,,,,FALSE,,\n" + // frees a premium seat
		"new2@acme.example,New,n2,warsaw,TRUE,,\n" + // takes it
		"new3@acme.example,New,n3,warsaw,TRUE,,\n" + // no seat left: R-LIC-CAPACITY
		"bob@acme.example,Bobby,ann,,,,\n" + // takes the username ann freed, chunks later
		"new4@acme.example,New,n2,warsaw,,,\n" + // username taken by an earlier row
		"new5@acme.example,New,n5,paris,,cyd@acme.example,\n" + // copies a database user's role
		"new6@acme.example,New,n6,paris,,new5@acme.example,TRUE\n" + // copies an earlier row's
		"ann@acme.example,Twice,,,,,\n" + // R-DUP-EMAIL
		"cyd@acme.example,Cyd,bob,paris,,,\n" // takes bob's old username in another PBX

	run := func(mergeEvery int) (importer.Result, string) {
		db := newTenant(t, "paris", "warsaw")
		ctx := context.Background()
		if err := store.CreateRole(ctx, db, "acme", "Supervisors", []string{"view"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE tenants SET premium_seats = 3 WHERE id = 'acme'`); err != nil {
			t.Fatal(err)
		}
		runImport(t, db, admin, seed, nil)
		res := runImport(t, db, admin, sheet, func(o *importer.Options) { o.ChunkSize = 2; o.MergeEvery = mergeEvery })
		res.BatchID, res.Report = 0, ""
		return res, dumpState(t, db)
	}
	wantRes, want := run(-1)
	if wantRes.Rejected != 3 || wantRes.Created != 4 {
		t.Fatalf("the sheet no longer tests what it should: %+v", wantRes)
	}
	for _, every := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("every ", every), func(t *testing.T) {
			gotRes, got := run(every)
			if fmt.Sprint(gotRes) != fmt.Sprint(wantRes) {
				t.Errorf("result\n got %+v\nwant %+v", gotRes, wantRes)
			}
			if got != want {
				t.Errorf("state after merging every %d staged users\n got:\n%s\nwant:\n%s", every, got, want)
			}
		})
	}
}

// dumpState renders the users, the audit rows of the last batch and the
// activation requests in their order.
func dumpState(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var b strings.Builder
	var users []schema.User
	if err := db.Select(&users, `SELECT email, first_name, last_name, display_name, username, pbx, status, coalesce(home_org, '') AS home_org,
		premium, standard, coalesce(admin_role, '') AS admin_role, coalesce(cc_role, '') AS cc_role, is_primary FROM users ORDER BY email`); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "%+v\n", u)
	}
	var changes []struct {
		Email, Field string
		Old, New     *string
	}
	if err := db.Select(&changes, `SELECT email, field, old_value AS old, new_value AS new FROM changes
		WHERE batch_id = (SELECT max(batch_id) FROM changes) ORDER BY email, field`); err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return "NULL"
		}
		return *p
	}
	for _, c := range changes {
		fmt.Fprintf(&b, "change %s %s %s -> %s\n", c.Email, c.Field, str(c.Old), str(c.New))
	}
	var outbox []string
	if err := db.Select(&outbox, `SELECT email FROM activation_outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "outbox %v\n", outbox)
	return b.String()
}
