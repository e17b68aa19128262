package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/lib/pq"
)

// VersionOrigins looks up, for each user, the batch that wrote its current
// version and what it changed on the user: one query for all of them. It is
// called for the rows of a sheet whose Version is out of date, which are
// few; a batch's audit rows are found through the BRIN index on batch_id.
func VersionOrigins(ctx context.Context, q Querier, tenant string, users []schema.StaleUser) (map[string]schema.VersionOrigin, error) {
	out := make(map[string]schema.VersionOrigin, len(users))
	if len(users) == 0 {
		return out, nil
	}
	emails := make([]string, len(users))
	versions := make([]int64, len(users))
	for i, u := range users {
		emails[i], versions[i] = u.Email, u.Version
	}
	rows, err := q.QueryxContext(ctx, `SELECT k.email, coalesce(b.id, 0), coalesce(b.kind, ''), c.old_values::text, c.new_values::text
		FROM unnest($2::text[], $3::bigint[]) AS k(email, version)
		LEFT JOIN batches b ON b.tenant_id = $1 AND b.xact = k.version
		LEFT JOIN user_changes c ON c.tenant_id = $1 AND c.batch_id = b.id AND c.email = k.email`,
		tenant, pq.StringArray(emails), pq.Int64Array(versions))
	if err != nil {
		return nil, Explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			email, kind      string
			batch            int64
			oldText, newText *string
		)
		if err := rows.Scan(&email, &batch, &kind, &oldText, &newText); err != nil {
			return nil, Explain(err)
		}
		o := out[email]
		o.Batch, o.Kind = batch, kind
		if o.OldValues == nil {
			o.OldValues, o.NewValues = map[string]string{}, map[string]string{}
		}
		for _, v := range []struct {
			text *string
			into map[string]string
		}{{oldText, o.OldValues}, {newText, o.NewValues}} {
			if v.text == nil {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(*v.text), &m); err != nil {
				return nil, fmt.Errorf("the audit trail of batch %d for %s: %w", batch, email, err)
			}
			for k, val := range m {
				if s, ok := val.(string); ok {
					v.into[k] = s
				} else if val != nil {
					v.into[k] = fmt.Sprint(val)
				}
				if !slices.Contains(o.Fields, k) {
					o.Fields = append(o.Fields, k)
				}
			}
		}
		slices.Sort(o.Fields)
		out[email] = o
	}
	return out, Explain(rows.Err())
}
