package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/schema"
)

// fake is a database as importer.Store sees it, for the faults a real
// PostgreSQL shows only under signals or a broken network: the tenant's
// lock refused, the connection lost at COMMIT, a COPY failing. It holds
// one tenant, acme, whose only user is its Full Administrator, and
// records what the run asked of it.
type fake struct {
	lockErr     error  // TenantLock's answer
	createErr   error  // UserCreate's answer (the writer's COPY)
	commitErr   error  // Commit's answer
	recordErr   error  // BatchFinishIfRunning's (on the connection and on the pool)
	stillRuns   bool   // BatchFinishIfRunning's: the batch was still running
	finalStatus string // BatchStatusGet's

	mu       sync.Mutex
	events   []string
	recorded *schema.Batch // what BatchFinishIfRunning recorded
}

const fakeAdmin = "marie.dubois@acme.example"

func (f *fake) event(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, fmt.Sprintf(format, args...))
}

func (f *fake) saw(event string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e == event {
			return true
		}
	}
	return false
}

// fakeQueries are the queries a run makes on any handle; the embedded
// nil importer.Queries makes any other a test failure (a nil call).
type fakeQueries struct {
	importer.Queries
	f *fake
}

func (q fakeQueries) SchemaCheck(context.Context) error { return nil }

func (q fakeQueries) OrgGet(_ context.Context, id string) (schema.Org, error) {
	if schema.NameKey(id) != "acme" {
		return schema.Org{}, schema.ErrNotFound
	}
	return schema.Org{ID: "acme", Name: "Acme", PBXes: []string{"paris"}, PremiumSeats: -1, StandardSeats: -1, PrimaryAdmin: fakeAdmin}, nil
}

func (q fakeQueries) ExternalGetAll(context.Context) (map[string]schema.ExternalOrg, error) {
	return map[string]schema.ExternalOrg{}, nil
}

func (q fakeQueries) RoleGetAll(context.Context, string) (map[string]string, error) {
	return map[string]string{schema.NameKey("System Default"): "System Default"}, nil
}

func (q fakeQueries) admin() *schema.User {
	return &schema.User{Email: fakeAdmin, FirstName: "Marie", LastName: "Dubois", DisplayName: "Marie Dubois", Username: fakeAdmin,
		PBX: "paris", Status: schema.StatusActive, AdminRole: schema.RoleFull, CCRole: "System Default", Version: 1}
}

func (q fakeQueries) UserGet(_ context.Context, _, email string) (schema.User, error) {
	if email != fakeAdmin {
		return schema.User{}, schema.ErrNotFound
	}
	return *q.admin(), nil
}

func (q fakeQueries) SeatsUsed(context.Context, string) (int, int, error) { return 0, 0, nil }

func (q fakeQueries) UserCountUpTo(context.Context, string, int) (int, error) { return 1, nil }

func (q fakeQueries) UserEach(_ context.Context, _ string, fn func(*schema.User) error) error {
	return fn(q.admin())
}

func (q fakeQueries) BatchStart(_ context.Context, b *schema.Batch) error {
	q.f.event("batch start")
	b.ID = 7
	return nil
}

func (q fakeQueries) BatchFinish(_ context.Context, b *schema.Batch) error {
	q.f.event("batch finish %s", b.Status)
	return nil
}

func (q fakeQueries) BatchFinishIfRunning(_ context.Context, b *schema.Batch) (bool, error) {
	q.f.event("batch record %s", b.Status)
	if q.f.recordErr != nil {
		return false, q.f.recordErr
	}
	if q.f.stillRuns {
		q.f.mu.Lock()
		q.f.recorded = b
		q.f.mu.Unlock()
	}
	return q.f.stillRuns, nil
}

func (q fakeQueries) BatchStatusGet(context.Context, string, int64) (string, error) {
	return q.f.finalStatus, nil
}

type fakeStore struct{ fakeQueries }

func (s fakeStore) PlanKey(context.Context) ([]byte, error) { return []byte("key"), nil }

func (s fakeStore) ConnOpen(context.Context) (importer.Conn, error) {
	return fakeConn(s), nil
}

func (s fakeStore) SnapshotOpen(context.Context) (importer.Snapshot, error) {
	return fakeSnapshot(s), nil
}

type fakeSnapshot struct{ fakeQueries }

func (fakeSnapshot) Close() {}

type fakeConn struct{ fakeQueries }

func (c fakeConn) TenantLock(context.Context, string, time.Duration) error {
	c.f.event("lock")
	return c.f.lockErr
}

func (c fakeConn) TenantUnlock(context.Context, string) error { return nil }

func (c fakeConn) TxBegin(context.Context) (importer.Tx, error) {
	c.f.event("begin")
	return fakeTx(c), nil
}

func (c fakeConn) Close() error { return nil }

type fakeTx struct{ fakeQueries }

func (t fakeTx) Commit() error {
	t.f.event("commit")
	return t.f.commitErr
}

func (t fakeTx) Rollback() error {
	t.f.event("rollback")
	return nil
}

func (t fakeTx) StagingCreate(context.Context) error { return nil }

func (t fakeTx) UserCreate(context.Context, schema.UserCreateParams) error {
	if t.f.createErr != nil {
		return t.f.createErr
	}
	t.f.event("create")
	return nil
}

func (t fakeTx) UserStage(context.Context, []schema.Staged) error { return nil }
func (t fakeTx) ListedStage(context.Context, []string) error      { return nil }
func (t fakeTx) UserMerge(context.Context, string, int64) (int64, error) {
	t.f.event("merge")
	return 0, nil
}

