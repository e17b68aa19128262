package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/schema"
)

// Admin implements app.Store on a database (DB.Admin).
type Admin struct {
	Queries // the history of batches (BatchListRecent, BatchGet, ChangeEach …)
	db      *sqlx.DB
}

var _ app.Store = Admin{}

// SchemaCheck implements app.Store.
func (a Admin) SchemaCheck(ctx context.Context) error { return CheckSchema(ctx, a.db) }

// OrgCreate implements app.Store.
func (a Admin) OrgCreate(ctx context.Context, org schema.Org) error {
	return CreateOrg(ctx, a.db, org)
}

// OrgGet implements app.Store.
func (a Admin) OrgGet(ctx context.Context, id string) (schema.Org, error) {
	id, err := tenantID(ctx, a.db, id)
	if err != nil {
		return schema.Org{}, err
	}
	org, err := LoadOrg(ctx, a.db, id)
	return org, err
}

// ExternalCreate implements app.Store.
func (a Admin) ExternalCreate(ctx context.Context, ext schema.ExternalOrg) error {
	return CreateExternal(ctx, a.db, ext)
}

// RoleCreate implements app.Store.
func (a Admin) RoleCreate(ctx context.Context, tenant string, role schema.CCRole) error {
	return CreateRole(ctx, a.db, tenant, role.Name, role.Permissions)
}

// OrgList implements app.Store.
func (a Admin) OrgList(ctx context.Context) ([]schema.Org, error) {
	var rows []struct {
		ID       string         `db:"id"`
		Name     string         `db:"name"`
		Premium  sql.NullInt64  `db:"premium_seats"`
		Standard sql.NullInt64  `db:"standard_seats"`
		PBXes    pq.StringArray `db:"pbxes"`
		Primary  string         `db:"primary_admin"`
	}
	err := a.db.SelectContext(ctx, &rows, `SELECT t.id, t.name, t.premium_seats, t.standard_seats,
			coalesce((SELECT array_agg(p.name ORDER BY p.position, p.name) FROM pbxes p WHERE p.tenant_id = t.id), '{}') AS pbxes,
			coalesce((SELECT u.email FROM users u WHERE u.tenant_id = t.id AND u.is_primary), '') AS primary_admin
		FROM tenants t ORDER BY t.id`)
	if err != nil {
		return nil, Explain(err)
	}
	orgs := make([]schema.Org, len(rows))
	for i, r := range rows {
		orgs[i] = schema.Org{ID: r.ID, Name: r.Name, PBXes: r.PBXes, PremiumSeats: seatsOf(r.Premium),
			StandardSeats: seatsOf(r.Standard), PrimaryAdmin: r.Primary}
	}
	return orgs, nil
}

func seatsOf(n sql.NullInt64) int {
	if !n.Valid {
		return -1
	}
	return int(n.Int64)
}

func nullSeats(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n >= 0} }

