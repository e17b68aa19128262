package importer_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/schema"
)

// TestReadPlan: ReadPlan gives a plan's header and its changes in order,
// column by column with the sheet's column names, and stops at fn's error.
func TestReadPlan(t *testing.T) {
	tn := newAcme(t)
	plan := makePlan(t, tn, primary, planSheet, nil)
	var got []string
	info, err := importer.ReadPlan(bytes.NewReader(plan), func(c importer.PlanChange) error {
		var cols []string
		for _, cc := range c.Columns {
			cols = append(cols, fmt.Sprintf("%s=%s", cc.Column.Header(), cc.New))
		}
		got = append(got, fmt.Sprintf("%d %s %s %v [%s]", c.Row, c.Action, c.Email, c.Activation, strings.Join(cols, " ")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Org != "acme" || info.Actor != primary {
		t.Errorf("header: %+v", info)
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{"2 create new.one@acme.example true", "Display Name=New One", schema.ColPremium.Header() + "=TRUE",
		"4 update hugo.moreau@acme.example false [Display Name=Hugo M.]", "6 activate yanis.morel@acme.example true []"} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan's changes lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "bad@acme.example") {
		t.Errorf("a rejected row is among the changes:\n%s", text)
	}
	stop := errors.New("enough")
	n := 0
	_, err = importer.ReadPlan(bytes.NewReader(plan), func(importer.PlanChange) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ReadPlan after fn's error: %v, %d calls", err, n)
	}
	if _, err := importer.ReadPlan(strings.NewReader("Email\n"), func(importer.PlanChange) error { return nil }); err == nil {
		t.Error("ReadPlan read a CSV file as a plan")
	}
}
