package importer_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
)

// TestSyncLimitListsWho: a --sync over its limit carries who it would have
// deactivated, the first importer.SyncLimitListed in email order, and the
// full count; its message names the first 20 and how many more; a dry run
// refused alike still plans every deactivation.
func TestSyncLimitListsWho(t *testing.T) {
	tn := newAcme(t)
	const extra = importer.SyncLimitListed + 30
	var sheet strings.Builder
	sheet.WriteString("Email,First Name,Last Name,PBX,Status\n")
	for i := range extra {
		fmt.Fprintf(&sheet, "user%03d@acme.example,User,N%d,paris,Active\n", i, i)
	}
	if res, err := tn.importSheet(t, primary, sheet.String(), nil); err != nil || res.Created != extra {
		t.Fatalf("creating %d users: %v %+v", extra, err, res)
	}
	only := "Email\n" + primary + "\n"
	sync := func(dry bool, plan func(importer.PlanItem)) func(*importer.Options) {
		return func(o *importer.Options) {
			o.Sync, o.MaxDeactivate, o.DryRun, o.Plan = true, &importer.MaxDeactivate{N: 10}, dry, plan
		}
	}
	for _, dry := range []bool{false, true} {
		var planned []string
		res, err := tn.importSheet(t, primary, only, sync(dry, func(p importer.PlanItem) {
			if p.Action == "deactivate" {
				planned = append(planned, p.Email)
			}
		}))
		var limit *importer.SyncLimitError
		if !errors.As(err, &limit) {
			t.Fatalf("dry run %v: %v, want a SyncLimitError", dry, err)
		}
		if res.Applied || res.Deactivated != 0 {
			t.Errorf("dry run %v: applied %v, deactivated %d; want nothing", dry, res.Applied, res.Deactivated)
		}
		if limit.Would <= extra || len(limit.Emails) != importer.SyncLimitListed || limit.More() != limit.Would-importer.SyncLimitListed {
			t.Fatalf("dry run %v: would %d, %d emails, %d more; want over %d, %d emails, the rest more",
				dry, limit.Would, len(limit.Emails), limit.More(), extra, importer.SyncLimitListed)
		}
		if !slices.IsSorted(limit.Emails) || slices.Contains(limit.Emails, primary) {
			t.Errorf("dry run %v: emails not in order, or the primary administrator listed: %v", dry, limit.Emails)
		}
		msg := limit.Error()
		if !strings.Contains(msg, limit.Emails[19]) || strings.Contains(msg, limit.Emails[20]) ||
			!strings.HasSuffix(msg, fmt.Sprintf("… and %d more", limit.Would-20)) {
			t.Errorf("dry run %v: message does not name the first 20 and how many more: %s", dry, msg)
		}
		if dry && (len(planned) != limit.Would || !slices.Equal(planned[:importer.SyncLimitListed], limit.Emails)) {
			t.Errorf("dry run: planned %d deactivations, want all %d in email order", len(planned), limit.Would)
		}
		if !dry && len(planned) != 0 {
			t.Errorf("a real run planned %d deactivations", len(planned))
		}
	}
	var active int
	if err := tn.db.Get(&active, `SELECT count(*) FROM users WHERE tenant_id = 'acme' AND status = 'active' AND email LIKE 'user%'`); err != nil || active != extra {
		t.Errorf("%d of the %d users are active after the refused runs (%v)", active, extra, err)
	}
}
