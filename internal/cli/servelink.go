package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/internal/web"
)

// defaultBaseURL is where 'ccbulk serve' is reached unless --base-url
// says otherwise.
const defaultBaseURL = "http://localhost:8080"

// serveLinkCommand prints a one-time sign-in link to the web front end.
func serveLinkCommand() *cli.Command {
	return &cli.Command{
		Name:  "link",
		Usage: "print a sign-in link to the web front end that works once, before it expires",
		Description: "The link signs EMAIL, an active administrator of the organization, in to the web front end\n" +
			"(for the first administrator, or an installation without an OpenID Connect provider). It\n" +
			"works once, until --ttl has passed; only its hash is stored. The link is printed on standard\n" +
			"output, when it expires on standard error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the organization"},
			&cli.StringFlag{Name: "actor", Usage: "the administrator the link signs in"},
			&cli.DurationFlag{Name: "ttl", Value: web.DefaultLinkTTL, Usage: "how long the link works"},
			&cli.StringFlag{Name: "base-url", Value: defaultBaseURL, Usage: "where browsers reach 'ccbulk serve'"},
		},
		Action: serveLink,
	}
}

func serveLink(c *cli.Context) error {
	if err := need(c, "org", "actor"); err != nil {
		return err
	}
	if ttl := c.Duration("ttl"); ttl <= 0 {
		return usagef("serve link: --ttl is a positive duration such as 15m or 1h (got %s)", ttl)
	}
	base := strings.TrimRight(c.String("base-url"), "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("serve link: --base-url is an http or https URL such as https://ccbulk.example.com (got %q)", c.String("base-url"))
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	link, expires, err := web.CreateSignInLink(c.Context, db, base, c.String("org"), c.String("actor"), c.Duration("ttl"))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, link)
	fmt.Fprintf(c.App.ErrWriter, "the link works once, until %s\n", expires.UTC().Format(time.RFC3339))
	return nil
}