// lockedTx runs fn in a transaction that holds the tenant's lock, the one
// an import, apply or undo holds for its whole run: a change to the
// organization never races a run. When a run holds it, it returns a
// *LockedError at once.
func (a Admin) lockedTx(ctx context.Context, tenant string, fn func(tx *sqlx.Tx) error) error {
	conn, err := a.db.Connx(ctx)
	if err != nil {
		return Explain(err)
	}
	defer conn.Close()
	return WithTx(ctx, conn, func(tx *sqlx.Tx) error {
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT pg_try_advisory_xact_lock(hashtextextended('ccbulk:' || $1, 0))`, tenant); err != nil {
			return Explain(err)
		}
		if !ok {
			var id sql.NullInt64
			if err := tx.GetContext(ctx, &id, `SELECT max(id) FROM batches WHERE tenant_id = $1 AND status = 'running'`, tenant); err != nil {
				return Explain(err)
			}
			return &LockedError{Tenant: tenant, Batch: id.Int64}
		}
		return fn(tx)
	})
}

// tenantID returns the stored id of the tenant named id in any letter case.
func tenantID(ctx context.Context, q Querier, id string) (string, error) {
	var stored string
	err := sqlx.GetContext(ctx, q, &stored, `SELECT id FROM tenants WHERE lower(id) = lower($1)`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", &app.NotFoundError{What: "organization", Name: id}
	}
	return stored, Explain(err)
}

// OrgUpdate implements app.Store.
func (a Admin) OrgUpdate(ctx context.Context, p app.OrgUpdateParams) (schema.Org, error) {
	tenant, err := tenantID(ctx, a.db, p.ID)
	if err != nil {
		return schema.Org{}, err
	}
	err = a.lockedTx(ctx, tenant, func(tx *sqlx.Tx) error {
		if p.Name != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = $2 WHERE id = $1`, tenant, *p.Name); err != nil {
				return explainCheck(err, "the name cannot be empty")
			}
		}
		if p.PremiumSeats != nil || p.StandardSeats != nil {
			var used struct {
				Premium  int `db:"p"`
				Standard int `db:"s"`
			}
			// The users' rows are read under the tenant's lock: no run
			// changes them until this transaction ends.
			if err := tx.GetContext(ctx, &used, `SELECT count(*) FILTER (WHERE premium) AS p, count(*) FILTER (WHERE standard) AS s FROM users WHERE tenant_id = $1`, tenant); err != nil {
				return Explain(err)
			}
			for _, s := range []struct {
				seats *int
				used  int
				tier  string
			}{{p.PremiumSeats, used.Premium, "Contact Center Premium"}, {p.StandardSeats, used.Standard, "Contact Center Standard"}} {
				if s.seats != nil && *s.seats >= 0 && *s.seats < s.used {
					return &app.SeatsInUseError{Org: tenant, Tier: s.tier, Seats: *s.seats, Used: s.used}
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE tenants SET
					premium_seats = CASE WHEN $2 THEN $3 ELSE premium_seats END,
					standard_seats = CASE WHEN $4 THEN $5 ELSE standard_seats END
				WHERE id = $1`, tenant,
				p.PremiumSeats != nil, nullSeats(deref(p.PremiumSeats)), p.StandardSeats != nil, nullSeats(deref(p.StandardSeats))); err != nil {
				return Explain(err)
			}
		}
		for _, name := range p.AddPBXes {
			var existing string
			err := tx.GetContext(ctx, &existing, `SELECT name FROM pbxes WHERE tenant_id = $1 AND lower(name) = lower($2)`, tenant, name)
			if err == nil {
				return fmt.Errorf("PBX %q of %s: %w (as %q)", name, tenant, app.ErrExists, existing)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return Explain(err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO pbxes (tenant_id, name, position)
				SELECT $1, $2, coalesce(max(position) + 1, 0) FROM pbxes WHERE tenant_id = $1`, tenant, name)
			if isUniqueViolation(err, "") {
				return fmt.Errorf("PBX %q of %s: %w", name, tenant, app.ErrExists)
			}
			if err != nil {
				return explainCheck(err, "PBX names cannot be empty")
			}
		}
		return nil
	})
	if err != nil {
		return schema.Org{}, err
	}
	return a.OrgGet(ctx, tenant)
}

func deref(n *int) int {
	if n == nil {
		return -1
	}
	return *n
}

// OrgPrimarySet implements app.Store.
func (a Admin) OrgPrimarySet(ctx context.Context, tenant, email string) error {
	tenant, err := tenantID(ctx, a.db, tenant)
	if err != nil {
		return err
	}
	return a.lockedTx(ctx, tenant, func(tx *sqlx.Tx) error {
		u, err := GetUser(ctx, tx, tenant, email)
		if errors.Is(err, ErrNotFound) {
			return &app.PrimaryError{Org: tenant, Email: email, Reason: "not a user of " + tenant}
		}
		if err != nil {
			return err
		}
		switch {
		case u.Primary:
			return nil
		case u.HomeOrg != "":
			return &app.PrimaryError{Org: tenant, Email: email, Reason: "an external user (home organization " + u.HomeOrg + "); the primary administrator is a member of the organization"}
		case u.Status != schema.StatusActive:
			return &app.PrimaryError{Org: tenant, Email: email, Reason: "inactive; the primary administrator is active"}
		case u.AdminRole != schema.RoleFull:
			return &app.PrimaryError{Org: tenant, Email: email, Reason: "not a Full Administrator; make them one first (an import with Full Administrator TRUE)"}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET is_primary = false, updated_at = now() WHERE tenant_id = $1 AND is_primary`, tenant); err != nil {
			return Explain(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET is_primary = true, updated_at = now() WHERE tenant_id = $1 AND email = $2`, tenant, u.Email)
		return Explain(err)
	})
}

