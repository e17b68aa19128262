package schema

import (
	"database/sql"
	"slices"
	"strings"
	"time"
)

// This file holds the records that cross the seam between the pipeline and
// the database: the domain types of a run (Batch, its Origin, a user's
// audit row UserChange) and the parameter and result structs of the
// interfaces the importer and the exporter declare (importer.Store,
// exporter.Store), which internal/store implements. They are here, in a
// package other modules may import, so that those interfaces name no type
// of an internal package. Their struct tags are the column names and JSON
// keys internal/store and the front ends use.

// NullString is the type of a Batch's optional text (its error, its plan).
type NullString = sql.NullString

// Activation is an activation request a batch queued.
type Activation struct {
	Email  string
	SentAt sql.NullTime // when it was sent; not Valid while it waits
}

// Batch is one run of import or undo.
type Batch struct {
	ID          int64         `db:"id" json:"id"`
	Tenant      string        `db:"tenant_id" json:"org"`
	Kind        string        `db:"kind" json:"kind"`
	Actor       string        `db:"actor" json:"actor"`
	FileName    string        `db:"file_name" json:"file"`
	FileSHA256  string        `db:"file_sha256" json:"sha256"`
	Mode        string        `db:"mode" json:"mode"`
	UndoOf      sql.NullInt64 `db:"undo_of" json:"-"`
	StartedAt   time.Time     `db:"started_at" json:"started_at"`
	FinishedAt  sql.NullTime  `db:"finished_at" json:"-"`
	Rows        int           `db:"rows" json:"rows"`
	Created     int           `db:"created" json:"created"`
	Updated     int           `db:"updated" json:"updated"`
	Unchanged   int           `db:"unchanged" json:"unchanged"`
	Deactivated int           `db:"deactivated" json:"deactivated"`
	Rejected    int           `db:"rejected" json:"rejected"`
	Warnings    int           `db:"warnings" json:"warnings"`
	Deleted     int           `db:"deleted" json:"deleted"`     // undo: users deleted
	Withdrawn   int           `db:"withdrawn" json:"withdrawn"` // undo: unsent activation requests withdrawn
	Status      string        `db:"status" json:"status"`
	UndoneBy    sql.NullInt64 `db:"undone_by" json:"-"` // the applied undo of this batch

	// Who ran the batch, from where, with which ccbulk (migration 0009;
	// NULL for batches recorded before it). The server records DBUser
	// (the session's login) and ClientAddr itself; ClientHost and Version
	// are what the machine running ccbulk says, filled in when the batch
	// starts.
	DBUser     sql.NullString `db:"db_user" json:"-"`
	ClientAddr sql.NullString `db:"client_addr" json:"-"`
	ClientHost sql.NullString `db:"client_host" json:"-"`
	Version    sql.NullString `db:"ccbulk_version" json:"-"`
	// Error is why a batch that did not apply (aborted, failed) ended.
	Error sql.NullString `db:"error" json:"-"`
	// PlanSHA256 and PlanActor: for a batch that applied a saved plan
	// (migration 0011), the plan file's SHA-256 and the administrator who
	// made the plan (Actor applied it).
	PlanSHA256 sql.NullString `db:"plan_sha256" json:"-"`
	PlanActor  sql.NullString `db:"plan_actor" json:"-"`
	// Origin is where the run came from (migration 0012): its kind
	// ("cli", "api", "web") and reference (a token or session id).
	Origin `json:"-"`
}

// Origin is where a run came from: the command line, the HTTP API (Ref is
// the token's id) or the web pages (Ref is the session's id). The zero
// Origin records nothing (NULL).
type Origin struct {
	Kind string `db:"origin_kind" json:"origin_kind,omitempty"`
	Ref  string `db:"origin_ref" json:"origin_ref,omitempty"`
}

// UserChange is one user's audit row of a batch (migration 0004): the
// fields the batch changed on the user, before and after, as text.
// Created: the batch created the user (Old is empty). Deleted: the batch
// deleted the user (an undo of its creation; New is empty).
type UserChange struct {
	Email            string
	Created, Deleted bool
	Old, New         map[string]string
	// HomeNow is the user's home organization as the users table holds it
	// now ("" for a member, or a user that is gone); only a ChangeEachWithHome
	// of the store fills it in.
	HomeNow string
}

// UsernameHolderParams name usernames in their PBXes: PBXes[i] and
// Usernames[i] (lower-case) are one key.
type UsernameHolderParams struct {
	Tenant    string
	PBXes     []string
	Usernames []string
}

