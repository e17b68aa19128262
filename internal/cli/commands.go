package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/exporter"
	"github.com/ccbulk/ccbulk/internal/outfile"
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
			applied, err := db.Migrate(c.Context)
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

// delimiterFlag reads --delimiter: ",", ";", "tab" (any letter case) or a
// literal tab; 0 when it is not set. It is wrong usage with XLSX, which has
// no delimiter.
func delimiterFlag(c *cli.Context, format sheet.Format) (rune, error) {
	if !c.IsSet("delimiter") {
		return 0, nil
	}
	if format == sheet.XLSX {
		return 0, usagef("--delimiter is for CSV; an XLSX export has no delimiter (leave out --delimiter, or use --format csv)")
	}
	switch v := c.String("delimiter"); {
	case v == ",":
		return ',', nil
	case v == ";":
		return ';', nil
	case v == "\t" || strings.EqualFold(v, "tab"):
		return '\t', nil
	default:
		return 0, usagef("--delimiter must be , or ; or tab, not %q", v)
	}
}

// exportFilter reads export's --pbx, --status, --admins and --role. The
// PBX and role names are checked against the tenant by the export.
func exportFilter(c *cli.Context) (exporter.Filter, error) {
	f := exporter.Filter{Admins: c.Bool("admins"), CCRole: c.String("role")}
	for _, p := range c.StringSlice("pbx") {
		if strings.TrimSpace(p) == "" {
			return f, usagef("--pbx is empty; name a PBX")
		}
		f.PBXes = append(f.PBXes, p)
	}
	if c.IsSet("role") && strings.TrimSpace(f.CCRole) == "" {
		return f, usagef("--role is empty; name a CC role")
	}
	switch v := c.String("status"); strings.ToLower(strings.TrimSpace(v)) {
	case "":
		if c.IsSet("status") {
			return f, usagef("--status must be active or inactive, not %q", v)
		}
	case "active":
		f.Status = schema.StatusActive
	case "inactive":
		f.Status = schema.StatusInactive
	default:
		return f, usagef("--status must be active or inactive, not %q", v)
	}
	return f, nil
}

// writeOutput writes through fn to path, or to stdout when path is "" or
// "-". A file is replaced only once complete (outfile); a device or FIFO is
// written in place; new files get the permissions the umask allows.
// sheetOutput reads where a sheet goes (-o, standard output when unset or
// "-") and in what format (--format, else from -o's extension, else CSV);
// a workbook is not written to a terminal.
func sheetOutput(c *cli.Context) (path string, format sheet.Format, err error) {
	path = c.String("output")
	if format, err = outputFormat(c, path); err != nil {
		return "", "", err
	}
	if format == sheet.XLSX && path == "" && isTerminal(c.App.Writer) {
		return "", "", usagef("will not write XLSX to a terminal; name the file with -o")
	}
	return path, format, nil
}

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
			&cli.StringFlag{Name: "delimiter", Usage: "CSV field separator: , or ; or tab (default ,)"},
			&cli.StringSliceFlag{Name: "pbx", Usage: "only users on this PBX (repeatable)"},
			&cli.StringFlag{Name: "status", Usage: "only active or inactive users"},
			&cli.BoolFlag{Name: "admins", Usage: "only users holding an admin role"},
			&cli.StringFlag{Name: "role", Usage: "only users holding this CC role"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("export takes no arguments (got %q); name the file with -o", c.Args().First())
			}
			if err := need(c, "org", "actor"); err != nil {
				return err
			}
			path, format, err := sheetOutput(c)
			if err != nil {
				return err
			}
			delim, err := delimiterFlag(c, format)
			if err != nil {
				return err
			}
			filter, err := exportFilter(c)
			if err != nil {
				return err
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
				res, err = exporter.Export(c.Context, db, w, exporter.Options{Org: c.String("org"), Actor: c.String("actor"), Format: format, BOM: toFile, Delimiter: delim, Filter: filter})
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
			path, format, err := sheetOutput(c)
			if err != nil {
				return err
			}
			err = writeOutput(c, path, func(w io.Writer, toFile bool) error { return exporter.Template(w, format, toFile) })
			if err == nil && path != "" && path != "-" {
				fmt.Fprintf(c.App.Writer, "wrote the template to %s\n", path)
			}
			return err
		},
	}
}
