package rules

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// Env is what stays the same for a whole run: the tenant, its PBXes, roles
// and seats, the registered external organizations, and the actor.
type Env struct {
	Org       schema.Org
	Externals map[string]schema.ExternalOrg // by schema.NameKey of the id
	CCRoles   map[string]string             // schema.NameKey of the name -> name as created
	Actor     schema.User
	ActorKind ActorKind

	// Seats in use before the run: users holding each license.
	PremiumUsed, StandardUsed int
}

// Snapshot is what the database holds for the rows of one chunk: the users
// the rows name (by email and in Copy Privileges From), and the holders of
// the usernames the rows would take.
type Snapshot struct {
	Users     map[string]*schema.User // by email
	Usernames map[UsernameKey]string  // holder's email
	// Origins says, for the users whose row names an out-of-date Version
	// (Input.IsStale), what changed them since: looked up for those rows
	// only, and named in their R-STALE message.
	Origins map[string]VersionOrigin
}

// UsernameKey identifies a username within a PBX (compared without case).
type UsernameKey struct{ PBX, Username string }

// KeyOf returns the key of a username in a PBX.
func KeyOf(pbx, username string) UsernameKey {
	return UsernameKey{PBX: pbx, Username: strings.ToLower(username)}
}

// Kind says what a row does to its user.
type Kind int

// Row outcomes.
const (
	Rejected Kind = iota
	Created
	Updated
	Unchanged
)

// Outcome is the verdict on one row.
type Outcome struct {
	Kind     Kind
	Findings []schema.Finding
	Before   *schema.User // nil for a new user
	After    schema.User
	Changes  []Change
	// SendActivation: the row asks for an activation email.
	SendActivation bool
}

// HasError reports whether a finding rejects the row.
func (o *Outcome) HasError() bool { return hasError(o.Findings) }

func hasError(fs []schema.Finding) bool {
	for _, f := range fs {
		if f.Severity() == schema.SevError {
			return true
		}
	}
	return false
}

// Validator checks rows in file order against the database snapshot and the
// earlier accepted rows. It keeps compact per-key state only (hashes of
// emails and usernames, seat counts), so memory grows with the file's keys,
// not with the database.
type Validator struct {
	env  *Env
	seed maphash.Seed

	seen      keyTable[seenEmail]
	usernames keyTable[holder]      // hash(PBX, username) -> the row that took or freed it
	roles     map[uint64]privileges // users whose admin role or CC role the file set
	premium   int
	standard  int
}

// seenEmail is the first row of an email and whether a row of it was
// accepted, in 4 bytes (the validator keeps one per email of the file).
type seenEmail uint32

func seen(row int, accepted bool) seenEmail {
	s := seenEmail(row) << 1
	if accepted {
		s |= 1
	}
	return s
}

func (s seenEmail) row() int       { return int(s >> 1) }
func (s seenEmail) accepted() bool { return s&1 == 1 }

// holder is the accepted row that took a username, or the row that freed
// it (taken false), in 4 bytes. No other row of the same email can come
// after it (R-DUP-EMAIL stops it first), so the taker is never the user
// being checked.
type holder uint32

func holderOf(row int, taken bool) holder { return holder(seen(row, taken)) }

func (h holder) row() int    { return seenEmail(h).row() }
func (h holder) taken() bool { return seenEmail(h).accepted() }

type privileges struct {
	role   schema.AdminRole
	ccRole string
}

// NewValidator returns a validator for one run.
func NewValidator(env *Env) *Validator {
	return &Validator{
		env:      env,
		seed:     maphash.MakeSeed(),
		roles:    make(map[uint64]privileges),
		premium:  env.PremiumUsed,
		standard: env.StandardUsed,
	}
}

// SeatsUsed returns the seats in use after the accepted rows so far.
func (v *Validator) SeatsUsed() (premium, standard int) { return v.premium, v.standard }

func (v *Validator) hash(s string) uint64 { return maphash.String(v.seed, s) | 1 } // never 0

func (v *Validator) usernameHash(k UsernameKey) uint64 {
	return v.hash(k.PBX + "\x00" + k.Username)
}

