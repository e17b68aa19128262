package exporter

import (
	"context"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// Store is all the exporter reads of the database; internal/store's DB
// (the pool, store.New) implements it.
type Store interface {
	tenant.Store
	// SchemaCheck returns an error when the schema is missing or older
	// than this build.
	SchemaCheck(ctx context.Context) error
	// UserCountUpTo counts the users of a tenant, stopping at limit.
	UserCountUpTo(ctx context.Context, tenant string, limit int) (int, error)
	// UserEachWhere calls fn for every user of a tenant the filter keeps,
	// by email, as they are read.
	UserEachWhere(ctx context.Context, tenant string, f schema.UserFilter, fn func(*schema.User) error) error
}
