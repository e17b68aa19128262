package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/schema"
)

// The organization and role commands: each reads its flags, calls the
// application layer (app.Admin) and prints what it did.

// withAdmin opens the database and runs fn with the application layer on it.
func withAdmin(c *cli.Context, fn func(*app.Admin) error) error {
	db, err := openDB(c)
	if err == nil {
		defer db.Close()
		err = adminErr(fn(&app.Admin{Store: db.Admin()}))
	}
	// The commands that print JSON print it on failure too.
	return failedJSON(c.App.Writer, hasJSON(c), err)
}

// hasJSON reports whether the command has --json and it is set.
func hasJSON(c *cli.Context) bool {
	for _, f := range c.Command.Flags {
		if f.Names()[0] == "json" {
			return c.Bool("json")
		}
	}
	return false
}

// adminErr words the application layer's errors for the command line.
func adminErr(err error) error {
	var nf *app.NotFoundError
	if errors.As(err, &nf) && nf.What == "organization" {
		return &schema.FileError{Rule: schema.FOrg, Message: fmt.Sprintf("no organization %q; 'ccbulk org list' lists them, 'ccbulk org create' creates one", nf.Name)}
	}
	if errors.As(err, &nf) && nf.What == "CC role" {
		return fmt.Errorf("%w; 'ccbulk role list --org %s' lists them", err, nf.Org)
	}
	return err
}

func orgCommand() *cli.Command {
	return &cli.Command{
		Name:  "org",
		Usage: "create, change and show organizations",
		Subcommands: []*cli.Command{
			orgCreateCommand(),
			orgUpdateCommand(),
			orgPrimaryCommand(),
			orgListCommand(),
			orgShowCommand(),
			orgExternalCommand(),
		},
	}
}

func orgCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a tenant with its primary administrator",
		ArgsUsage: "ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the organization's name"},
			&cli.StringFlag{Name: "primary-admin", Usage: "email of the primary administrator"},
			&cli.StringSliceFlag{Name: "pbx", Usage: "a PBX (repeat for several; default: one named main)"},
			&cli.IntFlag{Name: "premium-seats", Value: -1, Usage: "Contact Center Premium seats", DefaultText: "no limit"},
			&cli.IntFlag{Name: "standard-seats", Value: -1, Usage: "Contact Center Standard seats", DefaultText: "no limit"},
		},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "organization ID")
			if err != nil {
				return err
			}
			if err := need(c, "name", "primary-admin"); err != nil {
				return err
			}
			for _, f := range []string{"premium-seats", "standard-seats"} {
				if c.IsSet(f) && c.Int(f) < 0 {
					return usagef("--%s must be 0 or more", f)
				}
			}
			org := schema.Org{ID: id, Name: c.String("name"), PBXes: c.StringSlice("pbx"),
				PremiumSeats: c.Int("premium-seats"), StandardSeats: c.Int("standard-seats"), PrimaryAdmin: c.String("primary-admin")}
			return withAdmin(c, func(a *app.Admin) error {
				if err := a.OrgCreate(c.Context, org); err != nil {
					var inv *app.InvalidError
					if errors.As(err, &inv) && inv.Field == "primary administrator" {
						return usagef("--primary-admin: %s", inv.Problem)
					}
					return err
				}
				o, err := a.Store.OrgGet(c.Context, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "created organization %s (%s), primary administrator %s\n", o.ID, o.Name, o.PrimaryAdmin)
				return nil
			})
		},
	}
}

// parseSeats reads a seat count: a number of 0 or more, or "unlimited".
func parseSeats(flag, v string) (int, error) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "unlimited") {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, usagef("--%s %q: write a number of seats (0 or more) or unlimited", flag, v)
	}
	return n, nil
}

func orgUpdateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "change an organization's name or seats, or add PBXes",
		ArgsUsage: "ID",
		Description: "Seats are refused below those in use (exit 1, nothing changed). The change waits for no\n" +
			"run: while an import, apply or undo holds the organization, it is refused (exit 4).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the organization's new name"},
			&cli.StringFlag{Name: "premium-seats", Usage: "Contact Center Premium seats: a number or unlimited"},
			&cli.StringFlag{Name: "standard-seats", Usage: "Contact Center Standard seats: a number or unlimited"},
			&cli.StringSliceFlag{Name: "add-pbx", Usage: "add a PBX (repeat for several)"},
		},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "organization ID")
			if err != nil {
				return err
			}
			p := app.OrgUpdateParams{ID: id, AddPBXes: c.StringSlice("add-pbx")}
			if c.IsSet("name") {
				name := c.String("name")
				p.Name = &name
			}
			for _, f := range []struct {
				flag string
				dst  **int
			}{{"premium-seats", &p.PremiumSeats}, {"standard-seats", &p.StandardSeats}} {
				if !c.IsSet(f.flag) {
					continue
				}
				n, err := parseSeats(f.flag, c.String(f.flag))
				if err != nil {
					return err
				}
				*f.dst = &n
			}
			if p.Name == nil && p.PremiumSeats == nil && p.StandardSeats == nil && len(p.AddPBXes) == 0 {
				return usagef("org update: nothing to change; give --name, --premium-seats, --standard-seats or --add-pbx")
			}
			return withAdmin(c, func(a *app.Admin) error {
				org, err := a.OrgUpdate(c.Context, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "updated organization %s (%s): Premium seats %s, Standard seats %s, PBXes %s\n",
					org.ID, org.Name, seatsText(org.PremiumSeats), seatsText(org.StandardSeats), strings.Join(org.PBXes, ", "))
				return nil
			})
		},
	}
}

func seatsText(n int) string {
	if n < 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func orgPrimaryCommand() *cli.Command {
	return &cli.Command{
		Name:        "primary",
		Usage:       "hand the primary administrator role to another user",
		ArgsUsage:   "ID",
		Description: "The new primary administrator must be an active Full Administrator who is a member of the\norganization.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "email of the new primary administrator"},
		},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "organization ID")
			if err != nil {
				return err
			}
			if err := need(c, "to"); err != nil {
				return err
			}
			return withAdmin(c, func(a *app.Admin) error {
				if err := a.OrgPrimary(c.Context, id, c.String("to")); err != nil {
					var inv *app.InvalidError
					if errors.As(err, &inv) {
						return usagef("--to: %s", inv.Problem)
					}
					return err
				}
				org, err := a.Store.OrgGet(c.Context, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "%s is now the primary administrator of %s\n", org.PrimaryAdmin, org.ID)
				return nil
			})
		},
	}
}

// jsonSeats is one tier's seats in org list and org show: total is null
// for no limit, and so is free.
type jsonSeats struct {
	Total *int `json:"total"`
	Used  int  `json:"used"`
	Free  *int `json:"free"`
}

func seatsJSON(total, used int) jsonSeats {
	s := jsonSeats{Used: used}
	if total >= 0 {
		free := app.Free(total, used)
		s.Total, s.Free = &total, &free
	}
	return s
}

// jsonOrg is an organization in org list --json.
type jsonOrg struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	PBXes         []string `json:"pbxes"`
	PremiumSeats  *int     `json:"premium_seats"`
	StandardSeats *int     `json:"standard_seats"`
	PrimaryAdmin  string   `json:"primary_admin"`
}

func limit(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orgListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the organizations",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("org list takes no arguments")
			}
			return withAdmin(c, func(a *app.Admin) error {
				orgs, err := a.OrgList(c.Context)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					out := make([]jsonOrg, len(orgs))
					for i, o := range orgs {
						out[i] = jsonOrg{ID: o.ID, Name: o.Name, PBXes: o.PBXes, PremiumSeats: limit(o.PremiumSeats),
							StandardSeats: limit(o.StandardSeats), PrimaryAdmin: o.PrimaryAdmin}
						if out[i].PBXes == nil {
							out[i].PBXes = []string{}
						}
					}
					return writeJSON(c.App.Writer, out)
				}
				if len(orgs) == 0 {
					fmt.Fprintln(c.App.Writer, "no organizations yet; create one with 'ccbulk org create'")
					return nil
				}
				tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tPBXES\tPREMIUM SEATS\tSTANDARD SEATS\tPRIMARY ADMINISTRATOR")
				for _, o := range orgs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Name, strings.Join(o.PBXes, ","),
						seatsText(o.PremiumSeats), seatsText(o.StandardSeats), o.PrimaryAdmin)
				}
				return tw.Flush()
			})
		},
	}
}