// Check validates one parsed row. parsed are the findings of ParseRow; a
// row with a parse error is still checked against the rules that can run,
// so the administrator sees every problem at once, but it is rejected.
func (v *Validator) Check(in Input, parsed []schema.Finding, snap *Snapshot) Outcome {
	c := &rowCheck{v: v, in: in, snap: snap, findings: parsed}
	c.run()
	out := Outcome{Findings: c.findings, Before: c.before, After: c.after, SendActivation: c.sendActivation}
	if in.Email != "" {
		h := v.hash(in.Email)
		if _, dup := v.seen.get(h); !dup {
			v.seen.set(h, seen(in.Row, false))
		}
	}
	if c.stop || hasError(out.Findings) {
		out.Kind = Rejected
		out.SendActivation = false
		return out
	}
	out.Changes = Diff(c.before, &c.after)
	switch {
	case c.before == nil:
		out.Kind = Created
	case len(out.Changes) > 0:
		out.Kind = Updated
	default:
		out.Kind = Unchanged
	}
	v.accept(c)
	return out
}

// accept folds an accepted row into the state later rows see.
func (v *Validator) accept(c *rowCheck) {
	h := v.hash(c.in.Email)
	v.seen.set(h, seen(c.in.Row, true))
	b, a := c.before, &c.after
	if b == nil || b.PBX != a.PBX || !strings.EqualFold(b.Username, a.Username) {
		if b != nil {
			v.usernames.set(v.usernameHash(KeyOf(b.PBX, b.Username)), holderOf(c.in.Row, false))
		}
		v.usernames.set(v.usernameHash(KeyOf(a.PBX, a.Username)), holderOf(c.in.Row, true))
	}
	if b == nil || b.AdminRole != a.AdminRole || b.CCRole != a.CCRole {
		// A new user with no privileges: seen as accepted is enough.
		if b != nil || a.AdminRole != schema.RoleNone || a.CCRole != "" {
			v.roles[h] = privileges{role: a.AdminRole, ccRole: a.CCRole}
		}
	}
	if d := seatDelta(b != nil && b.Premium, a.Premium); d != 0 {
		v.premium += d
	}
	if d := seatDelta(b != nil && b.Standard, a.Standard); d != 0 {
		v.standard += d
	}
}

// seatDelta is the change in seats of a tier used by a user who held a
// seat of it (before) and holds one after the row (after). It takes the
// flags, not the users: the row's check then stays on the stack.
func seatDelta(before, after bool) int {
	switch {
	case after && !before:
		return 1
	case !after && before:
		return -1
	}
	return 0
}

// rowCheck is the work on one row.
type rowCheck struct {
	v        *Validator
	in       Input
	snap     *Snapshot
	findings []schema.Finding
	stop     bool // the row cannot be checked further

	before         *schema.User
	after          schema.User
	roleConflict   bool
	sendActivation bool
	copyApplied    bool // Copy Privileges From named a user and was applied
	copied         bool // Copy Privileges From changed something
}

func (c *rowCheck) add(col schema.Column, id schema.RuleID, format string, args ...any) {
	column := ""
	if col >= 0 {
		column = c.in.Headers[col]
		if column == "" {
			column = col.Header()
		}
	}
	c.findings = append(c.findings, schema.Finding{Row: c.in.Row, Column: column, Rule: id, Message: fmt.Sprintf(format, args...)})
}

func (c *rowCheck) run() {
	in := c.in
	if in.Email == "" {
		c.stop = true
		return
	}
	// R-DUP-EMAIL: the later row is rejected.
	if prev, dup := c.v.seen.get(c.v.hash(in.Email)); dup {
		c.add(schema.ColEmail, schema.RDupEmail, "%s is also in row %d; keep one row per user (this row is ignored)", in.Email, prev.row())
		c.stop = true
		return
	}
	if u, ok := c.snap.Users[in.Email]; ok {
		b := *u
		c.before = &b
		c.after = b
	} else {
		c.after = schema.User{Email: in.Email, Status: schema.StatusActive}
	}
	version := c.checkVersion()
	if version == versionRejected {
		c.stop = true
		return
	}
	parsed := len(c.findings)
	c.applyCells()
	c.checkLicenses()
	c.checkUsername()
	c.checkPrimary()
	c.checkExternal()
	c.checkPermissions()
	// R-STALE: a row written against an older state of the user is
	// rejected if applying it would change the user (or queue an email):
	// it could overwrite what changed since. One that asks for what the
	// user holds now changes nothing, so importing the same sheet twice
	// finds nothing stale the second time.
	if version == versionStale && (c.stop || hasError(c.findings) || c.sendActivation || len(Diff(c.before, &c.after)) > 0) {
		c.rejectStale(parsed)
	}
}

