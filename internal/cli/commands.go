package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/internal/outfile"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "create or upgrade the schema",
		Action: func(c *cli.Context) error {
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			applied, err := store.Migrate(c.Context, db)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(c.App.Writer, "schema is up to date")
				return nil
			}
			fmt.Fprintf(c.App.Writer, "applied %d migration(s): %s\n", len(applied), strings.Join(applied, ", "))
			return nil
		},
	}
}

func orgCommand() *cli.Command {
	return &cli.Command{
		Name:  "org",
		Usage: "create organizations",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a tenant with its primary administrator",
				ArgsUsage: "ID",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the organization's name"},
					&cli.StringFlag{Name: "primary-admin", Usage: "email of the primary administrator"},
					&cli.StringSliceFlag{Name: "pbx", Usage: "a PBX (repeat for several; default: one named main)"},
					&cli.IntFlag{Name: "premium-seats", Value: -1, Usage: "Contact Center Premium seats (default: no limit)", DefaultText: "no limit"},
					&cli.IntFlag{Name: "standard-seats", Value: -1, Usage: "Contact Center Standard seats (default: no limit)", DefaultText: "no limit"},
				},
				Action: func(c *cli.Context) error {
					id, err := oneArg(c, "organization ID")
					if err != nil {
						return err
					}
					if err := need(c, "name", "primary-admin"); err != nil {
						return err
					}
					email, problem := rules.ParseEmail(c.String("primary-admin"))
					if problem != "" {
						return usagef("--primary-admin: %s", problem)
					}
					for _, f := range []string{"premium-seats", "standard-seats"} {
						if c.IsSet(f) && c.Int(f) < 0 {
							return usagef("--%s must be 0 or more", f)
						}
					}
					db, err := openDB(c)
					if err != nil {
						return err
					}
					defer db.Close()
					if err := store.CheckSchema(c.Context, db); err != nil {
						return err
					}
					org := schema.Org{ID: id, Name: c.String("name"), PBXes: c.StringSlice("pbx"),
						PremiumSeats: c.Int("premium-seats"), StandardSeats: c.Int("standard-seats"), PrimaryAdmin: email}
					if err := store.CreateOrg(c.Context, db, org); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "created organization %s (%s), primary administrator %s\n", id, org.Name, email)
					return nil
				},
			},
			{
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
					db, err := openDB(c)
					if err != nil {
						return err
					}
					defer db.Close()
					if err := store.CheckSchema(c.Context, db); err != nil {
						return err
					}
					ext := schema.ExternalOrg{ID: id, Name: c.String("name"), Kind: kind, CCEnabled: c.Bool("cc-enabled")}
					if err := store.CreateExternal(c.Context, db, ext); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "registered external organization %s (%s, %s)\n", id, ext.Name, kind)
					return nil
				},
			},
		},
	}
}

func roleCommand() *cli.Command {
	return &cli.Command{
		Name:  "role",
		Usage: "manage CC roles",
		Subcommands: []*cli.Command{{
			Name:      "create",
			Usage:     "create a CC role in a tenant",
			ArgsUsage: "NAME",
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
				var perms []string
				for _, p := range strings.Split(c.String("permissions"), ",") {
					p = strings.ToLower(strings.TrimSpace(p))
					if p == "" {
						continue
					}
					if !slices.Contains(schema.CCPermissions, p) {
						return usagef("--permissions: %q is not one of view, write, create, modify", p)
					}
					perms = append(perms, p)
				}
				db, err := openDB(c)
				if err != nil {
					return err
				}
				defer db.Close()
				if err := store.CheckSchema(c.Context, db); err != nil {
					return err
				}
				if err := store.CreateRole(c.Context, db, c.String("org"), name, perms); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return &schema.FileError{Rule: schema.FOrg, Message: fmt.Sprintf("no organization %q; create it with 'ccbulk org create'", c.String("org"))}
					}
					return err
				}
				fmt.Fprintf(c.App.Writer, "created CC role %q in %s (%s)\n", name, c.String("org"), strings.Join(perms, ","))
				return nil
			},
		}},
	}
}

func formatFlag(usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "format", Usage: usage}
}

// outputFormat decides the format from --format, else -o's extension.
func outputFormat(c *cli.Context, path string) (sheet.Format, error) {
	switch f := strings.ToLower(c.String("format")); f {
	case "csv":
		return sheet.CSV, nil
	case "xlsx":
		return sheet.XLSX, nil
	case "":
		if path != "" && path != "-" {
			return sheet.FormatOf(path), nil
		}
		return sheet.CSV, nil
	default:
		return "", usagef("--format must be csv or xlsx, not %q", f)
	}
}