// jsonOrgDetails is org show --json.
type jsonOrgDetails struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	PBXes          []string    `json:"pbxes"`
	PrimaryAdmin   string      `json:"primary_admin"`
	Seats          jsonTiers   `json:"seats"`
	Roles          []jsonRole  `json:"roles"`
	Administrators []jsonAdmin `json:"administrators"`
}

type jsonTiers struct {
	Premium  jsonSeats `json:"premium"`
	Standard jsonSeats `json:"standard"`
}

type jsonRole struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Holders     int      `json:"holders"`
}

type jsonAdmin struct {
	Email     string  `json:"email"`
	AdminRole string  `json:"admin_role"`
	CCRole    string  `json:"cc_role"`
	HomeOrg   *string `json:"home_org"`
	Status    string  `json:"status"`
	Primary   bool    `json:"primary"`
}

func rolesJSON(roles []app.RoleInfo) []jsonRole {
	out := make([]jsonRole, len(roles))
	for i, r := range roles {
		out[i] = jsonRole{Name: r.Name, Permissions: r.Permissions, Holders: r.Holders}
		if out[i].Permissions == nil {
			out[i].Permissions = []string{}
		}
	}
	return out
}

// adminRoleLabel names an admin role as the sheet's columns do.
func adminRoleLabel(r schema.AdminRole) string {
	switch r {
	case schema.RoleFull:
		return schema.ColFullAdmin.Header()
	case schema.RoleCCService:
		return schema.ColCCServiceAdmin.Header()
	case schema.RoleReadOnly:
		return schema.ColReadOnlyAdmin.Header()
	}
	return ""
}

func orgShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show an organization: PBXes, roles, seats used and free per tier, administrators",
		ArgsUsage: "ID",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "organization ID")
			if err != nil {
				return err
			}
			return withAdmin(c, func(a *app.Admin) error {
				d, err := a.OrgShow(c.Context, id)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					out := jsonOrgDetails{ID: d.ID, Name: d.Name, PBXes: d.PBXes, PrimaryAdmin: d.PrimaryAdmin,
						Seats: jsonTiers{Premium: seatsJSON(d.PremiumSeats, d.PremiumUsed), Standard: seatsJSON(d.StandardSeats, d.StandardUsed)},
						Roles: rolesJSON(d.Roles), Administrators: []jsonAdmin{}}
					for _, u := range d.Administrators {
						j := jsonAdmin{Email: u.Email, AdminRole: string(u.AdminRole), CCRole: u.CCRole, Status: string(u.Status), Primary: u.Primary}
						if u.HomeOrg != "" {
							home := u.HomeOrg
							j.HomeOrg = &home
						}
						out.Administrators = append(out.Administrators, j)
					}
					return writeJSON(c.App.Writer, out)
				}
				w := c.App.Writer
				fmt.Fprintf(w, "%s (%s)\n", d.ID, d.Name)
				fmt.Fprintf(w, "PBXes: %s\n", strings.Join(d.PBXes, ", "))
				fmt.Fprintf(w, "primary administrator: %s\n", d.PrimaryAdmin)
				fmt.Fprintln(w, "seats:")
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  TIER\tSEATS\tUSED\tFREE")
				for _, t := range []struct {
					name        string
					seats, used int
				}{{"Contact Center Premium", d.PremiumSeats, d.PremiumUsed}, {"Contact Center Standard", d.StandardSeats, d.StandardUsed}} {
					free := "unlimited"
					if t.seats >= 0 {
						free = strconv.Itoa(app.Free(t.seats, t.used))
					}
					fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", t.name, seatsText(t.seats), t.used, free)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(w, "CC roles:")
				printRoles(w, d.Roles, "  ")
				fmt.Fprintln(w, "administrators:")
				tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  EMAIL\tROLE\tCC ROLE\tHOME ORGANIZATION\tSTATUS")
				for _, u := range d.Administrators {
					role := adminRoleLabel(u.AdminRole)
					if u.Primary {
						role += " (primary)"
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", u.Email, role, u.CCRole, u.HomeOrg, u.Status.Label())
				}
				return tw.Flush()
			})
		},
	}
}