// applyCells builds the user the row asks for: the current user (or a new
// one with the defaults of docs/REFERENCE.md §2, The sheet), then copied privileges, then the row's
// explicit cells, which win over copied values.
func (c *rowCheck) applyCells() {
	in, a, env := c.in, &c.after, c.v.env
	isNew := c.before == nil

	setText := func(dst *string, o Opt[string]) {
		if o.Set {
			*dst = o.V
		}
	}
	setText(&a.FirstName, in.FirstName)
	setText(&a.LastName, in.LastName)
	setText(&a.DisplayName, in.DisplayName)
	if in.Status.Set {
		a.Status = in.Status.V
	}
	if in.Premium.Set {
		a.Premium = in.Premium.V
	}
	if in.Standard.Set {
		a.Standard = in.Standard.V
	}

	// PBX (R-PBX) and Username
	pbx, username, ok := Placement(env, in, c.before)
	switch {
	case ok:
		a.PBX = pbx
	case in.PBX.Set:
		c.add(schema.ColPBX, schema.RPBX, "%q is not a PBX of %s; use one of %s", in.PBX.V, env.Org.ID, strings.Join(env.Org.PBXes, ", "))
		c.stop = true
	default:
		c.add(schema.ColPBX, schema.RPBX, "%s has several PBXes; name the new user's PBX (one of %s)", env.Org.ID, strings.Join(env.Org.PBXes, ", "))
		c.stop = true
	}
	a.Username = username

	// Home Organization (R-EXT-ORG)
	if in.HomeOrg.Set {
		if ext, ok := env.Externals[schema.NameKey(in.HomeOrg.V)]; ok {
			a.HomeOrg = ext.ID
		} else {
			c.add(schema.ColHomeOrg, schema.RExtOrg, "%q is not a registered external organization; register it with 'ccbulk org external', or leave the cell blank for a member of %s", in.HomeOrg.V, env.Org.ID)
			c.stop = true
		}
	}

	// Copy Privileges From (R-COPY-FROM), then the explicit role cells.
	if in.CopyFrom.Set {
		if p, ok := c.lookupPrivileges(in.CopyFrom.V); ok {
			c.copyApplied = true
			c.copied = p.role != a.AdminRole || p.ccRole != a.CCRole
			a.AdminRole, a.CCRole = p.role, p.ccRole
		} else {
			c.add(schema.ColCopyFrom, schema.RCopyFrom, "%q is no user of %s (nor of an earlier row of this file); name an existing user whose privileges to copy", in.CopyFrom.V, env.Org.ID)
			c.stop = true
		}
	}
	c.applyRoleCells()

	// CC Role (R-CC-ROLE)
	becameAdmin := a.AdminRole != schema.RoleNone && (isNew || c.before.AdminRole == schema.RoleNone)
	switch {
	case in.CCRole.Set:
		if name, ok := env.CCRoles[schema.NameKey(in.CCRole.V)]; ok {
			a.CCRole = name
		} else {
			c.add(schema.ColCCRole, schema.RCCRole, "%q is not a CC role of %s; use one of %s, or create it with 'ccbulk role create'", in.CCRole.V, env.Org.ID, roleList(env.CCRoles))
			c.stop = true
		}
	case becameAdmin && !in.CopyFrom.Set:
		a.CCRole = schema.DefaultCCRole
	}
	if a.AdminRole != schema.RoleNone && a.CCRole == "" && !c.roleConflict {
		a.CCRole = schema.DefaultCCRole
	}

	// Send Activation Email: new users are invited unless the row says FALSE.
	c.sendActivation = in.SendActivation.V || (isNew && !in.SendActivation.Set)
}

