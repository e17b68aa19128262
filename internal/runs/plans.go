package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// States of a plan's apply (migration 0014): "" never applied.
const (
	ApplyRunning = "running"
	ApplyApplied = "applied"
	ApplyRefused = "refused"
	ApplyFailed  = "failed"
)

// Plan is a dry run kept by the server, with the state of its apply
// (ApplyState is "", ApplyRunning, ApplyApplied, ApplyRefused or
// ApplyFailed; ApplyStage one of the Stage constants), its --json result
// and its options decoded.
type Plan struct {
	store.KeptPlanState
	// Result is the dry run's --json object.
	Result outcome.Import
	// Options are the dry run's options as it recorded them.
	Options map[string]any
}

// Stages of an apply under way (Plan.ApplyStage): waiting for a turn or
// the organization's lock, then the importer's phases.
const (
	StageQueued     = "queued"
	StageReading    = "reading"
	StageWriting    = "writing"
	StageCommitting = "committing"
)

// ApplyRunningError refuses to apply a plan whose apply is under way.
type ApplyRunningError struct{ Plan string }

func (e *ApplyRunningError) Error() string {
	return fmt.Sprintf("plan %s is being applied now: wait for its result", e.Plan)
}

// ExitCode is 4: a refusal that changed nothing.
func (e *ApplyRunningError) ExitCode() int { return outcome.ExitRefused }

// GetPlan returns a plan of the organization (a *NotFoundError for a plan
// of another one), after checking that the actor may act there.
func (s *Service) GetPlan(ctx context.Context, org, actor, id string) (Plan, error) {
	if err := s.CheckActor(ctx, org, actor); err != nil {
		return Plan{}, err
	}
	kp, err := s.DB.PlanGet(ctx, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return Plan{}, &NotFoundError{What: fmt.Sprintf("no plan %s in %s", id, org)}
	}
	if err != nil {
		return Plan{}, err
	}
	p := Plan{KeptPlanState: kp.KeptPlanState}
	options, result := kp.Options, kp.Result
	if err := json.Unmarshal(options, &p.Options); err != nil {
		return p, fmt.Errorf("plan %s's options: %w", id, err)
	}
	if err := json.Unmarshal(result, &p.Result); err != nil {
		return p, fmt.Errorf("plan %s's result: %w", id, err)
	}
	return p, nil
}

// claim marks the plan's apply as running, with a lease held by the apply
// run (a new random id), and returns the plan's body: a plan of another
// organization is not found, one applied or being applied is refused
// (409). A plan whose apply was refused or failed may be tried again (it
// is refused again while what changed stays changed).
func (s *Service) claim(ctx context.Context, org, id, actor, run string) ([]byte, error) {
	body, started, err := s.DB.PlanApplyStart(ctx, store.PlanApplyStartParams{Tenant: org, Plan: id, Actor: strings.ToLower(actor), Run: run})
	if err != nil {
		return nil, err
	}
	if started {
		return body, nil
	}
	st, err := s.DB.PlanApplyStateGet(ctx, org, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, &NotFoundError{What: fmt.Sprintf("no plan %s in %s", id, org)}
	case err != nil:
		return nil, err
	case !st.Saved:
		return nil, &BadRequestError{Message: fmt.Sprintf("plan %s holds no changes to apply (a dry run with --atomic and rows rejected keeps none): fix the rows and upload the sheet again", id)}
	case st.State == ApplyApplied:
		return nil, &importer.PlanAppliedError{Plan: "plan " + id, Batch: st.Batch}
	}
	return nil, &ApplyRunningError{Plan: id}
}

// Apply applies a plan of the organization kept by a dry run: exactly its
// changes as one batch (importer.Apply), recorded with its origin, or
// nothing. A plan of another organization is not found (404); a plan
// applied already, being applied, or made before the database moved is
// refused (409, the *importer.PlanDriftError says what changed); an actor
// who may not make its changes gets F-ACTOR (403).
func (s *Service) Apply(ctx context.Context, org, actor, planID string, origin schema.Origin) (Outcome, error) {
	started := time.Now()
	if err := s.CheckActor(ctx, org, actor); err != nil {
		return s.applied(planID, org, importer.Result{Org: org}, started, err), err
	}
	run := newID()
	body, err := s.claim(ctx, org, planID, actor, run)
	if err != nil {
		return s.applied(planID, org, importer.Result{Org: org}, started, err), err
	}
	return s.runApply(ctx, org, actor, planID, run, origin, body, started)
}