func printRoles(w io.Writer, roles []app.RoleInfo, indent string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%sNAME\tPERMISSIONS\tHOLDERS\n", indent)
	for _, r := range roles {
		fmt.Fprintf(tw, "%s%s\t%s\t%d\n", indent, r.Name, strings.Join(r.Permissions, ","), r.Holders)
	}
	_ = tw.Flush()
}

func orgExternalCommand() *cli.Command {
	return &cli.Command{
		Name:      "external",
		Usage:     "register an external organization whose users may administer tenants",
		ArgsUsage: "ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the organization's name"},
			&cli.StringFlag{Name: "kind", Usage: "partner or other"},
			&cli.BoolFlag{Name: "cc-enabled", Usage: "it runs a contact center of its own"},
		},
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "organization ID")
			if err != nil {
				return err
			}
			if err := need(c, "name", "kind"); err != nil {
				return err
			}
			kind := schema.ExternalKind(c.String("kind"))
			if kind != schema.KindPartner && kind != schema.KindOther {
				return usagef("--kind must be partner or other, not %q", kind)
			}
			ext := schema.ExternalOrg{ID: id, Name: c.String("name"), Kind: kind, CCEnabled: c.Bool("cc-enabled")}
			return withAdmin(c, func(a *app.Admin) error {
				if err := a.ExternalCreate(c.Context, ext); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "registered external organization %s (%s, %s)\n", id, ext.Name, kind)
				return nil
			})
		},
	}
}

func roleCommand() *cli.Command {
	return &cli.Command{
		Name:  "role",
		Usage: "manage CC roles",
		Subcommands: []*cli.Command{
			roleWriteCommand("create", "create a CC role in a tenant"),
			roleWriteCommand("update", "replace the permissions of a CC role"),
			roleDeleteCommand(),
			roleListCommand(),
		},
	}
}

// roleWriteCommand is role create or role update: a name and its permissions.
func roleWriteCommand(verb, usage string) *cli.Command {
	return &cli.Command{
		Name:        verb,
		Usage:       usage,
		ArgsUsage:   "NAME",
		Description: "Permissions are some of view, write, create, modify.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.StringFlag{Name: "permissions", Usage: "comma-separated: view,write,create,modify"},
		},
		Action: func(c *cli.Context) error {
			name, err := oneArg(c, "role NAME")
			if err != nil {
				return err
			}
			if err := need(c, "org", "permissions"); err != nil {
				return err
			}
			perms, err := app.ParsePermissions(c.String("permissions"))
			if err != nil {
				var inv *app.InvalidError
				errors.As(err, &inv)
				return usagef("--permissions: %q is not one of view, write, create, modify", inv.Value)
			}
			role := schema.CCRole{Name: name, Permissions: perms}
			org := c.String("org")
			return withAdmin(c, func(a *app.Admin) error {
				if verb == "create" {
					if err := a.RoleCreate(c.Context, org, role); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "created CC role %q in %s (%s)\n", name, org, strings.Join(perms, ","))
					return nil
				}
				role, err := a.RoleUpdate(c.Context, org, role)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "updated CC role %q in %s (%s)\n", role.Name, org, strings.Join(perms, ","))
				return nil
			})
		},
	}
}

func roleDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:        "delete",
		Usage:       "delete a CC role that no user holds",
		ArgsUsage:   "NAME",
		Description: "Refused while a user holds the role (exit 1, nothing changed); System Default is never deleted.",
		Flags:       []cli.Flag{&cli.StringFlag{Name: "org", Usage: "the tenant"}},
		Action: func(c *cli.Context) error {
			name, err := oneArg(c, "role NAME")
			if err != nil {
				return err
			}
			if err := need(c, "org"); err != nil {
				return err
			}
			return withAdmin(c, func(a *app.Admin) error {
				name, err := a.RoleDelete(c.Context, c.String("org"), name)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "deleted CC role %q of %s\n", name, c.String("org"))
				return nil
			})
		},
	}
}

func roleListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the CC roles of a tenant, with how many users hold each",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("role list takes no arguments")
			}
			if err := need(c, "org"); err != nil {
				return err
			}
			return withAdmin(c, func(a *app.Admin) error {
				roles, err := a.RoleList(c.Context, c.String("org"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return writeJSON(c.App.Writer, rolesJSON(roles))
				}
				printRoles(c.App.Writer, roles, "")
				return nil
			})
		},
	}
}