// applyRoleCells applies the three admin-role flags to the role the user
// holds (or was copied). R-ROLE-SINGLE: a user holds one admin role; to
// switch, the row sets the old one to FALSE. A copied role is no role held:
// explicit values win over copied ones (docs/REFERENCE.md §2, The sheet), so a role cell set TRUE
// replaces the copied role.
func (c *rowCheck) applyRoleCells() {
	in, a := c.in, &c.after
	type roleFlag struct {
		role schema.AdminRole
		col  schema.Column
		cell Opt[bool]
	}
	flags := []roleFlag{
		{schema.RoleFull, schema.ColFullAdmin, in.Full},
		{schema.RoleCCService, schema.ColCCServiceAdmin, in.CCService},
		{schema.RoleReadOnly, schema.ColReadOnlyAdmin, in.ReadOnly},
	}
	held := map[schema.AdminRole]bool{}
	explicit := slices.ContainsFunc(flags, func(f roleFlag) bool { return f.cell.Set && f.cell.V })
	if a.AdminRole != schema.RoleNone && !(c.copyApplied && explicit) {
		held[a.AdminRole] = true
	}
	for _, f := range flags {
		if f.cell.Set {
			held[f.role] = f.cell.V
		}
	}
	var roles []schema.AdminRole
	for _, f := range flags {
		if held[f.role] {
			roles = append(roles, f.role)
		}
	}
	switch len(roles) {
	case 0:
		a.AdminRole = schema.RoleNone
	case 1:
		a.AdminRole = roles[0]
	default:
		c.roleConflict = true
		col := schema.ColFullAdmin
		var names []string
		for _, f := range flags {
			if held[f.role] {
				names = append(names, roleTitle(f.role))
				if f.cell.Set && f.cell.V {
					col = f.col
				}
			}
		}
		old := ""
		if c.before != nil && c.before.AdminRole != schema.RoleNone && !c.copyApplied {
			old = fmt.Sprintf(" (the user already holds %s)", roleTitle(c.before.AdminRole))
		}
		c.add(col, schema.RRoleSingle, "the user would hold %s%s; a user holds one admin role: to switch, set the old role to FALSE in the same row", strings.Join(names, " and "), old)
	}
}

// lookupPrivileges finds the admin role and CC role of a user to copy from:
// as an earlier accepted row of the file left them, else as the database
// holds them.
func (c *rowCheck) lookupPrivileges(email string) (privileges, bool) {
	h := c.v.hash(email)
	if p, ok := c.v.roles[h]; ok {
		return p, true
	}
	if u, ok := c.snap.Users[email]; ok {
		return privileges{role: u.AdminRole, ccRole: u.CCRole}, true
	}
	if s, ok := c.v.seen.get(h); ok && s.accepted() {
		return privileges{}, true // a new user of this file, without privileges
	}
	return privileges{}, false
}

// checkLicenses: R-LIC-TIER and R-LIC-CAPACITY (seed 004: subscriptions
// and license usage), W-FULL-ADMIN-LICENSE.
func (c *rowCheck) checkLicenses() {
	a, b, env := &c.after, c.before, c.v.env
	if a.Premium && a.Standard {
		col := schema.ColStandard
		if c.in.Premium.Set && c.in.Premium.V && !(c.in.Standard.Set && c.in.Standard.V) {
			col = schema.ColPremium
		}
		c.add(col, schema.RLicTier, "the user would hold both Contact Center Premium and Contact Center Standard; a user holds one agent tier: set the other to FALSE")
		return
	}
	check := func(col schema.Column, name string, before, after bool, used, seats int) {
		if seats >= 0 && seatDelta(before, after) > 0 && used+1 > seats {
			c.add(col, schema.RLicCapacity, "%s has %d %s seats and all are taken; free a seat (set it to FALSE for another user earlier in the file) or buy more seats", env.Org.ID, seats, name)
		}
	}
	check(schema.ColPremium, "Contact Center Premium", b != nil && b.Premium, a.Premium, c.v.premium, env.Org.PremiumSeats)
	check(schema.ColStandard, "Contact Center Standard", b != nil && b.Standard, a.Standard, c.v.standard, env.Org.StandardSeats)

	if a.AdminRole == schema.RoleFull && (a.Premium || a.Standard) && !c.roleConflict {
		changed := b == nil || b.AdminRole != a.AdminRole || b.Premium != a.Premium || b.Standard != a.Standard
		if changed {
			col := schema.ColFullAdmin
			if c.in.Premium.Set || c.in.Standard.Set {
				col = schema.ColPremium
				if a.Standard {
					col = schema.ColStandard
				}
			}
			c.add(col, schema.WFullAdminLic, "a Full Administrator who holds a contact-center license can sign in only to the agent desktop, not to the administration portal")
		}
	}
}

