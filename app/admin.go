package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
)

// Admin manages organizations, external organizations, PBXes and CC roles.
type Admin struct {
	Store Store
}

// InvalidError is a value that cannot be stored: a name with spaces around
// it or too long, a permission that does not exist, an email that is not
// one. Field names what the value is (for example "PBX name"); Problem
// says what is wrong, in a sentence that names the value.
type InvalidError struct {
	Field, Value, Problem string
}

func (e *InvalidError) Error() string { return e.Problem }

// checkName checks an identifier or name as the schema does
// (schema.CheckName): not empty, no spaces around it, not too long.
func checkName(field, v string) error {
	if problem := schema.CheckName(field, v); problem != "" {
		return &InvalidError{Field: field, Value: v, Problem: problem}
	}
	return nil
}

// ParsePermissions reads a comma-separated list of CC permissions (view,
// write, create, modify, in any letter case, spaces ignored) and returns
// them in catalogue order, each once.
func ParsePermissions(list string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !slices.Contains(schema.CCPermissions, p) {
			return nil, &InvalidError{Field: "permission", Value: p, Problem: fmt.Sprintf("%q is not a permission: use %s", p, strings.Join(schema.CCPermissions, ", "))}
		}
		seen[p] = true
	}
	perms := []string{}
	for _, p := range schema.CCPermissions {
		if seen[p] {
			perms = append(perms, p)
		}
	}
	return perms, nil
}

// OrgCreate creates a tenant with its PBXes (one named main when none is
// given), the System Default CC role and its primary administrator.
func (a *Admin) OrgCreate(ctx context.Context, org schema.Org) error {
	if err := checkName("organization name", org.Name); err != nil {
		return err
	}
	for _, p := range org.PBXes {
		if err := checkName("PBX name", p); err != nil {
			return err
		}
	}
	email, problem := rules.ParseEmail(org.PrimaryAdmin)
	if problem != "" {
		return &InvalidError{Field: "primary administrator", Value: org.PrimaryAdmin, Problem: problem}
	}
	org.PrimaryAdmin = email
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return err
	}
	return a.Store.OrgCreate(ctx, org)
}

// ExternalCreate registers an external organization.
func (a *Admin) ExternalCreate(ctx context.Context, ext schema.ExternalOrg) error {
	if err := checkName("organization name", ext.Name); err != nil {
		return err
	}
	if ext.Kind != schema.KindPartner && ext.Kind != schema.KindOther {
		return &InvalidError{Field: "kind", Value: string(ext.Kind), Problem: fmt.Sprintf("the kind %q is not partner or other", ext.Kind)}
	}
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return err
	}
	return a.Store.ExternalCreate(ctx, ext)
}

// OrgUpdate changes an organization's name and seats and adds PBXes. Seats
// below those in use are refused (*SeatsInUseError), and nothing changes.
func (a *Admin) OrgUpdate(ctx context.Context, p OrgUpdateParams) (schema.Org, error) {
	if p.Name != nil {
		if err := checkName("organization name", *p.Name); err != nil {
			return schema.Org{}, err
		}
	}
	for _, s := range []*int{p.PremiumSeats, p.StandardSeats} {
		if s != nil && *s < -1 {
			return schema.Org{}, &InvalidError{Field: "seats", Value: fmt.Sprint(*s), Problem: fmt.Sprintf("%d seats: seats are 0 or more, or unlimited", *s)}
		}
	}
	for i, name := range p.AddPBXes {
		if err := checkName("PBX name", name); err != nil {
			return schema.Org{}, err
		}
		for _, earlier := range p.AddPBXes[:i] {
			if strings.EqualFold(earlier, name) {
				return schema.Org{}, &InvalidError{Field: "PBX name", Value: name, Problem: fmt.Sprintf("the PBX %q is named twice", name)}
			}
		}
	}
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return schema.Org{}, err
	}
	return a.Store.OrgUpdate(ctx, p)
}

// OrgPrimary hands the primary administrator role of an organization to
// another user: an active Full Administrator who is a member of it.
func (a *Admin) OrgPrimary(ctx context.Context, org, to string) error {
	email, problem := rules.ParseEmail(to)
	if problem != "" {
		return &InvalidError{Field: "email", Value: to, Problem: problem}
	}
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return err
	}
	return a.Store.OrgPrimarySet(ctx, org, email)
}

// OrgList returns every organization, by id.
func (a *Admin) OrgList(ctx context.Context) ([]schema.Org, error) {
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return nil, err
	}
	return a.Store.OrgList(ctx)
}

// OrgDetails is what an organization holds: its PBXes, CC roles, seats
// used and free per tier, and administrators.
type OrgDetails struct {
	schema.Org
	Roles []RoleInfo
	Usage
}

// Free returns the free seats of a tier with seats total of which used are
// taken; -1 when the tier has no limit.
func Free(seats, used int) int {
	if seats < 0 {
		return -1
	}
	return max(seats-used, 0)
}

// OrgShow returns an organization's details.
func (a *Admin) OrgShow(ctx context.Context, id string) (OrgDetails, error) {
	var d OrgDetails
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return d, err
	}
	var err error
	if d.Org, err = a.Store.OrgGet(ctx, id); err != nil {
		return d, err
	}
	if d.Roles, err = a.Store.RoleList(ctx, d.ID); err != nil {
		return d, err
	}
	d.Usage, err = a.Store.OrgUsage(ctx, d.ID)
	return d, err
}

// RoleCreate creates a CC role in an organization.
func (a *Admin) RoleCreate(ctx context.Context, org string, role schema.CCRole) error {
	if err := checkName("CC role name", role.Name); err != nil {
		return err
	}
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return err
	}
	o, err := a.Store.OrgGet(ctx, org)
	if err != nil {
		return err
	}
	return a.Store.RoleCreate(ctx, o.ID, role)
}

// RoleUpdate replaces a CC role's permissions; it returns the role as
// stored (its name in the stored letter case).
func (a *Admin) RoleUpdate(ctx context.Context, org string, role schema.CCRole) (schema.CCRole, error) {
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return role, err
	}
	return a.Store.RoleUpdate(ctx, org, role)
}

// RoleDelete deletes a CC role that no user holds; it returns the name
// as stored.
func (a *Admin) RoleDelete(ctx context.Context, org, name string) (string, error) {
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return name, err
	}
	return a.Store.RoleDelete(ctx, org, name)
}

// RoleList returns an organization's CC roles, by name.
func (a *Admin) RoleList(ctx context.Context, org string) ([]RoleInfo, error) {
	if err := a.Store.SchemaCheck(ctx); err != nil {
		return nil, err
	}
	return a.Store.RoleList(ctx, org)
}
