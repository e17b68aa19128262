package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/schema"
)

// batchStore holds one batch; every other method of app.Store is unused.
type batchStore struct {
	app.Store
	batch schema.Batch
}

func (s batchStore) BatchGet(_ context.Context, id int64) (schema.Batch, error) {
	if id != s.batch.ID {
		return schema.Batch{}, schema.ErrNotFound
	}
	return s.batch, nil
}

// TestBatchOfOrganization: a batch is found only through its own
// organization, named in any letter case; another organization's batch and
// a missing one are the same *NotFoundError, so that one organization
// cannot learn which batch ids another has.
func TestBatchOfOrganization(t *testing.T) {
	a := &app.Admin{Store: batchStore{batch: schema.Batch{ID: 7, Tenant: "acme"}}}
	tests := []struct {
		org   string
		id    int64
		found bool
	}{
		{"acme", 7, true},
		{"ACME", 7, true},
		{"globex", 7, false},
		{"acme", 8, false},
	}
	for _, tc := range tests {
		b, err := a.Batch(context.Background(), tc.org, tc.id)
		var nf *app.NotFoundError
		switch {
		case tc.found && (err != nil || b.ID != tc.id):
			t.Errorf("Batch(%q, %d) = %+v, %v; want the batch", tc.org, tc.id, b, err)
		case !tc.found && (!errors.As(err, &nf) || !errors.Is(err, app.ErrNotFound) || b.ID != 0):
			t.Errorf("Batch(%q, %d) = %+v, %v; want a *NotFoundError and no batch", tc.org, tc.id, b, err)
		}
	}
}
