package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// What the server keeps of its runs (migrations 0011, 0014, 0015): the dry
// runs' plans, with the state, lease and progress of their apply, and the
// runs' reports. internal/runs decides; these methods hold its SQL.

// KeptPlan is a dry run kept by the server (a row of plans): what it is
// and where its apply stands, and its options and --json result as the
// dry run stored them (JSON).
type KeptPlan struct {
	KeptPlanState
	Options, Result []byte
}

// KeptPlanState is what a kept dry run is and where its apply stands, as
// the front ends show it.
type KeptPlanState struct {
	ID, Tenant, Actor string
	CreatedAt         time.Time
	// Saved is true when the plan holds changes to apply (an --atomic dry
	// run with rows rejected keeps none).
	Saved  bool
	SHA256 string
	// ApplyState is "", running, applied, refused or failed; ApplyMessage
	// says why it was refused or failed; Batch is the batch that applied
	// it (0: none).
	ApplyState, ApplyMessage string
	Batch                    int64
	HasReport                bool
	// Items is how many changes the plan holds (-1: not known, a plan kept
	// before migration 0015). While the apply runs, ApplyStage is how far
	// it has got (queued, reading, writing, committing) and ApplyDone how
	// many of the changes it has read and checked, as its process last
	// recorded (about once a second).
	Items      int
	ApplyStage string
	ApplyDone  int
}

// PlanGet returns a plan of the tenant (named in any letter case);
// ErrNotFound when there is none.
func (s Queries) PlanGet(ctx context.Context, tenant, id string) (KeptPlan, error) {
	var (
		p                   KeptPlan
		sha, state, message sql.NullString
		batch               sql.NullInt64
		stage               sql.NullString
	)
	err := s.q.QueryRowxContext(ctx, `SELECT p.id, p.tenant_id, p.actor, p.created_at, p.options, coalesce(p.result, '{}'),
		p.body IS NOT NULL, p.sha256, p.apply_state, p.apply_message, p.batch_id,
		EXISTS (SELECT 1 FROM reports r WHERE r.plan_id = p.id),
		coalesce(p.items, -1), p.apply_stage, coalesce(p.apply_done, 0)
		FROM plans p WHERE p.id = $1 AND lower(p.tenant_id) = lower($2)`, id, tenant).Scan(
		&p.ID, &p.Tenant, &p.Actor, &p.CreatedAt, &p.Options, &p.Result, &p.Saved, &sha, &state, &message, &batch, &p.HasReport,
		&p.Items, &stage, &p.ApplyDone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, Explain(err)
	}
	p.SHA256, p.ApplyState, p.ApplyMessage, p.Batch = sha.String, state.String, message.String, batch.Int64
	p.ApplyStage = stage.String
	return p, nil
}

// PlanSaveParams are a dry run to keep. Body, SHA256 and Items are nil
// when the dry run kept no plan to apply.
type PlanSaveParams struct {
	ID, Tenant, Actor string
	Options, Result   []byte // JSON
	Body              []byte
	SHA256            *string
	Items             *int64
}

