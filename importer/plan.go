package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ccbulk/ccbulk/internal/jsontext"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// A saved plan (docs/REFERENCE.md §5, Running it: "Saved plans") is written by a dry run with
// Options.PlanOut and applied by Apply. It is JSON Lines, gzip-compressed,
// followed by one line outside the compressed data, its seal:
//
//	{"ccbulk_plan":1,"org":…,"actor":…,"created_at":…,"input":…,"options":{…},"org_state":{…}}
//	{"row":N,"action":"create","email":…,"after":[…],"activation":bool}
//	{"row":N,"action":"update","email":…,"state":…,"before":[…],"after":[…],"activation":bool,"uses":[{"email":…,"state":…}]}
//	{"row":N,"action":"activate","email":…,"state":…,"before":[…]}
//	{"action":"deactivate","email":…,"state":…,"before":[…]}
//	{"summary":{"items":N,"input_sha256":…,"rows":N,…}}
//	(end of the gzip stream)
//	{"hmac":"…"}
//
// A user is an array of its stored fields in the order of planFields. state
// is the user's state (schema.UserState: its version, which the rules' own
// look-ups read with the user, so the dry run asks nothing more of the
// database for it): the plan applies only while every user it touches
// still has that state, and every user whose privileges a change copies
// (uses: Copy Privileges From a user of the database) still has the state
// the dry run saw. Format 1 recorded a digest of the row as the state; its
// plans are refused (made again, they are format 2). The seal
// is an HMAC-SHA256, keyed with the installation's key (store.PlanKey), of
// every byte of the file before it (the compressed stream, as written), in
// lower-case hex: every byte of a plan is fixed by its content and the key,
// so a plan edited (even re-compressed) or cut short is refused, and the
// plan's SHA-256, of the whole file, names one plan.

// PlanFormat is the version of the plan format this ccbulk writes and reads.
const PlanFormat = 2

// planChunk is how many planned changes share one database query, when the
// plan is written and when it is applied.
const planChunk = 5000

// Plan actions.
const (
	actionCreate     = "create"
	actionUpdate     = "update"
	actionActivate   = "activate"
	actionDeactivate = "deactivate"
)

// planHeader is a plan's first line.
type planHeader struct {
	Format    int             `json:"ccbulk_plan"`
	Org       string          `json:"org"`
	Actor     string          `json:"actor"`
	CreatedAt string          `json:"created_at"`
	Input     string          `json:"input"`
	Options   planOptions     `json:"options"`
	OrgState  schema.OrgState `json:"org_state"`
}

// planOptions are the options of the dry run that made a plan.
type planOptions struct {
	Sync               bool    `json:"sync"`
	Atomic             bool    `json:"atomic"`
	NoActivationEmails bool    `json:"no_activation_emails"`
	MaxDeactivate      string  `json:"max_deactivate"`
	MaxRejected        *string `json:"max_rejected"`
	Mapping            string  `json:"mapping,omitempty"`
	Encoding           string  `json:"encoding,omitempty"`
	Sheet              string  `json:"sheet,omitempty"`
}

// mode is the mode a batch applying the plan records, as the import would.
func (o planOptions) mode() string {
	switch {
	case o.Sync:
		return "sync"
	case o.Atomic:
		return "atomic"
	}
	return "apply"
}

// planSummary is what the dry run counted, on the plan's next-to-last line.
type planSummary struct {
	Items       int    `json:"items"`
	InputSHA256 string `json:"input_sha256"`
	Counts
	Activations    int            `json:"activations"`
	IgnoredColumns []string       `json:"ignored_columns"`
	FindingsByRule map[string]int `json:"findings_by_rule"`
}

// planLine is any line of a plan, as it is read: the header, a planned
// change or the summary.
type planLine struct {
	planHeader
	planItemLine
	Summary *planSummary `json:"summary,omitempty"`
}

// planUse is another user a change was computed from, with its state.
type planUse struct {
	Email string `json:"email"`
	State string `json:"state"`
}

// planItemLine is a planned change as it is written.
type planItemLine struct {
	Row        int       `json:"row,omitempty"`
	Action     string    `json:"action"`
	Email      string    `json:"email"`
	State      string    `json:"state,omitempty"`
	Before     *planUser `json:"before,omitempty"`
	After      *planUser `json:"after,omitempty"`
	Activation bool      `json:"activation,omitempty"`
	Uses       []planUse `json:"uses,omitempty"`
}

// planUser is a user in a plan: its stored fields as one JSON array.
type planUser schema.User

// numPlanFields is how many fields a planUser's array holds.
const numPlanFields = 13

// planFields names the elements of a planUser's array, in order.
var planFields = []string{"email", "first_name", "last_name", "display_name", "username", "pbx", "status",
	"home_org", "premium", "standard", "admin_role", "cc_role", "is_primary"}