// checkUsername: R-USERNAME (seed 000: the username must be unique to the PBX).
func (c *rowCheck) checkUsername() {
	a, b := &c.after, c.before
	if a.PBX == "" {
		return // R-PBX already
	}
	if KeepsUsername(b, a.PBX, a.Username) {
		return
	}
	key := KeyOf(a.PBX, a.Username)
	taker := ""
	if h, ok := c.v.usernames.get(c.v.usernameHash(key)); ok {
		if h.taken() {
			taker = fmt.Sprintf("the user of row %d", h.row())
		}
	} else if e, ok := c.snap.Usernames[key]; ok && e != a.Email {
		taker = e
	}
	if taker != "" {
		col := schema.ColUsername
		if !c.in.Username.Set {
			if c.in.PBX.Set {
				col = schema.ColPBX
			} else {
				col = schema.ColEmail
			}
		}
		c.add(col, schema.RUsername, "username %q is taken in PBX %s by %s; choose another username", a.Username, a.PBX, taker)
	}
}

// Placement is where a row puts its user: the PBX and the username it
// leaves the user with, as the validator resolves them. ok is false when
// the row names no PBX of the tenant, or none for a new user of a tenant
// with several (R-PBX). The importer calls it too, before the row is
// checked, to fetch the holders of the usernames a chunk would take.
func Placement(env *Env, in Input, before *schema.User) (pbx, username string, ok bool) {
	switch {
	case in.PBX.Set:
		pbx, ok = schema.MatchName(env.Org.PBXes, in.PBX.V)
	case before != nil:
		pbx, ok = before.PBX, true
	case len(env.Org.PBXes) == 1:
		pbx, ok = env.Org.PBXes[0], true
	}
	switch {
	case in.Username.Set:
		username = in.Username.V
	case before != nil:
		username = before.Username
	default:
		username = in.Email
	}
	return pbx, username, ok
}

// KeepsUsername reports whether a user that was before keeps its username
// in pbx (usernames compare without letter case): R-USERNAME then has
// nothing to check.
func KeepsUsername(before *schema.User, pbx, username string) bool {
	return before != nil && before.PBX == pbx && strings.EqualFold(before.Username, username)
}

// checkPrimary: R-PRIMARY (seed 000: a secondary administrator cannot
// delete or demote the primary administrator).
func (c *rowCheck) checkPrimary() {
	b, a := c.before, &c.after
	if b == nil || !b.Primary {
		return
	}
	what := []struct {
		changed bool
		col     schema.Column
		name    string
	}{
		{b.AdminRole != a.AdminRole || c.roleConflict, schema.ColFullAdmin, "admin role"},
		{b.CCRole != a.CCRole, schema.ColCCRole, "CC role"},
		{b.Status != a.Status, schema.ColStatus, "status"},
		{b.HomeOrg != a.HomeOrg, schema.ColHomeOrg, "home organization"},
	}
	for _, w := range what {
		if w.changed {
			c.add(w.col, schema.RPrimary, "%s is the primary administrator of %s; their %s cannot be changed here (leave the cell as it is)", b.Email, c.v.env.Org.ID, w.name)
		}
	}
}

