package cli

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
)

// cpuProfileFlag is hidden: `make bench` and whoever profiles ccbulk use it
// (ccbulk --cpuprofile FILE import …; go tool pprof FILE).
var cpuProfileFlag = &cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the run to `FILE`", Hidden: true}

// startProfile starts the CPU profile named by --cpuprofile; stopProfile
// (the app's After) stops it.
func startProfile(c *cli.Context) error {
	path := c.String(cpuProfileFlag.Name)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	c.App.Metadata = map[string]any{profileKey: f}
	return nil
}

const profileKey = "cpuprofile"

func stopProfile(c *cli.Context) error {
	if f, ok := c.App.Metadata[profileKey].(*os.File); ok {
		pprof.StopCPUProfile()
		return f.Close()
	}
	return nil
}
