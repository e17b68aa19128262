package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/app"
)

// The token commands: API tokens for 'ccbulk serve' (docs/REFERENCE.md §6).

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "create, list and revoke API tokens of the HTTP API",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create a token acting for an administrator of one organization, and print it once",
				Description: "Only the token's SHA-256 is kept: the token cannot be shown again. It acts as its actor,\n" +
					"whose role is read again on every request: a demoted or deactivated actor's token stops at once.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "org", Usage: "the tenant the token is bound to"},
					&cli.StringFlag{Name: "actor", Usage: "email of the administrator the token acts for"},
					&cli.StringFlag{Name: "expires", Usage: "how long the token works, like 90d or 12h (default: until revoked)"},
					&cli.StringFlag{Name: "name", Usage: "what the token is for, shown by 'token list'"},
				},
				Action: runTokenCreate,
			},
			{
				Name:  "list",
				Usage: "list the tokens of an organization (never the tokens themselves)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "org", Usage: "the tenant"},
					&cli.BoolFlag{Name: "json", Usage: "print JSON"},
				},
				Action: runTokenList,
			},
			{
				Name:      "revoke",
				Usage:     "revoke a token: it stops working at once",
				ArgsUsage: "ID",
				Action:    runTokenRevoke,
			},
		},
	}
}

func runTokenCreate(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("token create takes no arguments")
	}
	if err := need(c, "org", "actor"); err != nil {
		return err
	}
	req := app.TokenRequest{Org: c.String("org"), Actor: c.String("actor"), Name: c.String("name")}
	if c.IsSet("expires") {
		d, err := app.ParseExpiry(c.String("expires"))
		if err != nil {
			return usagef("--expires %v", err)
		}
		req.Expires = d
	}
	return withAdmin(c, func(a *app.Admin) error {
		t, secret, err := a.TokenCreate(c.Context, req, time.Now())
		if err != nil {
			return err
		}
		expires := "never"
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintln(c.App.Writer, secret)
		fmt.Fprintf(c.App.ErrWriter, "token %d for %s in %s, expires %s; it is shown only now: keep it secret\n", t.ID, t.Actor, t.Org, expires)
		return nil
	})
}

func runTokenList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("token list takes no arguments")
	}
	if err := need(c, "org"); err != nil {
		return err
	}
	return withAdmin(c, func(a *app.Admin) error {
		ts, err := a.TokenList(c.Context, c.String("org"))
		if err != nil {
			return err
		}
		if c.Bool("json") {
			if ts == nil {
				ts = []app.Token{}
			}
			return writeJSON(c.App.Writer, ts)
		}
		if len(ts) == 0 {
			fmt.Fprintf(c.App.Writer, "no tokens; 'ccbulk token create --org %s --actor EMAIL' creates one\n", c.String("org"))
			return nil
		}
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tACTOR\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, termText(orDash(t.Name)), t.Actor, t.CreatedAt.Format(time.RFC3339),
				timeOrDash(t.LastUsedAt), timeOrDash(t.ExpiresAt), timeOrDash(t.RevokedAt))
		}
		return tw.Flush()
	})
}

func runTokenRevoke(c *cli.Context) error {
	arg, err := oneArg(c, "token ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || id <= 0 {
		return usagef("token revoke: ID is a token's number as 'ccbulk token list' shows it, not %q", arg)
	}
	return withAdmin(c, func(a *app.Admin) error {
		t, err := a.TokenRevoke(c.Context, id)
		if errors.Is(err, app.ErrNotFound) {
			return fmt.Errorf("no token %d; 'ccbulk token list --org ID' lists them", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "token %d of %s (%s) revoked on %s\n", t.ID, t.Org, t.Actor, t.RevokedAt.Format(time.RFC3339))
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
