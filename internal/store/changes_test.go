package store_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// TestHistoryReaders: RecentBatches gives the newest first, at most limit
// (0: all); EachChange gives a batch's audit rows of its own tenant in
// email order, with NULL old or new values read as created or deleted;
// EachChangeWithHome adds the user's home organization now; EachActivation
// gives the batch's requests, sent or not; an error of the callback stops
// the reading and comes back as it is.
func TestHistoryReaders(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`)
	exec(`INSERT INTO external_orgs (id, name, kind) VALUES ('contoso', 'Contoso', 'other')`)
	exec(`INSERT INTO pbxes (tenant_id, name, position) VALUES ('acme', 'paris', 0)`)
	var ids []int64
	for _, tenant := range []string{"acme", "acme", "globex", "acme"} {
		b := &schema.Batch{Tenant: tenant, Kind: "import", Actor: "a@x.example", Mode: "apply"}
		if err := store.StartBatch(ctx, db, b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	for _, tc := range []struct {
		limit int
		want  []int64
	}{{0, []int64{ids[3], ids[1], ids[0]}}, {2, []int64{ids[3], ids[1]}}, {5, []int64{ids[3], ids[1], ids[0]}}} {
		bs, err := store.RecentBatches(ctx, db, "acme", tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, b := range bs {
			got = append(got, b.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RecentBatches limit %d: %v, want %v", tc.limit, got, tc.want)
		}
	}

	exec(`INSERT INTO users (tenant_id, email, username, pbx, home_org) VALUES ('acme', 'b@x.example', 'b', 'paris', 'contoso')`)
	exec(`INSERT INTO user_changes (tenant_id, batch_id, email, old_values, new_values) VALUES
		('acme', $1, 'c@x.example', '{"first_name":"C"}', NULL),
		('acme', $1, 'a@x.example', NULL, '{"first_name":"A","premium":"true"}'),
		('acme', $1, 'b@x.example', '{"status":"active"}', '{"status":"inactive"}'),
		('globex', $2, 'z@x.example', NULL, '{"first_name":"Z"}')`, ids[0], ids[2])
	var got []schema.UserChange
	collect := func(c schema.UserChange) error { got = append(got, c); return nil }
	if err := store.EachChangeWithHome(ctx, db, "acme", ids[0], collect); err != nil {
		t.Fatal(err)
	}
	want := []schema.UserChange{
		{Email: "a@x.example", Created: true, Old: map[string]string{}, New: map[string]string{"first_name": "A", "premium": "true"}},
		{Email: "b@x.example", Old: map[string]string{"status": "active"}, New: map[string]string{"status": "inactive"}, HomeNow: "contoso"},
		{Email: "c@x.example", Deleted: true, Old: map[string]string{"first_name": "C"}, New: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EachChangeWithHome:\n got %+v\nwant %+v", got, want)
	}
	got = nil
	if err := store.EachChange(ctx, db, "acme", ids[2], collect); err != nil || len(got) != 0 {
		t.Errorf("EachChange of another tenant's batch: %+v, %v", got, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := store.EachChange(ctx, db, "acme", ids[0], func(schema.UserChange) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachChange stopped by its callback: %v after %d rows", err, n)
	}

	exec(`INSERT INTO activation_outbox (tenant_id, email, batch_id, sent_at) VALUES
		('acme', 'b@x.example', $1, NULL), ('acme', 'a@x.example', $1, '2026-11-30 04:12:00+00')`, ids[0])
	var acts []schema.Activation
	if err := store.EachActivation(ctx, db, "acme", ids[0], func(a schema.Activation) error { acts = append(acts, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Email != "a@x.example" || !acts[0].SentAt.Valid || acts[0].SentAt.Time.Hour() != 4 ||
		acts[1].Email != "b@x.example" || acts[1].SentAt.Valid {
		t.Errorf("EachActivation: %+v", acts)
	}
	var emails []string
	if err := store.EachWithdrawal(ctx, db, "acme", ids[0], func(e string) error { emails = append(emails, e); return nil }); err != nil || !reflect.DeepEqual(emails, []string{"b@x.example"}) {
		t.Errorf("EachWithdrawal: %v (%v), want b@x.example", emails, err)
	}
	withdraw, sent, err := store.PendingActivations(ctx, db, "acme", ids[0])
	if err != nil || withdraw != 1 || sent != 1 {
		t.Errorf("PendingActivations: %d to withdraw, %d sent (%v); want 1, 1", withdraw, sent, err)
	}
}
