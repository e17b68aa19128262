package outcome

import (
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// TimeLayout is how JSON carries a time: RFC 3339 in UTC.
const TimeLayout = "2006-01-02T15:04:05Z"

// Batch is a batch as 'batches --json', 'batches show --format json' and
// the HTTP API show it. Who ran each batch, from where and with which
// ccbulk are null for batches recorded before ccbulk kept them; error is
// null unless the batch did not apply.
type Batch struct {
	schema.Batch
	UndoOf     *int64  `json:"undo_of"`
	UndoneBy   *int64  `json:"undone_by"`
	StartedAt  string  `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
	// PlanSHA256 and PlanActor: for a batch applied from a saved plan, the
	// plan's SHA-256 and who made it (null otherwise).
	PlanSHA256 *string `json:"plan_sha256"`
	PlanActor  *string `json:"plan_actor"`
	DBUser     *string `json:"db_user"`
	ClientHost *string `json:"client_host"`
	ClientAddr *string `json:"client_addr"`
	Version    *string `json:"version"`
	Error      *string `json:"error"`
}

// BatchOf builds a batch's JSON object.
func BatchOf(b schema.Batch) Batch {
	j := Batch{Batch: b, StartedAt: b.StartedAt.UTC().Format(TimeLayout),
		DBUser: store.NullText(b.DBUser), ClientHost: store.NullText(b.ClientHost), ClientAddr: store.NullText(b.ClientAddr),
		Version: store.NullText(b.Version), Error: store.NullText(b.Error),
		PlanSHA256: store.NullText(b.PlanSHA256), PlanActor: store.NullText(b.PlanActor)}
	if b.UndoOf.Valid {
		j.UndoOf = &b.UndoOf.Int64
	}
	if b.UndoneBy.Valid {
		j.UndoneBy = &b.UndoneBy.Int64
	}
	if b.FinishedAt.Valid {
		s := b.FinishedAt.Time.UTC().Format(TimeLayout)
		j.FinishedAt = &s
	}
	return j
}

// Change is one field a batch changed, as JSON shows it.
type Change struct {
	Email  string  `json:"email"`
	Change string  `json:"change"`
	Column string  `json:"column"`
	Field  string  `json:"field"`
	Old    *string `json:"old"`
	New    *string `json:"new"`
}

// ChangeOf builds a change's JSON object: old is null for a created user,
// new for a deleted one.
func ChangeOf(cc importer.ColumnChange) Change {
	e := Change{Email: cc.Email, Change: cc.Change, Column: cc.Column.Header(), Field: cc.Field}
	if cc.Change != importer.ChangeCreated {
		e.Old = &cc.Old
	}
	if cc.Change != importer.ChangeDeleted {
		e.New = &cc.New
	}
	return e
}

// Activation is an activation email a batch queued, as JSON shows it.
type Activation struct {
	Email  string  `json:"email"`
	Sent   bool    `json:"sent"`
	SentAt *string `json:"sent_at"`
}

// ActivationOf builds an activation email's JSON object.
func ActivationOf(a schema.Activation) Activation {
	e := Activation{Email: a.Email, Sent: a.SentAt.Valid}
	if a.SentAt.Valid {
		s := a.SentAt.Time.UTC().Format(TimeLayout)
		e.SentAt = &s
	}
	return e
}