// checkExternal: R-EXT-PARTNER and R-EXT-CC-ENABLED (seed 004: the CC
// Service Administrator role goes to members and to users of other
// organizations that run no contact center of their own).
func (c *rowCheck) checkExternal() {
	a, b := &c.after, c.before
	if a.AdminRole != schema.RoleCCService || a.HomeOrg == "" {
		return
	}
	if b != nil && b.AdminRole == a.AdminRole && b.HomeOrg == a.HomeOrg {
		return
	}
	ext, ok := c.v.env.Externals[schema.NameKey(a.HomeOrg)]
	if !ok {
		return
	}
	switch {
	case ext.Kind == schema.KindPartner:
		c.add(schema.ColCCServiceAdmin, schema.RExtPartner, "%s is a partner organization; the Contact Center Service Administrator role does not exist for partner users: give a Full or Read-only Administrator role instead", ext.ID)
	case ext.CCEnabled:
		c.add(schema.ColCCServiceAdmin, schema.RExtCCEnabled, "%s runs a contact center of its own; its users cannot be Contact Center Service Administrators here", ext.ID)
	}
}

// checkPermissions: R-PERM and R-EXT-SCOPE (seed 004, table 1). Only real
// changes need permission: a cell equal to what the database holds is not
// a change.
func (c *rowCheck) checkPermissions() {
	k, b, a := c.v.env.ActorKind, c.before, &c.after
	need := func(capability Capability, col schema.Column, what string) {
		switch rule := Allowed(k, capability); rule {
		case "":
		case schema.RExtScope:
			c.add(col, rule, "%s may not grant or revoke Contact Center Service Administrator to another external user; ask an administrator of the customer organization", k)
		default:
			c.add(col, rule, "%s", permMessage(k, capability, what))
		}
	}
	if b == nil {
		need(CapManageUsers, schema.ColEmail, "creating "+a.Email)
	} else {
		texts := []struct {
			col      schema.Column
			old, new string
		}{
			{schema.ColFirstName, b.FirstName, a.FirstName},
			{schema.ColLastName, b.LastName, a.LastName},
			{schema.ColDisplayName, b.DisplayName, a.DisplayName},
			{schema.ColUsername, b.Username, a.Username},
			{schema.ColPBX, b.PBX, a.PBX},
			{schema.ColStatus, string(b.Status), string(a.Status)},
			{schema.ColHomeOrg, b.HomeOrg, a.HomeOrg},
		}
		for _, t := range texts {
			if t.old != t.new {
				need(CapManageUsers, t.col, "changing "+t.col.Header())
			}
		}
		if b.CCRole != a.CCRole && c.in.CCRole.Set {
			need(CapManageUsers, schema.ColCCRole, "changing CC Role")
		}
		if b.Premium != a.Premium {
			need(CapLicenses, schema.ColPremium, "changing Contact Center Premium")
		}
		if b.Standard != a.Standard {
			need(CapLicenses, schema.ColStandard, "changing Contact Center Standard")
		}
	}
	if c.copied {
		need(CapManageUsers, schema.ColCopyFrom, "copying privileges")
	}
	if c.sendActivation {
		need(CapSendActivation, schema.ColSendActivation, "sending an activation email")
	}
	if c.roleConflict {
		return
	}
	old := schema.RoleNone
	if b != nil {
		old = b.AdminRole
	}
	if old == a.AdminRole {
		return
	}
	for _, role := range []schema.AdminRole{old, a.AdminRole} {
		switch role {
		case schema.RoleFull:
			need(CapFullOrReadOnly, schema.ColFullAdmin, "changing Full Administrator")
		case schema.RoleReadOnly:
			need(CapFullOrReadOnly, schema.ColReadOnlyAdmin, "changing Read-only Administrator")
		case schema.RoleCCService:
			if a.HomeOrg != "" {
				need(CapCCServiceExternal, schema.ColCCServiceAdmin, "changing Contact Center Service Administrator of an external user")
			} else {
				need(CapCCServiceMember, schema.ColCCServiceAdmin, "changing Contact Center Service Administrator")
			}
		}
	}
}

func roleList(roles map[string]string) string {
	names := make([]string, 0, len(roles))
	for _, n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func roleTitle(r schema.AdminRole) string {
	switch r {
	case schema.RoleFull:
		return "Full Administrator"
	case schema.RoleCCService:
		return "Contact Center Service Administrator"
	case schema.RoleReadOnly:
		return "Read-only Administrator"
	}
	return "no admin role"
}
