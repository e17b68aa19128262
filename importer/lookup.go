package importer

import (
	"cmp"
	"context"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// readWhole returns every user of the organization as the rules' snapshot
// when there are at most Options.ReadWhole of them, and nil otherwise (the
// chunks are then looked up one by one).
func (r *run) readWhole(ctx context.Context, q Queries) (*rules.Snapshot, error) {
	limit := cmp.Or(r.opts.ReadWhole, DefaultReadWhole)
	if limit < 0 {
		return nil, nil
	}
	n, err := q.UserCountUpTo(ctx, r.env.Org.ID, limit+1)
	if err != nil || n > limit {
		return nil, err
	}
	snap := &rules.Snapshot{Users: make(map[string]*schema.User, n), Usernames: make(map[rules.UsernameKey]string, n)}
	err = q.UserEach(ctx, r.env.Org.ID, func(u *schema.User) error {
		kept := *u // EachUser reuses u
		snap.Users[kept.Email] = &kept
		snap.Usernames[rules.KeyOf(kept.PBX, kept.Username)] = kept.Email
		return nil
	})
	return snap, err
}

// snapshot fetches the users a chunk names and the holders of the
// usernames it would take.
func (r *run) snapshot(ctx context.Context, q Queries, chunk []chunkRow) (*rules.Snapshot, error) {
	emails := make([]string, 0, len(chunk)+8)
	for i := range chunk {
		in := &chunk[i].in
		if in.Email != "" {
			emails = append(emails, in.Email)
		}
		if in.CopyFrom.Set {
			emails = append(emails, in.CopyFrom.V)
		}
	}
	users, err := q.UserFetchByEmails(ctx, r.env.Org.ID, emails)
	if err != nil {
		return nil, err
	}
	var pbxes, names []string
	for i := range chunk {
		in := &chunk[i].in
		if in.Email == "" {
			continue
		}
		before := users[in.Email]
		pbx, name, _ := rules.Placement(r.env, *in, before)
		if rules.KeepsUsername(before, pbx, name) {
			continue // the user keeps the username: R-USERNAME has nothing to check
		}
		if pbx != "" {
			pbxes = append(pbxes, pbx)
			names = append(names, strings.ToLower(name))
		}
	}
	holders, err := q.UsernameHolderFetch(ctx, schema.UsernameHolderParams{Tenant: r.env.Org.ID, PBXes: pbxes, Usernames: names})
	if err != nil {
		return nil, err
	}
	snap := &rules.Snapshot{Users: users, Usernames: make(map[rules.UsernameKey]string, len(holders))}
	for _, h := range holders {
		snap.Usernames[rules.KeyOf(h.PBX, h.Username)] = h.Email
	}
	return snap, nil
}