func (u *planUser) MarshalJSON() ([]byte, error) { return u.appendJSON(nil), nil }

// appendJSON appends the user's array (see planFields) to b.
func (u *planUser) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, s := range [...]string{u.Email, u.FirstName, u.LastName, u.DisplayName, u.Username, u.PBX, string(u.Status), u.HomeOrg} {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, s)
	}
	b = append(b, ',')
	b = strconv.AppendBool(b, u.Premium)
	b = append(b, ',')
	b = strconv.AppendBool(b, u.Standard)
	b = append(b, ',')
	b = jsontext.AppendString(b, string(u.AdminRole))
	b = append(b, ',')
	b = jsontext.AppendString(b, u.CCRole)
	b = append(b, ',')
	b = strconv.AppendBool(b, u.Primary)
	return append(b, ']')
}

// appendJSON appends the line as encoding/json would write it (without
// its escaping of HTML), by hand: a plan holds a line for every change of a
// sheet, and reflection was a tenth of a dry run's CPU.
func (l *planItemLine) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if l.Row != 0 {
		b = append(b, `"row":`...)
		b = strconv.AppendInt(b, int64(l.Row), 10)
		b = append(b, ',')
	}
	b = append(b, `"action":`...)
	b = jsontext.AppendString(b, l.Action)
	b = append(b, `,"email":`...)
	b = jsontext.AppendString(b, l.Email)
	if l.State != "" {
		b = append(b, `,"state":`...)
		b = jsontext.AppendString(b, l.State)
	}
	if l.Before != nil {
		b = append(b, `,"before":`...)
		b = l.Before.appendJSON(b)
	}
	if l.After != nil {
		b = append(b, `,"after":`...)
		b = l.After.appendJSON(b)
	}
	if l.Activation {
		b = append(b, `,"activation":true`...)
	}
	if len(l.Uses) > 0 {
		b = append(b, `,"uses":[`...)
		for i, u := range l.Uses {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"email":`...)
			b = jsontext.AppendString(b, u.Email)
			b = append(b, `,"state":`...)
			b = jsontext.AppendString(b, u.State)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (u *planUser) UnmarshalJSON(b []byte) error {
	if u.decodeFast(b) {
		return nil
	}
	return u.decodeSlow(b)
}

// decodeSlow decodes a user's array with encoding/json, a value at a time.
func (u *planUser) decodeSlow(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != len(planFields) {
		return fmt.Errorf("a user has %d fields, not %d", len(raw), len(planFields))
	}
	var status, role string
	texts := []*string{&u.Email, &u.FirstName, &u.LastName, &u.DisplayName, &u.Username, &u.PBX, &status,
		&u.HomeOrg, nil, nil, &role, &u.CCRole, nil}
	flags := map[int]*bool{8: &u.Premium, 9: &u.Standard, 12: &u.Primary}
	for i, r := range raw {
		var err error
		if texts[i] != nil {
			err = json.Unmarshal(r, texts[i])
		} else {
			err = json.Unmarshal(r, flags[i])
		}
		if err != nil {
			return fmt.Errorf("a user's %s: %w", planFields[i], err)
		}
	}
	u.Status, u.AdminRole = schema.Status(status), schema.AdminRole(role)
	return nil
}

// decodeFast decodes a user's array as appendJSON writes it: no spaces,
// strings without escapes in valid UTF-8, the flags true or false. For
// such an array it gives what encoding/json gives; anything else (it
// returns false, having set nothing) goes through encoding/json. Applying
// a plan decodes a user or two per change, and encoding/json, a value at a
// time, was most of an apply's CPU.
func (u *planUser) decodeFast(b []byte) bool {
	var texts [numPlanFields]string
	var flags [numPlanFields]bool
	if len(b) < 2 || b[0] != '[' {
		return false
	}
	i := 1
	for f := range planFields {
		if f > 0 {
			if i >= len(b) || b[i] != ',' {
				return false
			}
			i++
		}
		switch f {
		case 8, 9, 12: // premium, standard, is_primary
			switch {
			case bytes.HasPrefix(b[i:], []byte("true")):
				flags[f] = true
				i += 4
			case bytes.HasPrefix(b[i:], []byte("false")):
				i += 5
			default:
				return false
			}
		default:
			if i >= len(b) || b[i] != '"' {
				return false
			}
			end := bytes.IndexByte(b[i+1:], '"')
			if end < 0 {
				return false
			}
			s := b[i+1 : i+1+end]
			if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
				return false
			}
			for _, c := range s {
				if c < 0x20 {
					return false
				}
			}
			texts[f] = string(s)
			i += end + 2
		}
	}
	if i != len(b)-1 || b[i] != ']' {
		return false
	}
	*u = planUser{Email: texts[0], FirstName: texts[1], LastName: texts[2], DisplayName: texts[3], Username: texts[4],
		PBX: texts[5], Status: schema.Status(texts[6]), HomeOrg: texts[7], Premium: flags[8], Standard: flags[9],
		AdminRole: schema.AdminRole(texts[10]), CCRole: texts[11], Primary: flags[12]}
	return true
}

// sealLen is the length of a plan's seal line: {"hmac":"<64 hex digits>"}
// and a newline.
const sealLen = len(`{"hmac":""}`) + 2*sha256.Size + 1

// seal returns the seal line of a plan whose bytes before it have this
// HMAC.
func seal(mac []byte) []byte {
	return []byte(`{"hmac":"` + hex.EncodeToString(mac) + "\"}\n")
}

// planWriter writes a plan as a dry run goes, a change at a time, so the
// plan is never held in memory whatever the size of the sheet. The states
// of the users are those the rules saw (see schema.UserState): writing a
// change asks the database nothing.
type planWriter struct {
	file   *hashWriter   // the plan as written (compressed), hashed
	gz     *gzip.Writer  // compresses into file
	out    *bufio.Writer // buffers into gz
	tenant string
	buf    []byte // a line being written
	items  int
	err    error // the first error; the plan is then abandoned
}

// hashWriter writes to w and hashes what it writes: the SHA-256 of the
// file, and the HMAC that seals it.
type hashWriter struct {
	w        io.Writer
	sha, mac hash.Hash
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.sha.Write(p[:n])
	h.mac.Write(p[:n])
	return n, err
}

// startPlan begins the plan of a dry run when Options.PlanOut is set: the
// installation's key, then the header (the organization, the actor, the
// options and the organization's state as the rules see it).
func (r *run) startPlan(ctx context.Context, db Store) error {
	if r.opts.PlanOut == nil {
		return nil
	}
	// Options.Validate has refused PlanOut without DryRun already.
	key, err := db.PlanKey(ctx)
	if err != nil {
		return err
	}
	// The rules count seats from the environment they were given.
	state, err := db.OrgStateGetSeatsCounted(ctx, r.env.Org.ID, r.env.PremiumUsed, r.env.StandardUsed)
	if err != nil {
		return err
	}
	file := &hashWriter{w: r.opts.PlanOut, sha: sha256.New(), mac: hmac.New(sha256.New, key)}
	gz, err := gzip.NewWriterLevel(file, gzip.BestSpeed)
	if err != nil {
		return err
	}
	p := &planWriter{file: file, gz: gz, out: bufio.NewWriterSize(gz, 64<<10), tenant: r.env.Org.ID}
	o := r.opts
	opts := planOptions{Sync: o.Sync, Atomic: o.Atomic, NoActivationEmails: o.NoActivationEmails,
		MaxDeactivate: o.MaxDeactivate.String(), Encoding: o.Encoding, Sheet: o.Sheet}
	if o.MaxRejected != nil {
		s := o.MaxRejected.String()
		opts.MaxRejected = &s
	}
	if o.Mapping != nil {
		opts.Mapping = o.Mapping.Name
	}
	p.line(planHeader{Format: PlanFormat, Org: r.env.Org.ID, Actor: r.env.Actor.Email,
		CreatedAt: time.Now().UTC().Format(time.RFC3339), Input: r.name, Options: opts, OrgState: state})
	r.planOut = p
	return p.err
}

// line writes one line of the plan.
func (p *planWriter) line(v any) {
	if p.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		p.err = err
		return
	}
	b = append(b, '\n')
	if _, err := p.out.Write(b); err != nil {
		p.err = fmt.Errorf("writing the plan: %w", err)
	}
}

