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

// ErrNotFound is wrapped by look-ups that find nothing (schema.ErrNotFound,
// also the application layer's: the same value).
var ErrNotFound = schema.ErrNotFound

// ErrExists is wrapped when a create finds the thing already there.
var ErrExists = app.ErrExists

// CreateOrg creates a tenant with its PBXes, the System Default CC role and
// its primary administrator (a member, Full Administrator, Active, on the
// first PBX), in one transaction. An id that differs only in letter case
// from an existing tenant's is refused (ErrExists, naming the existing
// one), as are PBX names that differ only in case from one another.
func CreateOrg(ctx context.Context, db *sqlx.DB, org schema.Org) error {
	if len(org.PBXes) == 0 {
		org.PBXes = []string{schema.DefaultPBXName}
	}
	for _, p := range org.PBXes {
		if problem := schema.CheckName("PBX name", p); problem != "" {
			return errors.New(problem)
		}
	}
	if a, b, found := schema.SameNames(org.PBXes); found {
		if a == b {
			return fmt.Errorf("PBX %q is named twice", a)
		}
		return fmt.Errorf("PBX names %q and %q differ only in letter case; PBX names are unique without regard to letter case: keep one of them", a, b)
	}
	seats := func(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n >= 0} }
	conn, err := db.Connx(ctx)
	if err != nil {
		return Explain(err)
	}
	defer conn.Close()
	return WithTx(ctx, conn, func(tx *sqlx.Tx) error {
		var existing string
		err := tx.GetContext(ctx, &existing, `SELECT id FROM tenants WHERE lower(id) = lower($1)`, org.ID)
		if err == nil {
			return existsAs("organization", org.ID, existing, "organization ids")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Explain(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenants (id, name, premium_seats, standard_seats) VALUES ($1, $2, $3, $4)`,
			org.ID, org.Name, seats(org.PremiumSeats), seats(org.StandardSeats))
		if isUniqueViolation(err, "") {
			return fmt.Errorf("organization %s: %w", org.ID, ErrExists)
		}
		if err != nil {
			return explainCheck(err, "organization id must be lower-case letters, digits, '.', '_' or '-'")
		}
		for i, p := range org.PBXes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pbxes (tenant_id, name, position) VALUES ($1, $2, $3)`, org.ID, p, i); err != nil {
				if isUniqueViolation(err, "") {
					return fmt.Errorf("PBX %q is named twice", p)
				}
				return explainCheck(err, "PBX names cannot be empty")
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ($1, $2, $3)`,
			org.ID, schema.DefaultCCRole, pq.StringArray{"view"}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (tenant_id, email, username, pbx, status, admin_role, cc_role, is_primary)
			VALUES ($1, $2, $2, $3, 'active', 'full', $4, true)`, org.ID, org.PrimaryAdmin, org.PBXes[0], schema.DefaultCCRole)
		return err
	})
}

// existsAs is ErrExists for a name that another differs from only in
// letter case (or equals), naming the one stored.
func existsAs(what, name, existing, plural string) error {
	if existing == name {
		return fmt.Errorf("%s %s: %w", what, name, ErrExists)
	}
	return fmt.Errorf("%s %q: %w as %q, which differs only in letter case; %s are unique without regard to letter case: use %q, or choose another name",
		what, name, ErrExists, existing, plural, existing)
}

