package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/schema"
)

// LockUserStates returns the states (see schema.UserState) of the users of a
// tenant with the given emails, by email, and locks their rows until the
// transaction ends (FOR UPDATE): what an apply checks is what it then
// writes over. A user that does not exist is not in the map. Only the key
// and the version are read: an apply fetches the rows of the few users
// that moved (FetchUsers), to say what changed.
func LockUserStates(ctx context.Context, tx *sqlx.Tx, tenant string, emails []string) (map[string]string, error) {
	rows, err := tx.QueryxContext(ctx, `SELECT u.email, u.version
		FROM users u WHERE u.tenant_id = $1 AND u.email = ANY($2::text[])
		ORDER BY u.email FOR UPDATE OF u`, tenant, pq.StringArray(emails))
	if err != nil {
		return nil, Explain(err)
	}
	defer rows.Close()
	m := make(map[string]string, len(emails))
	var u schema.User
	for rows.Next() {
		if err := rows.Scan(&u.Email, &u.Version); err != nil {
			return nil, Explain(err)
		}
		m[u.Email] = schema.UserState(&u)
	}
	return m, Explain(rows.Err())
}

// EachMissing calls fn, in email order, for each user SyncCandidates left in
// ccbulk_missing (the members a --sync would deactivate), with the user's
// row (with its version: see UserState) as it is before Deactivate changes
// it.
func EachMissing(ctx context.Context, q Querier, tenant string, fn func(u *schema.User) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT `+userColumns+`
		FROM users u WHERE u.tenant_id = $1 AND u.email IN (SELECT m.email FROM ccbulk_missing m)
		AND u.status = 'active' AND u.home_org IS NULL AND NOT u.is_primary
		ORDER BY u.email`, tenant)
	if err != nil {
		return Explain(err)
	}
	defer rows.Close()
	var u schema.User
	for rows.Next() {
		var status, role string
		if err := rows.Scan(&u.Email, &u.FirstName, &u.LastName, &u.DisplayName, &u.Username, &u.PBX, &status,
			&u.HomeOrg, &u.Premium, &u.Standard, &role, &u.CCRole, &u.Primary, &u.Version); err != nil {
			return Explain(err)
		}
		u.Status, u.AdminRole = schema.Status(status), schema.AdminRole(role)
		if err := fn(&u); err != nil {
			return err
		}
	}
	return Explain(rows.Err())
}

// StageDeactivations fills ccbulk_missing, the table Deactivate reads, with
// the emails a saved plan deactivates, on conn, the connection of the
// batch's transaction (the table goes with it).
func StageDeactivations(ctx context.Context, conn *sqlx.Conn, emails []string) error {
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE ccbulk_missing (email text COLLATE "C" NOT NULL) ON COMMIT DROP`); err != nil {
		return Explain(err)
	}
	err := copyRows(ctx, conn, pq.CopyIn("ccbulk_missing", "email"), len(emails), func(l *copyLine, i int) error {
		l.Text(emails[i])
		return nil
	})
	return Explain(err)
}

// PlanKeySize is the size of the installation's key for saved plans.
const PlanKeySize = 32

// PlanKey returns the installation's key for saved plans (migration 0011),
// creating it on first use: a random key inserted if none is there yet, so
// that two first plans made at once agree on the one that won.
func PlanKey(ctx context.Context, db *sqlx.DB) ([]byte, error) {
	var key []byte
	err := sqlx.GetContext(ctx, db, &key, `SELECT key FROM plan_key`)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, Explain(err)
	}
	fresh := make([]byte, PlanKeySize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("making the key for saved plans: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO plan_key (key) VALUES ($1) ON CONFLICT (one) DO NOTHING`, fresh); err != nil {
		return nil, Explain(err)
	}
	err = sqlx.GetContext(ctx, db, &key, `SELECT key FROM plan_key`)
	return key, Explain(err)
}

// PlanAppliedBy returns the applied batch of the tenant that applied the
// plan with this SHA-256, or 0 when none did.
func PlanAppliedBy(ctx context.Context, q Querier, tenant, sha string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM batches WHERE tenant_id = $1 AND plan_sha256 = $2 AND status = 'applied'`, tenant, sha)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, Explain(err)
}

// RecordPlan records on a running batch the plan it applies: the plan's
// author and, once the whole plan has been read, its SHA-256 ("" leaves it
// unset).
func RecordPlan(ctx context.Context, q Querier, tenant string, batch int64, author, sha string) error {
	_, err := q.ExecContext(ctx, `UPDATE batches SET plan_actor = $3, plan_sha256 = coalesce(nullif($4, ''), plan_sha256)
		WHERE tenant_id = $1 AND id = $2`, tenant, batch, author, sha)
	if isUniqueViolation(err, "batches_plan_applied_once") {
		return ErrPlanApplied
	}
	return Explain(err)
}

// ErrPlanApplied is returned when the database refuses a second applied
// batch of one plan (schema.ErrPlanApplied).
var ErrPlanApplied = schema.ErrPlanApplied

// LoadOrgState reads a tenant's OrgState.
func LoadOrgState(ctx context.Context, q Querier, tenant string) (schema.OrgState, error) {
	s, err := OrgStateWithSeatsUsed(ctx, q, tenant, 0, 0)
	if err != nil {
		return s, err
	}
	s.PremiumUsed, s.StandardUsed, err = SeatsUsed(ctx, q, tenant)
	return s, err
}

// OrgStateWithSeatsUsed reads a tenant's OrgState but for the seats in use
// per tier, which the caller counted already and gives (a dry run: those
// its rules count from). Counting them reads every user of the tenant.
func OrgStateWithSeatsUsed(ctx context.Context, q Querier, tenant string, premiumUsed, standardUsed int) (schema.OrgState, error) {
	org, err := LoadOrg(ctx, q, tenant)
	if err != nil {
		return schema.OrgState{}, err
	}
	s := schema.OrgState{PremiumSeats: org.PremiumSeats, StandardSeats: org.StandardSeats, PBXes: org.PBXes, Roles: map[string]string{},
		PremiumUsed: premiumUsed, StandardUsed: standardUsed}
	rows, err := q.QueryxContext(ctx, `SELECT name, array_to_string(ARRAY(SELECT p FROM unnest(permissions) AS p ORDER BY p), ',')
		FROM cc_roles WHERE tenant_id = $1`, org.ID)
	if err != nil {
		return s, Explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, perms string
		if err := rows.Scan(&name, &perms); err != nil {
			return s, Explain(err)
		}
		s.Roles[name] = perms
	}
	return s, Explain(rows.Err())
}

// ErrUsernameTaken is wrapped when a username a batch gives is held by
// another user (schema.ErrUsernameTaken).
var ErrUsernameTaken = schema.ErrUsernameTaken

// CheckUsernames checks now, inside the batch's transaction, the uniqueness
// of usernames per PBX that CreateStaging deferred to the commit, so that
// a username taken since a plan was made is told as such (ErrUsernameTaken,
// with the key) rather than as a failed commit. The transaction cannot go
// on after an error.
func CheckUsernames(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `SET CONSTRAINTS users_username_per_pbx IMMEDIATE`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "users_username_per_pbx" {
		return fmt.Errorf("%w (%s)", ErrUsernameTaken, strings.TrimSuffix(pqErr.Detail, "."))
	}
	return Explain(err)
}