// StartApply claims the plan as Apply does, then applies it on a goroutine
// under ctx (the server's, not a request's: the apply goes on when the
// page is closed); its state is kept on the plan's row (GetPlan).
func (s *Service) StartApply(ctx context.Context, org, actor, planID string, origin schema.Origin) error {
	if err := s.CheckActor(ctx, org, actor); err != nil {
		return err
	}
	run := newID()
	body, err := s.claim(ctx, org, planID, actor, run)
	if err != nil {
		return err
	}
	go func() {
		_, _ = s.runApply(ctx, org, actor, planID, run, origin, body, time.Now())
	}()
	return nil
}

// runApply applies a claimed plan and records how it went on its row;
// while it runs, it keeps the lease of its run and records its progress
// (heartbeat).
func (s *Service) runApply(ctx context.Context, org, actor, planID, run string, origin schema.Origin, body []byte, started time.Time) (Outcome, error) {
	res := importer.Result{Org: org}
	prog := &progress{}
	stopBeat := s.heartbeat(context.WithoutCancel(ctx), planID, run, prog)
	release, err := s.turn(ctx)
	if err == nil {
		res, err = importer.Apply(ctx, pgimporter.New(s.DB), importer.ApplyOptions{Plan: bytes.NewReader(body), PlanName: "plan " + planID,
			Actor: actor, Origin: origin, Words: outcome.ServerWords, Log: s.log(), Progress: prog.set})
		release()
	}
	stopBeat()
	state, msg := ApplyApplied, ""
	switch {
	case err == nil && res.Applied:
	case outcome.ExitCode(err) == outcome.ExitRefused || outcome.Rule(err) == schema.FActor:
		state, msg = ApplyRefused, outcome.Message(err)
	default:
		state, msg = ApplyFailed, outcome.Message(err)
		if err == nil {
			msg = "nothing was applied"
		}
	}
	// The batch is kept when the apply was applied or refused (aborted),
	// and linked to the plan then; a failed run's batch is removed. A run
	// whose lease was taken from it (marked failed, and maybe claimed
	// again since) records only that it applied: what happened is true.
	if uerr := s.DB.PlanApplyFinish(context.WithoutCancel(ctx), store.PlanApplyFinishParams{Plan: planID, Run: run, State: state,
		Message: msg, Batch: res.BatchID}); uerr != nil {
		s.log().Error("recording a plan's apply", "plan", planID, "err", uerr)
		err = errors.Join(err, uerr)
	}
	return s.applied(planID, org, res, started, err), err
}

// applied is the Outcome of an apply.
func (s *Service) applied(planID, org string, res importer.Result, started time.Time, err error) Outcome {
	if res.Org == "" {
		res.Org = org
	}
	out := Outcome{Result: res, JSON: outcome.ImportOf(res, outcome.Run{Started: started, Finished: time.Now(), Err: err})}
	out.JSON.Report = nil
	out.PlanID = planID
	return out
}

// PlanChanges returns the changes of a kept plan of the organization whose
// action is action ("" for all), skipping offset of them and returning at
// most limit, with how many there are in all. The plan is read from its
// stored body as it goes (never decoded whole).
func (s *Service) PlanChanges(ctx context.Context, org, planID, action string, offset, limit int) ([]importer.PlanChange, int, error) {
	body, err := s.DB.PlanBodyGet(ctx, org, planID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, &NotFoundError{What: fmt.Sprintf("no plan %s in %s", planID, org)}
	}
	if err != nil || body == nil {
		return nil, 0, err
	}
	var (
		page  []importer.PlanChange
		total int
	)
	_, err = importer.ReadPlan(bytes.NewReader(body), func(c importer.PlanChange) error {
		if action != "" && c.Action != action {
			return nil
		}
		if total >= offset && len(page) < limit {
			page = append(page, c)
		}
		total++
		return nil
	})
	return page, total, err
}

// Deactivations returns who the kept plan's --sync would deactivate (at
// most limit of them) and how many in all.
func (s *Service) Deactivations(ctx context.Context, org, planID string, limit int) ([]string, int, error) {
	cs, n, err := s.PlanChanges(ctx, org, planID, "deactivate", 0, limit)
	emails := make([]string, len(cs))
	for i, c := range cs {
		emails[i] = c.Email
	}
	return emails, n, err
}
