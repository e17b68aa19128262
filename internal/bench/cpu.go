package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// serverCPU returns the CPU seconds the PostgreSQL server has used so far:
// the postmaster and its live children, plus the children it has reaped.
// It returns 0 when the server's processes cannot be read.
var serverCPU = func() float64 { return 0 }

const clockTicks = 100 // USER_HZ on Linux

// watchServer finds the server's postmaster from its data directory.
func (c *config) watchServer() error {
	db, err := sql.Open("postgres", c.adminDB)
	if err != nil {
		return err
	}
	defer db.Close()
	var dataDir string
	if err := db.QueryRow(`SHOW data_directory`).Scan(&dataDir); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return err
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return err
	}
	serverCPU = func() float64 { return treeCPU(pm) }
	return nil
}

func treeCPU(pm int) float64 {
	entries, _ := os.ReadDir("/proc")
	ticks := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state is
		// field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		num := func(k int) int { n, _ := strconv.Atoi(f[k-3]); return n }
		switch {
		case pid == pm:
			ticks += num(14) + num(15) + num(16) + num(17)
		case num(4) == pm:
			ticks += num(14) + num(15)
		}
	}
	return float64(ticks) / clockTicks
}