// CreateExternal registers an external organization. An id that differs
// only in letter case from a registered one is refused (ErrExists, naming
// the registered one).
func CreateExternal(ctx context.Context, db *sqlx.DB, ext schema.ExternalOrg) error {
	var existing string
	err := sqlx.GetContext(ctx, db, &existing, `SELECT id FROM external_orgs WHERE lower(id) = lower($1)`, ext.ID)
	if err == nil {
		return existsAs("external organization", ext.ID, existing, "external organization ids")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Explain(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO external_orgs (id, name, kind, cc_enabled) VALUES ($1, $2, $3, $4)`,
		ext.ID, ext.Name, ext.Kind, ext.CCEnabled)
	if isUniqueViolation(err, "") {
		return fmt.Errorf("external organization %s: %w", ext.ID, ErrExists)
	}
	return explainCheck(err, "the id must be letters, digits, '.', '_' or '-'")
}

// CreateRole creates a CC role in a tenant (named in any letter case). A
// name that differs only in letter case from a role of the tenant is
// refused (ErrExists, naming the existing role).
func CreateRole(ctx context.Context, db *sqlx.DB, tenant, name string, perms []string) error {
	org, err := LoadOrg(ctx, db, tenant)
	if err != nil {
		return err
	}
	if problem := schema.CheckName("CC role name", name); problem != "" {
		return errors.New(problem)
	}
	var existing string
	err = sqlx.GetContext(ctx, db, &existing, `SELECT name FROM cc_roles WHERE tenant_id = $1 AND lower(name) = lower($2)`, org.ID, name)
	if err == nil {
		return existsAs("CC role of "+org.ID, name, existing, "CC role names")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Explain(err)
	}
	if roles, err := LoadRoles(ctx, db, org.ID); err != nil {
		return err
	} else if same, ok := roles[schema.NameKey(name)]; ok {
		return existsAs("CC role of "+org.ID, name, same, "CC role names")
	}
	_, err = db.ExecContext(ctx, `INSERT INTO cc_roles (tenant_id, name, permissions) VALUES ($1, $2, $3)`,
		org.ID, name, pq.StringArray(perms))
	if isUniqueViolation(err, "") {
		return fmt.Errorf("CC role %q of %s: %w", name, org.ID, ErrExists)
	}
	return explainCheck(err, "role names cannot be empty")
}

func explainCheck(err error, hint string) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23514" {
		return fmt.Errorf("%s (%s)", hint, pqErr.Message)
	}
	return Explain(err)
}

// LoadOrg loads a tenant, named in any letter case, with its PBXes and
// primary administrator. The Org's ID is the id as stored: use it, not the
// name given, from then on.
func LoadOrg(ctx context.Context, q Querier, id string) (schema.Org, error) {
	var row struct {
		ID       string        `db:"id"`
		Name     string        `db:"name"`
		Premium  sql.NullInt64 `db:"premium_seats"`
		Standard sql.NullInt64 `db:"standard_seats"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT id, name, premium_seats, standard_seats FROM tenants WHERE lower(id) = lower($1)`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return schema.Org{}, fmt.Errorf("organization %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return schema.Org{}, Explain(err)
	}
	org := schema.Org{ID: row.ID, Name: row.Name, PremiumSeats: -1, StandardSeats: -1}
	if row.Premium.Valid {
		org.PremiumSeats = int(row.Premium.Int64)
	}
	if row.Standard.Valid {
		org.StandardSeats = int(row.Standard.Int64)
	}
	if err := sqlx.SelectContext(ctx, q, &org.PBXes, `SELECT name FROM pbxes WHERE tenant_id = $1 ORDER BY position, name`, org.ID); err != nil {
		return org, Explain(err)
	}
	if a, b, found := schema.SameNames(org.PBXes); found {
		return org, ambiguous("PBX names of "+org.ID, a, b)
	}
	err = sqlx.GetContext(ctx, q, &org.PrimaryAdmin, `SELECT email FROM users WHERE tenant_id = $1 AND is_primary`, org.ID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return org, Explain(err)
	}
	return org, nil
}

// LoadExternals returns the registered external organizations by
// schema.NameKey of their id. Two ids with one key (which the database's
// unique index, by its own case rules, let through) are an error: a sheet
// naming either would be ambiguous.
func LoadExternals(ctx context.Context, q Querier) (map[string]schema.ExternalOrg, error) {
	var list []schema.ExternalOrg
	if err := sqlx.SelectContext(ctx, q, &list, `SELECT id, name, kind, cc_enabled FROM external_orgs ORDER BY id`); err != nil {
		return nil, Explain(err)
	}
	m := make(map[string]schema.ExternalOrg, len(list))
	for _, e := range list {
		k := schema.NameKey(e.ID)
		if other, ok := m[k]; ok {
			return nil, ambiguous("external organization ids", other.ID, e.ID)
		}
		m[k] = e
	}
	return m, nil
}

// LoadRoles returns the tenant's CC role names by schema.NameKey of the
// name; two names with one key are an error, as in LoadExternals.
func LoadRoles(ctx context.Context, q Querier, tenant string) (map[string]string, error) {
	var names []string
	if err := sqlx.SelectContext(ctx, q, &names, `SELECT name FROM cc_roles WHERE tenant_id = $1 ORDER BY name`, tenant); err != nil {
		return nil, Explain(err)
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		k := schema.NameKey(n)
		if other, ok := m[k]; ok {
			return nil, ambiguous("CC role names of "+tenant, other, n)
		}
		m[k] = n
	}
	return m, nil
}

// ambiguous is the error for two stored names that differ only in letter
// case.
func ambiguous(what, a, b string) error {
	return fmt.Errorf("the %s %q and %q differ only in letter case, so a sheet naming either is ambiguous; rename one of them", what, a, b)
}

// SeatsUsed counts the users of a tenant holding each license.
func SeatsUsed(ctx context.Context, q Querier, tenant string) (premium, standard int, err error) {
	var row struct {
		P int `db:"p"`
		S int `db:"s"`
	}
	err = sqlx.GetContext(ctx, q, &row, `SELECT count(*) FILTER (WHERE premium) AS p, count(*) FILTER (WHERE standard) AS s FROM users WHERE tenant_id = $1`, tenant)
	return row.P, row.S, Explain(err)
}

const userColumns = `email, first_name, last_name, display_name, username, pbx, status,
	coalesce(home_org, '') AS home_org, premium, standard, coalesce(admin_role, '') AS admin_role,
	coalesce(cc_role, '') AS cc_role, is_primary, version`

// GetUser loads one user by (lower-case) email.
func GetUser(ctx context.Context, q Querier, tenant, email string) (schema.User, error) {
	var u schema.User
	err := sqlx.GetContext(ctx, q, &u, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND email = $2`, tenant, email)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s of %s: %w", email, tenant, ErrNotFound)
	}
	return u, Explain(err)
}