// UsernameHolder is a user holding a username in a PBX.
type UsernameHolder struct {
	PBX      string `db:"pbx"`
	Username string `db:"username"`
	Email    string `db:"email"`
}

// StaleUser names a user and the version its row holds now.
type StaleUser struct {
	Email   string
	Version int64
}

// VersionOrigin says what wrote a user's current version (migration 0010):
// the applied batch whose transaction it is, and the fields that batch
// changed on the user as the audit trail records them, or no batch (Batch
// 0) when the row was last written outside ccbulk's batches.
type VersionOrigin struct {
	Batch int64
	Kind  string // import or undo
	// Fields are the user's fields the batch changed (UserFields
	// names), sorted; OldValues and NewValues hold what the audit trail
	// recorded for each (a created user has no old values).
	Fields               []string
	OldValues, NewValues map[string]string
}

// OrgState is what a plan depends on besides its users: the tenant's seats
// (limits and use; -1: no limit), its PBXes, and its CC roles with their
// permissions.
type OrgState struct {
	PremiumSeats  int               `json:"premium_seats"`
	PremiumUsed   int               `json:"premium_used"`
	StandardSeats int               `json:"standard_seats"`
	StandardUsed  int               `json:"standard_used"`
	PBXes         []string          `json:"pbxes"`
	Roles         map[string]string `json:"roles"` // name → permissions, comma-separated in a fixed order
}

// PlanRecordParams say which saved plan a batch applies.
type PlanRecordParams struct {
	Tenant string
	Batch  int64
	Author string // who made the plan
	SHA256 string // the plan's; "" before it is known to apply
}

// UndoConflictParams name the batch whose undo is checked, and how many
// conflicts to list at most.
type UndoConflictParams struct {
	Tenant string
	Batch  int64
	Limit  int
}

// UndoConflict is a user an undo would reverse whose values differ now
// from those the batch left: Batches lists the later batches whose changes
// to the user stand (the latest batch to set each field that differs, when
// the user holds what it set); Outside says that some difference is no
// batch's (changed outside ccbulk).
type UndoConflict struct {
	Email   string  `json:"email"`
	Batches []int64 `json:"batches"`
	Outside bool    `json:"outside_ccbulk"`
}

// UserCreateParams are new users a batch creates: chunks each in email
// order (SortNewUsers), merged as they are written.
type UserCreateParams struct {
	Tenant string
	Batch  int64
	Users  []NewUsers
}

// Staged is the final state of one user an import creates or changes.
type Staged struct {
	Row            int // the sheet's row: the merge queues activation requests in row order
	User           User
	SendActivation bool
}

// NewUsers are new users of one chunk of the sheet and their order by
// email: the rows themselves are never moved (each holds a dozen strings,
// which the collector would have to follow on every move).
type NewUsers struct {
	rows  []Staged
	order []int32 // indexes of rows in email order
}

// SortNewUsers orders rows by email, as the "C" collation of users.email
// does (bytes).
func SortNewUsers(rows []Staged) NewUsers {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(rows[a].User.Email, rows[b].User.Email) })
	return NewUsers{rows: rows, order: order}
}

// Len is the number of new users.
func (n NewUsers) Len() int { return len(n.rows) }

// At is the i-th new user in email order.
func (n NewUsers) At(i int) *Staged { return &n.rows[n.order[i]] }

// Rows are the new users in the order they were given (not moved by
// SortNewUsers).
func (n NewUsers) Rows() []Staged { return n.rows }

// UndoApplyParams name the batch undone and the undo batch.
type UndoApplyParams struct {
	Tenant string
	Batch  int64 // the batch undone
	Undo   int64 // the undo's own batch
}

// UndoCounts says what an undo did.
type UndoCounts struct {
	Users     int // users the undone batch changed
	Deleted   int // users it created, now deleted
	Recreated int // users it deleted, now re-created
	Restored  int // users whose changed fields were set back
	Withdrawn int // unsent activation requests withdrawn
	Sent      int // activation requests of the batch already sent (cannot be withdrawn)
}

// UserFilter narrows the users an export reads (exporter.Store's
// UserEachWhere); each field left empty
// lets every user through, and the fields that are set must all hold. Names
// are as the database spells them.
type UserFilter struct {
	PBXes      []string // on one of these PBXes
	Status     string   // "active" or "inactive"
	AdminRoles []string // holding one of these admin roles ("full", "cc_service", "readonly")
	CCRole     string   // holding this CC role
}