var errNotExpected = errors.New("not expected of an import")

func (t fakeTx) DeactivationStage(context.Context, []string) error { return errNotExpected }
func (t fakeTx) UserDeactivate(context.Context, string, int64) ([]string, error) {
	return nil, errNotExpected
}
func (t fakeTx) UsernameCheck(context.Context) error { return errNotExpected }
func (t fakeTx) UserStateLock(context.Context, string, []string) (map[string]string, error) {
	return nil, errNotExpected
}
func (t fakeTx) UndoApply(context.Context, schema.UndoApplyParams) (schema.UndoCounts, error) {
	return schema.UndoCounts{}, errNotExpected
}

// TestOrchestrationFaults: how a run ends when the database refuses the
// tenant's lock, loses the connection at COMMIT, or fails a write in the
// middle of the batch, through a fake of importer.Store (the faults
// themselves, on a real database and binary, are in internal/cli's
// fault tests).
func TestOrchestrationFaults(t *testing.T) {
	lost := fmt.Errorf("%w (read: connection reset by peer)", schema.ErrConnectionLost)
	atCommit := fmt.Errorf("%w: %w", schema.ErrCommit, lost)
	diskFull := errors.New("could not extend file: No space left on device")
	for _, tc := range []struct {
		name         string
		db           *fake
		wantErr      error  // errors.Is; nil: the run succeeds
		wantSay      string // in the error
		wantExit     int
		applied      bool
		report       bool     // the report stays
		wantEvents   []string // the run asked these of the database
		absentEvents []string // and never these
		recorded     string   // the batch recorded with this status; "" none
		recordedSays string   // its error says
	}{
		{name: "lock refused", db: &fake{lockErr: &schema.LockedError{Tenant: "acme", Batch: 6}},
			wantErr: schema.ErrLocked, wantSay: "batch 6 holds the lock of acme", wantExit: outcome.ExitRefused,
			wantEvents: []string{"lock"}, absentEvents: []string{"batch start", "begin", "create", "commit"}},
		{name: "connection lost at commit, outcome unknown", db: &fake{commitErr: atCommit, recordErr: lost},
			wantErr: schema.ErrConnectionLost, wantSay: "whether it was applied cannot be known", wantExit: outcome.ExitFatal, report: true,
			wantEvents: []string{"create", "merge", "batch finish applied", "commit", "batch record failed"}},
		{name: "connection lost at commit, batch still running", db: &fake{commitErr: atCommit, stillRuns: true},
			wantErr: schema.ErrConnectionLost, wantSay: "nothing of batch 7 was applied", wantExit: outcome.ExitFatal,
			wantEvents: []string{"commit", "batch record failed"}, recorded: "failed", recordedSays: "connection"},
		{name: "connection lost at commit, committed after all", db: &fake{commitErr: atCommit, finalStatus: "applied"},
			applied: true, report: true, wantExit: outcome.ExitOK,
			wantEvents: []string{"commit", "batch record failed"}},
		{name: "writer fails mid-batch", db: &fake{createErr: diskFull, stillRuns: true},
			wantErr: diskFull, wantSay: "No space left on device", wantExit: outcome.ExitFatal,
			wantEvents: []string{"batch start", "begin", "rollback", "batch record failed"}, absentEvents: []string{"merge", "commit"},
			recorded: "failed", recordedSays: "No space left on device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sheet := filepath.Join(dir, "sheet.csv")
			var csv strings.Builder
			csv.WriteString("Email,First Name,Last Name\n")
			for i := range 5 {
				fmt.Fprintf(&csv, "new%d@acme.example,New,User%d\n", i, i)
			}
			csv.WriteString("not-an-email,Bad,Row\n") // rejected: the run has a report
			if err := os.WriteFile(sheet, []byte(csv.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(dir, "report.csv")
			f := tc.db
			res, err := importer.Import(context.Background(), fakeStore{fakeQueries{f: f}},
				importer.Options{File: sheet, Org: "acme", Actor: fakeAdmin, Report: report, ChunkSize: 2})
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Import: %v, want success", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Import: %v, want an error wrapping %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantSay) {
				t.Errorf("error %q does not say %q", err, tc.wantSay)
			}
			if got := outcome.ExitCode(err); got != tc.wantExit {
				t.Errorf("exit code %d, want %d", got, tc.wantExit)
			}
			if res.Applied != tc.applied {
				t.Errorf("Applied = %v, want %v", res.Applied, tc.applied)
			}
			if _, serr := os.Stat(report); (serr == nil) != tc.report {
				t.Errorf("report written: %v, want %v", serr == nil, tc.report)
			}
			for _, e := range tc.wantEvents {
				if !f.saw(e) {
					t.Errorf("the run did not %q; it did %q", e, f.events)
				}
			}
			for _, e := range tc.absentEvents {
				if f.saw(e) {
					t.Errorf("the run did %q; it did %q", e, f.events)
				}
			}
			switch {
			case tc.recorded == "" && f.recorded != nil:
				t.Errorf("batch recorded %s, want none", f.recorded.Status)
			case tc.recorded != "" && f.recorded == nil:
				t.Errorf("batch not recorded, want %s", tc.recorded)
			case tc.recorded != "":
				if f.recorded.Status != tc.recorded || !strings.Contains(f.recorded.Error.String, tc.recordedSays) {
					t.Errorf("batch recorded %s %q, want %s saying %q", f.recorded.Status, f.recorded.Error.String, tc.recorded, tc.recordedSays)
				}
			}
		})
	}
}
