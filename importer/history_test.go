package importer_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// TestUndoPermissions: undo is allowed when the actor could make every
// change the undo makes (docs/REFERENCE.md §3, Who may do what), for each actor kind and kind of batch.
// Checked with dry runs, which check as the real undo does.
func TestUndoPermissions(t *testing.T) {
	tn := newAcme(t)
	sheets := map[string]string{
		"licenses":    "Email,Contact Center Premium\nhugo.moreau@acme.example,TRUE\n",
		"ccs member":  "Email,Contact Center Service Administrator\nyanis.morel@acme.example,TRUE\n",
		"ccs extern":  "Email,Contact Center Service Administrator\nrui.alves@contoso.example,TRUE\n",
		"name":        "Email,First Name\npaul.david@acme.example,Paulo\n",
		"create":      "Email,PBX,Send Activation Email\nnew.user@acme.example,paris,FALSE\n",
		"full admin":  "Email,Full Administrator\nzoe.martinez@acme.example,TRUE\n",
		"revoke ccs":  "Email,Contact Center Service Administrator\nalice.mercier@acme.example,FALSE\n",
		"status only": "Email,Status\ngabriel.robin@acme.example,Inactive\n",
	}
	batches := map[string]int64{}
	for name, csv := range sheets {
		res, err := tn.importSheet(t, primary, csv, nil)
		if err != nil || res.Rejected != 0 || res.BatchID == 0 {
			t.Fatalf("%s: %v %+v", name, err, res.Findings)
		}
		batches[name] = res.BatchID
	}
	// Which batches each actor may undo.
	allowed := map[string][]string{
		primary:                       {"licenses", "ccs member", "ccs extern", "name", "create", "full admin", "revoke ccs", "status only"},
		"tom.baker@northwind.example": {"licenses", "ccs member", "name", "create", "full admin", "revoke ccs", "status only"},
		"olga.berg@contoso.example":   {"licenses", "ccs member", "name", "create", "full admin", "revoke ccs", "status only"},
		"sophie.laurent@acme.example": {"licenses", "ccs member", "ccs extern", "revoke ccs"},
		"ana.silva@contoso.example":   {"licenses", "ccs member", "revoke ccs"},
		"pawel.kowalski@acme.example": {},
		"kasia.lis@northwind.example": {},
	}
	for actor, may := range allowed {
		for name, id := range batches {
			_, err := importer.Undo(context.Background(), pgimporter.New(store.New(tn.db)), importer.UndoOptions{Batch: id, Actor: actor, DryRun: true})
			want := false
			for _, m := range may {
				want = want || m == name
			}
			var fe *schema.FileError
			switch {
			case want && err != nil:
				t.Errorf("%s undoing %q: %v, want allowed", actor, name, err)
			case !want && !(errors.As(err, &fe) && fe.Rule == schema.FActor):
				t.Errorf("%s undoing %q: %v, want F-ACTOR", actor, name, err)
			case !want && !strings.Contains(err.Error(), actor):
				t.Errorf("%s undoing %q: message does not name the actor: %v", actor, name, err)
			}
		}
	}
}

// TestColumns: an audit row shown as the sheet's columns and values.
func TestColumns(t *testing.T) {
	cc := func(change string, col schema.Column, field, old, nw string) importer.ColumnChange {
		return importer.ColumnChange{Email: "a@x", Change: change, Column: col, Field: field, Old: old, New: nw}
	}
	tests := []struct {
		name string
		in   schema.UserChange
		want []importer.ColumnChange
	}{
		{"created", schema.UserChange{Email: "a@x", Created: true, Old: map[string]string{},
			New: map[string]string{"first_name": "Ann", "status": "active", "premium": "true", "admin_role": "cc_service"}},
			[]importer.ColumnChange{
				cc("created", schema.ColFirstName, "first_name", "", "Ann"),
				cc("created", schema.ColStatus, "status", "", "Active"),
				cc("created", schema.ColPremium, "premium", "", "TRUE"),
				cc("created", schema.ColCCServiceAdmin, "admin_role", "", "TRUE"),
			}},
		{"role switch", schema.UserChange{Email: "a@x",
			Old: map[string]string{"admin_role": "cc_service", "standard": "true", "status": "inactive"},
			New: map[string]string{"admin_role": "full", "standard": "false", "status": "active"}},
			[]importer.ColumnChange{
				cc("changed", schema.ColStatus, "status", "Inactive", "Active"),
				cc("changed", schema.ColStandard, "standard", "TRUE", "FALSE"),
				cc("changed", schema.ColFullAdmin, "admin_role", "FALSE", "TRUE"),
				cc("changed", schema.ColCCServiceAdmin, "admin_role", "TRUE", "FALSE"),
			}},
		{"deleted", schema.UserChange{Email: "a@x", Deleted: true, Old: map[string]string{"cc_role": "Supervisors", "home_org": ""}, New: map[string]string{}},
			[]importer.ColumnChange{
				cc("deleted", schema.ColHomeOrg, "home_org", "", ""),
				cc("deleted", schema.ColCCRole, "cc_role", "Supervisors", ""),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := importer.Columns(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Columns:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
