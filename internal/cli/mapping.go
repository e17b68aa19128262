package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/mapping"
)

func mappingCommand() *cli.Command {
	return &cli.Command{
		Name:  "mapping",
		Usage: "mapping profiles for other systems' exports (import --mapping)",
		Subcommands: []*cli.Command{
			{
				Name:      "show",
				Usage:     "print a built-in profile as a mapping file to start from",
				ArgsUsage: "NAME (" + strings.Join(mapping.Builtins(), ", ") + ")",
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "profile NAME")
					if err != nil {
						return err
					}
					data, ok := mapping.Builtin(name)
					if !ok {
						return usagef("mapping show: no built-in profile %q; the built-in profiles are %s", name, strings.Join(mapping.Builtins(), ", "))
					}
					_, err = c.App.Writer.Write(data)
					return err
				},
			},
			{
				Name:  "list",
				Usage: "list the built-in profiles",
				Action: func(c *cli.Context) error {
					for _, name := range mapping.Builtins() {
						data, _ := mapping.Builtin(name)
						prof, err := mapping.Parse(name, data)
						if err != nil {
							return err
						}
						if _, err := fmt.Fprintf(c.App.Writer, "%s\t%s\n", name, prof.Description); err != nil {
							return err
						}
					}
					return nil
				},
			},
		},
	}
}
