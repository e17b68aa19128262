package importer

import (
	"context"
	"fmt"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// checkVersionOrg is F-ORG for a sheet exported from another organization:
// a row whose Version names another organization stops the run before
// anything is applied.
func (r *run) checkVersionOrg(row int, in *rules.Input) error {
	other, ok := in.OtherOrg(r.env.Org.ID)
	if !ok {
		return nil
	}
	e := &OtherOrgError{Version: in.Version.V, Other: other, Org: r.env.Org.ID}
	return &schema.FileError{Rule: schema.FOrg, File: r.name, Row: row, Column: in.Headers[schema.ColVersion], Message: e.Error(), Err: e}
}

// OtherOrgError is the cause of F-ORG for a sheet exported from another
// organization (Other; Version is the cell that names it) imported into
// Org. Its message names no option: each front end says how to import
// into the other organization.
type OtherOrgError struct{ Version, Other, Org string }

func (e *OtherOrgError) Error() string {
	return fmt.Sprintf("the Version %q names organization %s, but this import is into %s: the sheet was exported from another organization; %s", e.Version, e.Other, e.Org, e.Remedy(""))
}

// Remedy is what to do, with into naming how to import into the other
// organization ("" for none).
func (e *OtherOrgError) Remedy(into string) string {
	if into == "" {
		return "import it into that organization, or clear its Version column to apply it here; nothing was applied"
	}
	return fmt.Sprintf("import it with %s, or clear its Version column to apply it here; nothing was applied", into)
}

// staleOrigins looks up, for the rows of a chunk whose Version is not the
// user's current one (R-STALE), which batch changed the user since and
// what it changed (or that no batch did), for their findings' messages.
// Such rows are few: the other rows cost nothing here.
func (r *run) staleOrigins(ctx context.Context, rows []chunkRow, snap *rules.Snapshot) error {
	var stale []schema.StaleUser
	for i := range rows {
		in := &rows[i].in
		if !in.Version.Set || in.Email == "" {
			continue // nothing to look up: a sheet without Versions costs no map look-up a row
		}
		if u := snap.Users[in.Email]; in.IsStale(u) {
			if _, known := snap.Origins[in.Email]; !known {
				stale = append(stale, schema.StaleUser{Email: in.Email, Version: u.Version})
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	// On a connection of the pool: the batches and the audit trail it
	// reads were committed before this run took the organization's lock.
	origins, err := r.db.VersionOriginFetch(ctx, r.env.Org.ID, stale)
	if err != nil {
		return err
	}
	if snap.Origins == nil {
		snap.Origins = make(map[string]rules.VersionOrigin, len(origins))
	}
	for email, o := range origins {
		snap.Origins[email] = rules.VersionOrigin{Batch: o.Batch, Kind: o.Kind, Fields: o.Fields,
			OldRole: schema.AdminRole(o.OldValues["admin_role"]), NewRole: schema.AdminRole(o.NewValues["admin_role"])}
	}
	return nil
}