// OrgUsage implements app.Store.
func (a Admin) OrgUsage(ctx context.Context, tenant string) (app.Usage, error) {
	var u app.Usage
	tenant, err := tenantID(ctx, a.db, tenant)
	if err != nil {
		return u, err
	}
	if u.PremiumUsed, u.StandardUsed, err = SeatsUsed(ctx, a.db, tenant); err != nil {
		return u, err
	}
	rows, err := a.db.QueryxContext(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND admin_role IS NOT NULL ORDER BY email`, tenant)
	err = eachScanned(rows, err, func(user *schema.User) error {
		u.Administrators = append(u.Administrators, *user)
		return nil
	})
	return u, err
}

// RoleList implements app.Store.
func (a Admin) RoleList(ctx context.Context, tenant string) ([]app.RoleInfo, error) {
	tenant, err := tenantID(ctx, a.db, tenant)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Name    string         `db:"name"`
		Perms   pq.StringArray `db:"permissions"`
		Holders int            `db:"holders"`
	}
	err = a.db.SelectContext(ctx, &rows, `SELECT r.name, r.permissions,
			(SELECT count(*) FROM users u WHERE u.tenant_id = r.tenant_id AND u.cc_role = r.name) AS holders
		FROM cc_roles r WHERE r.tenant_id = $1 ORDER BY r.name`, tenant)
	if err != nil {
		return nil, Explain(err)
	}
	roles := make([]app.RoleInfo, len(rows))
	for i, r := range rows {
		roles[i] = app.RoleInfo{CCRole: schema.CCRole{Name: r.Name, Permissions: r.Perms}, Holders: r.Holders}
	}
	return roles, nil
}

// roleName returns the stored name of the tenant's role named name in any
// letter case.
func roleName(ctx context.Context, q Querier, tenant, name string) (string, error) {
	var stored string
	err := sqlx.GetContext(ctx, q, &stored, `SELECT name FROM cc_roles WHERE tenant_id = $1 AND lower(name) = lower($2)`, tenant, name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", &app.NotFoundError{What: "CC role", Name: name, Org: tenant}
	}
	return stored, Explain(err)
}

// RoleUpdate implements app.Store.
func (a Admin) RoleUpdate(ctx context.Context, tenant string, role schema.CCRole) (schema.CCRole, error) {
	tenant, err := tenantID(ctx, a.db, tenant)
	if err != nil {
		return role, err
	}
	err = a.lockedTx(ctx, tenant, func(tx *sqlx.Tx) error {
		if role.Name, err = roleName(ctx, tx, tenant, role.Name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE cc_roles SET permissions = $3 WHERE tenant_id = $1 AND name = $2`, tenant, role.Name, pq.StringArray(role.Permissions))
		return Explain(err)
	})
	return role, err
}

// RoleDelete implements app.Store.
func (a Admin) RoleDelete(ctx context.Context, tenant, name string) (string, error) {
	tenant, err := tenantID(ctx, a.db, tenant)
	if err != nil {
		return name, err
	}
	err = a.lockedTx(ctx, tenant, func(tx *sqlx.Tx) error {
		if name, err = roleName(ctx, tx, tenant, name); err != nil {
			return err
		}
		if name == schema.DefaultCCRole {
			return &app.RoleDefaultError{Org: tenant}
		}
		var holders []string
		if err := tx.SelectContext(ctx, &holders, `SELECT email FROM users WHERE tenant_id = $1 AND cc_role = $2 ORDER BY email`, tenant, name); err != nil {
			return Explain(err)
		}
		if len(holders) > 0 {
			return &app.RoleInUseError{Org: tenant, Role: name, Holders: len(holders), Some: holders[:min(len(holders), 5)]}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM cc_roles WHERE tenant_id = $1 AND name = $2`, tenant, name)
		return Explain(err)
	})
	return name, err
}
