package cli

import (
	"fmt"
	"io"
	"time"
)

// progress draws a one-line counter on a terminal. A nil *progress does
// nothing, so callers need not check whether standard error is a terminal.
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
}

func (p *progress) update(rows int) {
	if p == nil || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(rows) / secs
	}
	fmt.Fprintf(p.w, "\r\033[K%d rows read (%.0f rows/s)", rows, rate)
	p.drawn = true
}

func (p *progress) done() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