// add writes a planned change of a row; uses is the state of the user
// whose privileges it copies, when that user is in the database ("" for one
// an earlier row of the sheet creates: the plan holds its creation).
func (p *planWriter) add(item PlanItem, uses string) {
	if p.err != nil {
		return
	}
	l := planItemLine{Row: item.Row, Action: item.Action, Email: item.Email, Activation: item.SendActivation}
	if item.Before != nil {
		l.Before = (*planUser)(item.Before)
		l.State = schema.UserState(item.Before)
	}
	if item.Action != actionActivate {
		l.After = (*planUser)(item.After)
	}
	if item.CopiedFrom != "" && uses != "" {
		l.Uses = []planUse{{Email: item.CopiedFrom, State: uses}}
	}
	p.writeItem(&l)
}

// writeItem writes one planned change.
func (p *planWriter) writeItem(l *planItemLine) {
	p.buf = append(l.appendJSON(p.buf[:0]), '\n')
	if _, err := p.out.Write(p.buf); err != nil {
		p.err = fmt.Errorf("writing the plan: %w", err)
	}
	p.items++
}

// planDeactivations writes the deactivations of a --sync dry run, with the
// users as they are before the dry run's Deactivate changes them.
func (r *run) planDeactivations(ctx context.Context, q Queries) error {
	p := r.planOut
	if p == nil {
		return nil
	}
	if p.err != nil {
		return p.err
	}
	err := q.MissingEach(ctx, p.tenant, func(u *schema.User) error {
		p.writeItem(&planItemLine{Action: actionDeactivate, Email: u.Email, State: schema.UserState(u), Before: (*planUser)(u)})
		return p.err
	})
	if err != nil {
		p.err = err
	}
	return err
}

