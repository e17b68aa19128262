package runs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
)

// An apply under way holds a lease on its plan's row (migration 0015): its
// process writes a heartbeat, with the apply's progress, about once a
// second. Any serve process marks failed the applies whose heartbeat is
// older than the lease (Sweep): their process died, PostgreSQL rolled
// their transaction back, so nothing of them was applied and the plan can
// be applied again.

// DefaultLease is how long an apply's heartbeat may be missing before any
// serve process takes it for dead (Service.Lease).
const DefaultLease = 30 * time.Second

// heartbeatEvery is how often an apply under way records its heartbeat
// and progress: at most about once a second, whatever the importer says.
const heartbeatEvery = time.Second

// ServerStoppedMessage is recorded on an apply found running after its
// lease expired.
const ServerStoppedMessage = "the server stopped while it applied the plan (its process ended or lost the database): " +
	"its transaction was rolled back, so nothing of it was applied; apply the plan again"

func (s *Service) lease() time.Duration {
	if s.Lease <= 0 {
		return DefaultLease
	}
	return s.Lease
}

// progress is the latest progress the importer reported to an apply.
type progress struct {
	mu      sync.Mutex
	p       importer.Progress
	started bool  // the importer has reported
	batch   int64 // the batch the apply records, once started
}

func (p *progress) set(v importer.Progress) {
	p.mu.Lock()
	p.p, p.started = v, true
	if v.Batch != 0 {
		p.batch = v.Batch
	}
	p.mu.Unlock()
}

// stage returns the stage, the changes done so far and the apply's batch
// (0 before it started one).
func (p *progress) stage() (stage string, done int, batch int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		return StageQueued, 0, 0
	}
	switch p.p.Phase {
	case StageWriting, StageCommitting:
		return p.p.Phase, p.p.Rows, p.batch
	}
	return StageReading, p.p.Rows, p.batch
}

// heartbeat records the apply's heartbeat and progress on its plan's row
// every heartbeatEvery until stop is called (stop returns once the last
// write has ended). Once the importer has started the apply's batch, the
// batch is linked to the plan, so that the batch list leads to the result
// page while the apply runs. A write that fails is logged; the lease then
// expires unless a later one succeeds.
func (s *Service) heartbeat(ctx context.Context, planID, run string, prog *progress) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			stage, n, batch := prog.stage()
			err := s.DB.PlanApplyBeat(ctx, store.PlanApplyBeatParams{Plan: planID, Run: run, Stage: stage, Done: n, Batch: batch})
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log().Error("recording an apply's heartbeat", "plan", planID, "err", store.Explain(err))
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Sweep marks failed every apply under way whose lease expired
// (ServerStoppedMessage), then the batches left running in the
// organizations where no run holds the lock (as the next run there would:
// store.RunEndedMessage); it returns how many applies it marked. Their
// plans can be applied again.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	swept, err := s.DB.PlanApplySweep(ctx, ServerStoppedMessage, s.lease())
	for _, p := range swept {
		s.log().Warn("an apply's server stopped while it ran: marked failed", "plan", p.ID, "org", p.Tenant)
	}
	n := len(swept)
	if err != nil {
		return n, err
	}
	// A batch is running only while its run holds the organization's
	// lock: one running where nobody holds it was left by a process that
	// died (an apply's, an import's or an undo's, of any front end).
	tenants, err := s.DB.BatchRunningTenants(ctx)
	if err != nil {
		return n, err
	}
	for _, tenant := range tenants {
		if err := s.DB.BatchStaleEnd(ctx, tenant); err != nil {
			return n, err
		}
	}
	return n, nil
}

// KeepSweeping sweeps (Sweep) at once, then every third of the lease,
// until ctx ends. Errors are logged: the next sweep tries again.
func (s *Service) KeepSweeping(ctx context.Context) {
	t := time.NewTicker(s.lease() / 3)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("sweeping applies whose server stopped", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
