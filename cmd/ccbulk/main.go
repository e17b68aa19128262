// Command ccbulk keeps a contact center's users, licenses and administrator
// roles in PostgreSQL in step with spreadsheets. See README.md.
package main

import (
	"os"

	"github.com/ccbulk/ccbulk/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