// writeOutput writes through fn to path, or to stdout when path is "" or
// "-". A file is replaced only once complete (outfile); a device or FIFO is
// written in place; new files get the permissions the umask allows.
func writeOutput(c *cli.Context, path string, fn func(w io.Writer, toFile bool) error) error {
	return outfile.WriteTo(path, c.App.Writer, fn)
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write the users the actor may see to CSV or XLSX",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.StringFlag{Name: "actor", Usage: "email of the administrator running the export"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: standard output)"},
			formatFlag("csv or xlsx (default: from -o, else csv)"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("export takes no arguments (got %q); name the file with -o", c.Args().First())
			}
			if err := need(c, "org", "actor"); err != nil {
				return err
			}
			path := c.String("output")
			format, err := outputFormat(c, path)
			if err != nil {
				return err
			}
			if format == sheet.XLSX && path == "" && isTerminal(c.App.Writer) {
				return usagef("will not write XLSX to a terminal; name the file with -o")
			}
			if format == sheet.XLSX {
				limitMemory(limitXLSX)
			} else {
				limitMemory(exportLimitCSV)
			}
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			var res exporter.Result
			err = writeOutput(c, path, func(w io.Writer, toFile bool) error {
				var err error
				res, err = exporter.Export(c.Context, db, w, exporter.Options{Org: c.String("org"), Actor: c.String("actor"), Format: format, BOM: toFile})
				return err
			})
			if err != nil {
				return err
			}
			if path != "" && path != "-" {
				masked := ""
				if res.Masked {
					masked = " (masked: Full and Read-only Administrator columns left blank)"
				}
				fmt.Fprintf(c.App.Writer, "exported %d users to %s%s\n", res.Users, path, masked)
			}
			return nil
		},
	}
}

func templateCommand() *cli.Command {
	return &cli.Command{
		Name:  "template",
		Usage: "write an empty sheet with the template's headers",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: standard output)"},
			formatFlag("csv or xlsx (default: from -o, else csv)"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("template takes no arguments; name the file with -o")
			}
			path := c.String("output")
			format, err := outputFormat(c, path)
			if err != nil {
				return err
			}
			if format == sheet.XLSX && path == "" && isTerminal(c.App.Writer) {
				return usagef("will not write XLSX to a terminal; name the file with -o")
			}
			err = writeOutput(c, path, func(w io.Writer, toFile bool) error { return exporter.Template(w, format, toFile) })
			if err == nil && path != "" && path != "-" {
				fmt.Fprintf(c.App.Writer, "wrote the template to %s\n", path)
			}
			return err
		},
	}
}

func batchesCommand() *cli.Command {
	return &cli.Command{
		Name:  "batches",
		Usage: "list a tenant's import and undo batches",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the tenant"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			if err := need(c, "org"); err != nil {
				return err
			}
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := store.CheckSchema(c.Context, db); err != nil {
				return err
			}
			if _, err := store.LoadOrg(c.Context, db, c.String("org")); errors.Is(err, store.ErrNotFound) {
				return &schema.FileError{Rule: schema.FOrg, Message: fmt.Sprintf("no organization %q", c.String("org"))}
			}
			bs, err := store.ListBatches(c.Context, db, c.String("org"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				type jsonBatch struct {
					store.Batch
					UndoOf     *int64  `json:"undo_of"`
					UndoneBy   *int64  `json:"undone_by"`
					StartedAt  string  `json:"started_at"`
					FinishedAt *string `json:"finished_at"`
				}
				out := make([]jsonBatch, len(bs))
				for i, b := range bs {
					out[i] = jsonBatch{Batch: b, StartedAt: b.StartedAt.UTC().Format("2006-01-02T15:04:05Z")}
					if b.UndoOf.Valid {
						out[i].UndoOf = &b.UndoOf.Int64
					}
					if b.UndoneBy.Valid {
						out[i].UndoneBy = &b.UndoneBy.Int64
					}
					if b.FinishedAt.Valid {
						s := b.FinishedAt.Time.UTC().Format("2006-01-02T15:04:05Z")
						out[i].FinishedAt = &s
					}
				}
				enc := json.NewEncoder(c.App.Writer)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(bs) == 0 {
				fmt.Fprintf(c.App.Writer, "%s has no batches yet\n", c.String("org"))
				return nil
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BATCH\tKIND\tSTATUS\tSTARTED\tACTOR\tFILE\tROWS\tCREATED\tUPDATED\tDEACTIVATED\tDELETED\tREJECTED")
			for _, b := range bs {
				file := b.FileName
				if b.UndoOf.Valid {
					file = fmt.Sprintf("(undo of %d)", b.UndoOf.Int64)
				}
				status := b.Status
				if b.UndoneBy.Valid {
					status = fmt.Sprintf("%s, undone by %d", status, b.UndoneBy.Int64)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", b.ID, b.Kind, status,
					b.StartedAt.UTC().Format("2006-01-02 15:04"), b.Actor, file, b.Rows, b.Created, b.Updated, b.Deactivated, b.Deleted, b.Rejected)
			}
			return tw.Flush()
		},
	}
}