// FetchUsers returns the users of a tenant with the given emails, by email.
// Callers pass a chunk of a few thousand emails: one query per chunk.
func FetchUsers(ctx context.Context, q Querier, tenant string, emails []string) (map[string]*schema.User, error) {
	// One index probe per email, joined to the list (see OpenSnapshot: the
	// planner must not be tempted to read the tenant's rows instead).
	rows, err := q.QueryxContext(ctx, `SELECT `+userColumns+`
		FROM unnest($2::text[]) AS k(wanted) JOIN users ON tenant_id = $1 AND email = k.wanted`, tenant, pq.StringArray(emails))
	if err != nil {
		return nil, Explain(err)
	}
	defer rows.Close()
	m := make(map[string]*schema.User, len(emails))
	for rows.Next() {
		u := new(schema.User)
		if err := scanUser(rows, u); err != nil {
			return nil, err
		}
		m[u.Email] = u
	}
	return m, Explain(rows.Err())
}

// FetchUsernameHolders returns the users holding any of the usernames, each
// in its PBX: pbxes[i] and usernames[i] (lower-case) are one key.
func FetchUsernameHolders(ctx context.Context, q Querier, tenant string, pbxes, usernames []string) ([]schema.UsernameHolder, error) {
	var hs []schema.UsernameHolder
	err := sqlx.SelectContext(ctx, q, &hs, `SELECT u.pbx, u.username, u.email
		FROM unnest($2::text[], $3::text[]) AS k(pbx, username_key)
		JOIN users u ON u.tenant_id = $1 AND u.pbx = k.pbx AND u.username_key = k.username_key`,
		tenant, pq.StringArray(pbxes), pq.StringArray(usernames))
	return hs, Explain(err)
}

// CountUsersUpTo counts the users of a tenant, stopping at limit.
func CountUsersUpTo(ctx context.Context, q Querier, tenant string, limit int) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM (SELECT 1 FROM users WHERE tenant_id = $1 LIMIT $2) AS u`, tenant, limit)
	return n, Explain(err)
}

// EachUser calls fn for every user of the tenant in email order, streaming.
func EachUser(ctx context.Context, q Querier, tenant string, fn func(*schema.User) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 ORDER BY email`, tenant)
	return eachScanned(rows, err, fn)
}

// eachScanned calls fn for each user of rows (a query of userColumns that
// returned err), reusing one User, and closes rows.
func eachScanned(rows *sqlx.Rows, err error, fn func(*schema.User) error) error {
	if err != nil {
		return Explain(err)
	}
	defer rows.Close()
	var u schema.User
	for rows.Next() {
		if err := scanUser(rows, &u); err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
	}
	return Explain(rows.Err())
}

// EachUserWhere calls fn for each user of the tenant that f lets through,
// sorted by email. The filter is applied by PostgreSQL, in one constant
// statement whatever the filter.
func EachUserWhere(ctx context.Context, q Querier, tenant string, f schema.UserFilter, fn func(*schema.User) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE tenant_id = $1
		  AND (cardinality($2::text[]) = 0 OR pbx = ANY($2::text[]))
		  AND ($3::text = '' OR status = $3::text)
		  AND (cardinality($4::text[]) = 0 OR admin_role = ANY($4::text[]))
		  AND ($5::text = '' OR cc_role = $5::text)
		ORDER BY email`,
		tenant, pq.StringArray(nonNil(f.PBXes)), f.Status, pq.StringArray(nonNil(f.AdminRoles)), f.CCRole)
	return eachScanned(rows, err, fn)
}

// nonNil returns s, or an empty slice for nil (sent as '{}', not NULL).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// scanUser reads a row of userColumns. It is StructScan without the
// reflection: look-ups and exports read a million users this way.
func scanUser(rows *sqlx.Rows, u *schema.User) error {
	var status, role string
	err := rows.Scan(&u.Email, &u.FirstName, &u.LastName, &u.DisplayName, &u.Username, &u.PBX, &status,
		&u.HomeOrg, &u.Premium, &u.Standard, &role, &u.CCRole, &u.Primary, &u.Version)
	u.Status, u.AdminRole = schema.Status(status), schema.AdminRole(role)
	return err
}