// planRow hands a dry run's planned change of a row to the plan, with the
// rules' snapshot of the chunk (the states of the users it names).
func (r *run) planRow(item PlanItem, snap *rules.Snapshot) {
	if r.planOut == nil || item.Row <= 0 {
		return
	}
	var uses string
	if u := snap.Users[item.CopiedFrom]; item.CopiedFrom != "" && u != nil {
		uses = schema.UserState(u)
	}
	r.planOut.add(item, uses)
}

// finishPlan ends the plan of a dry run that completed: the summary, the
// HMAC, and the end of the compressed stream; Result.PlanSHA256 then names
// it. A dry run with --atomic whose rows were rejected would apply
// nothing: it leaves the plan unfinished (the caller discards it).
func (r *run) finishPlan(inputSHA string) error {
	p := r.planOut
	if p == nil {
		return nil
	}
	if p.err != nil {
		return p.err
	}
	if r.opts.Atomic && r.res.Rejected > 0 {
		return nil
	}
	res := r.res
	s := planSummary{Items: p.items, InputSHA256: inputSHA, Counts: res.Counts,
		Activations: res.Activations, IgnoredColumns: res.IgnoredColumns, FindingsByRule: map[string]int{}}
	for rule, n := range res.FindingsByRule {
		s.FindingsByRule[string(rule)] = n
	}
	p.line(struct {
		Summary planSummary `json:"summary"`
	}{s})
	if p.err != nil {
		return p.err
	}
	if err := p.out.Flush(); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	if err := p.gz.Close(); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	last := seal(p.file.mac.Sum(nil))
	if _, err := p.file.w.Write(last); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	p.file.sha.Write(last)
	r.res.PlanSHA256 = hex.EncodeToString(p.file.sha.Sum(nil))
	return nil
}

// planChanges returns a planned user's changes as the audit trail would
// record them, for the permission check (see deniedChanges).
func planChanges(action, email string, before, after *schema.User) schema.UserChange {
	c := schema.UserChange{Email: email, Created: action == actionCreate, Old: map[string]string{}, New: map[string]string{}}
	var changes []rules.Change
	switch action {
	case actionCreate:
		changes = rules.Diff(nil, after)
	case actionUpdate:
		changes = rules.Diff(before, after)
	case actionDeactivate:
		changes = []rules.Change{{Field: rules.FStatus, Old: string(schema.StatusActive), New: string(schema.StatusInactive)}}
	}
	for _, ch := range changes {
		c.Old[string(ch.Field)], c.New[string(ch.Field)] = ch.Old, ch.New
	}
	if before != nil {
		c.HomeNow = before.HomeOrg
	} else if after != nil {
		c.HomeNow = after.HomeOrg
	}
	return c
}

// PlanInfo is what a saved plan's header says: its organization, its
// author and the name of the sheet it was made from.
type PlanInfo struct {
	Org, Actor, Input string
}

// PlanChange is one planned change of a saved plan, as ReadPlan gives it:
// the sheet's row (0 for a deactivation of --sync), the action (create,
// update, activate or deactivate), the user, and its changes column by
// column with the sheet's column names.
type PlanChange struct {
	Row        int
	Action     string
	Email      string
	Activation bool
	Columns    []ColumnChange
}

// ReadPlan reads a saved plan's changes in order, calling fn for each, for
// showing them (its seal is not checked: Apply checks it). It stops at
// fn's first error, which it returns.
func ReadPlan(r io.Reader, fn func(PlanChange) error) (PlanInfo, error) {
	pr, err := openPlan(r, "the plan", nil)
	if err != nil {
		return PlanInfo{}, err
	}
	hdr, err := pr.line()
	if err != nil {
		return PlanInfo{}, err
	}
	info := PlanInfo{Org: hdr.Org, Actor: hdr.Actor, Input: hdr.Input}
	for {
		l, err := pr.line()
		if err != nil {
			return info, err
		}
		if l.Summary != nil {
			return info, nil
		}
		c := PlanChange{Row: l.Row, Action: l.Action, Email: l.Email, Activation: l.Activation}
		c.Columns = Columns(planChanges(l.Action, l.Email, (*schema.User)(l.Before), (*schema.User)(l.After)))
		if err := fn(c); err != nil {
			return info, err
		}
	}
}