// PlanSave keeps a dry run in the tenant (named in any letter case).
func (s Queries) PlanSave(ctx context.Context, p PlanSaveParams) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO plans (id, tenant_id, actor, options, result, body, sha256, items)
		SELECT $1, t.id, $3, $4, $5, $6, $7, $8 FROM tenants t WHERE lower(t.id) = lower($2)`,
		p.ID, p.Tenant, p.Actor, p.Options, p.Result, p.Body, p.SHA256, p.Items)
	return Explain(err)
}

// PlanBodyGet returns the saved plan a kept dry run holds (nil when it
// holds none); ErrNotFound when the tenant has no such plan.
func (s Queries) PlanBodyGet(ctx context.Context, tenant, id string) ([]byte, error) {
	var body []byte
	err := s.q.QueryRowxContext(ctx, `SELECT body FROM plans WHERE id = $1 AND lower(tenant_id) = lower($2)`, id, tenant).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, Explain(err)
	}
	return body, nil
}

// PlanApplyStartParams name the plan whose apply starts, who applies it,
// and the apply's run, which holds its lease.
type PlanApplyStartParams struct {
	Tenant, Plan string
	Actor        string
	Run          string
}

// PlanApplyStart marks a plan's apply as running, queued, with a lease
// held by p.Run, and returns the plan's body; started is false (and
// nothing changed) when the tenant has no such plan, or it holds nothing
// to apply, or it was applied or is being applied (PlanApplyStateGet then
// says which). A plan whose apply was refused or failed may start again.
func (s Queries) PlanApplyStart(ctx context.Context, p PlanApplyStartParams) (body []byte, started bool, err error) {
	err = s.q.QueryRowxContext(ctx, `UPDATE plans SET apply_state = 'running', apply_message = NULL, apply_actor = $3,
		apply_run = $4, apply_heartbeat = now(), apply_stage = 'queued', apply_done = 0, batch_id = NULL
		WHERE id = $1 AND lower(tenant_id) = lower($2) AND body IS NOT NULL
		AND (apply_state IS NULL OR apply_state IN ('refused', 'failed')) RETURNING body`, p.Plan, p.Tenant, p.Actor, p.Run).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, Explain(err)
	}
	return body, true, nil
}

// PlanApplyState is where a plan's apply stands.
type PlanApplyState struct {
	Saved bool   // the plan holds changes to apply
	State string // "", running, applied, refused or failed
	Batch int64  // the batch that applied it (0: none)
}

// PlanApplyStateGet returns where the apply of a plan of the tenant
// stands; ErrNotFound when there is no such plan.
func (s Queries) PlanApplyStateGet(ctx context.Context, tenant, id string) (PlanApplyState, error) {
	var (
		st    PlanApplyState
		state sql.NullString
		batch sql.NullInt64
	)
	err := s.q.QueryRowxContext(ctx, `SELECT body IS NOT NULL, apply_state, batch_id FROM plans WHERE id = $1 AND lower(tenant_id) = lower($2)`,
		id, tenant).Scan(&st.Saved, &state, &batch)
	if errors.Is(err, sql.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, Explain(err)
	}
	st.State, st.Batch = state.String, batch.Int64
	return st, nil
}

// PlanApplyBeatParams are an apply's heartbeat: its plan and run, how far
// it has got, and its batch once started (0: not yet).
type PlanApplyBeatParams struct {
	Plan, Run string
	Stage     string
	Done      int
	Batch     int64
}

// PlanApplyBeat records the heartbeat and progress of an apply under way,
// if its run still holds the plan's lease, and links the plan to the
// apply's batch once there is one. Its error is the driver's, not
// explained, so that a cancelled context is told apart.
func (s Queries) PlanApplyBeat(ctx context.Context, p PlanApplyBeatParams) error {
	_, err := s.q.ExecContext(ctx, `UPDATE plans SET apply_heartbeat = now(), apply_stage = $3, apply_done = $4,
		batch_id = coalesce(nullif($5, 0), batch_id)
		WHERE id = $1 AND apply_run = $2 AND apply_state = 'running'`, p.Plan, p.Run, p.Stage, p.Done, p.Batch)
	return err
}

// PlanApplyFinishParams are how an apply ended: its plan and run, its
// state (applied, refused or failed), why ("" for none), and its batch
// (0: none).
type PlanApplyFinishParams struct {
	Plan, Run string
	State     string
	Message   string
	Batch     int64
}

// PlanApplyFinish records how an apply ended and ends its lease. A run
// whose lease was taken from it records only that it applied.
func (s Queries) PlanApplyFinish(ctx context.Context, p PlanApplyFinishParams) error {
	var batch *int64
	if p.Batch != 0 {
		batch = &p.Batch
	}
	_, err := s.q.ExecContext(ctx, `UPDATE plans SET apply_state = $2, apply_message = nullif($3, ''),
		batch_id = (SELECT b.id FROM batches b WHERE b.id = $4), applied_at = CASE WHEN $2 = 'applied' THEN now() END,
		apply_run = NULL, apply_heartbeat = NULL, apply_stage = NULL
		WHERE id = $1 AND (apply_run = $5 OR $2 = 'applied')`, p.Plan, p.State, p.Message, batch, p.Run)
	return Explain(err)
}

// SweptPlan is a plan whose apply a sweep marked failed.
type SweptPlan struct{ ID, Tenant string }

// PlanApplySweep marks failed, with message, every apply under way whose
// heartbeat is older than lease, and returns their plans (those read
// before an error too).
func (s Queries) PlanApplySweep(ctx context.Context, message string, lease time.Duration) ([]SweptPlan, error) {
	rows, err := s.q.QueryxContext(ctx, `UPDATE plans SET apply_state = 'failed', apply_message = $1,
		apply_run = NULL, apply_heartbeat = NULL, apply_stage = NULL
		WHERE apply_state = 'running' AND coalesce(apply_heartbeat, '-infinity') < now() - make_interval(secs => $2)
		RETURNING id, tenant_id`, message, lease.Seconds())
	if err != nil {
		return nil, Explain(err)
	}
	var swept []SweptPlan
	for rows.Next() {
		var p SweptPlan
		if err := rows.Scan(&p.ID, &p.Tenant); err != nil {
			rows.Close()
			return swept, Explain(err)
		}
		swept = append(swept, p)
	}
	if err := rows.Err(); err != nil {
		return swept, Explain(err)
	}
	return swept, nil
}

// BatchRunningTenants returns the tenants with a batch recorded as
// running.
func (s Queries) BatchRunningTenants(ctx context.Context) ([]string, error) {
	var tenants []string
	if err := sqlx.SelectContext(ctx, s.q, &tenants, `SELECT DISTINCT tenant_id FROM batches WHERE status = 'running'`); err != nil {
		return nil, Explain(err)
	}
	return tenants, nil
}

// ReportSaveParams are a run's report to keep: of a kept dry run (Plan)
// or else of a batch (Batch), in its format (csv, xlsx or jsonl).
type ReportSaveParams struct {
	Plan   string
	Batch  int64
	Format string
	Body   []byte
}

// ReportSave keeps a run's report, in the tenant of its plan or batch.
func (s Queries) ReportSave(ctx context.Context, p ReportSaveParams) error {
	var err error
	if p.Plan != "" {
		_, err = s.q.ExecContext(ctx, `INSERT INTO reports (tenant_id, plan_id, format, body) SELECT tenant_id, id, $2, $3 FROM plans WHERE id = $1`,
			p.Plan, p.Format, p.Body)
	} else {
		_, err = s.q.ExecContext(ctx, `INSERT INTO reports (tenant_id, batch_id, format, body) SELECT tenant_id, id, $2, $3 FROM batches WHERE id = $1`,
			p.Batch, p.Format, p.Body)
	}
	return Explain(err)
}

// KeptReport is a run's report kept by the server.
type KeptReport struct {
	Format string // csv, xlsx or jsonl
	Body   []byte
}

// ReportGet returns the report of a batch (ref is its id) or of a kept dry
// run (ref is its plan's id) of the tenant (named in any letter case);
// ErrNotFound when there is none.
func (s Queries) ReportGet(ctx context.Context, tenant, ref string) (KeptReport, error) {
	var r KeptReport
	err := s.q.QueryRowxContext(ctx, `SELECT r.format, r.body FROM reports r
		WHERE lower(r.tenant_id) = lower($1) AND (r.batch_id::text = $2 OR r.plan_id = $2)`, tenant, ref).Scan(&r.Format, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, Explain(err)
	}
	return r, nil
}
