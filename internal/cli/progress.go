package cli

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/ccbulk/ccbulk/importer"
)

// progressEvery is how often, at most, the progress line is redrawn.
const progressEvery = 200 * time.Millisecond

// progress draws a one-line account of an import on a terminal: the phase,
// and while the rows are read their count and rate, with a percentage and
// an estimate of the time left when the total is known. A nil *progress
// does nothing, so callers need not check whether standard error is a
// terminal.
type progress struct {
	w io.Writer

	mu         sync.Mutex
	cur        importer.Progress
	phaseStart time.Time // when the current phase began
	last       time.Time // when the line was last drawn
	drawn      bool
	ticking    bool          // a goroutine redraws the elapsed time of a later phase
	stop       chan struct{} // closed by done
	stopped    bool
}

// newProgress returns a progress line on w for a run that starts now.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, cur: importer.Progress{Phase: "reading"}, phaseStart: time.Now(), stop: make(chan struct{})}
}

// update takes the run's progress; it draws at most every progressEvery,
// and at once when a phase begins. The phases after reading report only
// their start: their line is redrawn with its elapsed time until done.
func (p *progress) update(s importer.Progress) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	now := time.Now()
	if s.Phase != p.cur.Phase {
		p.phaseStart = now
	} else if now.Sub(p.last) < progressEvery {
		p.cur = s
		return
	}
	p.cur = s
	p.draw(now)
	if s.Phase != "reading" && !p.ticking {
		p.ticking = true
		go p.tick()
	}
}

// tick redraws the line, for its elapsed time, until done.
func (p *progress) tick() {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			if !p.stopped {
				p.draw(now)
			}
			p.mu.Unlock()
		}
	}
}

func (p *progress) draw(now time.Time) {
	p.last = now
	fmt.Fprint(p.w, "\r\033[K"+progressLine(p.cur, now.Sub(p.phaseStart)))
	p.drawn = true
}

// above runs write, which writes to the same terminal (the dry run's
// plan), with the line cleared first, so that the two do not mix; the line
// is drawn again, below, at the next update or tick.
func (p *progress) above(write func()) {
	if p == nil {
		write()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn && !p.stopped {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	write()
}

// done clears the line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.stop)
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine is the line for s, elapsed into its phase:
//
//	reading 42% 420,000 rows, 38,000 rows/s, about 15s left
//	reading 420,000 rows, 38,000 rows/s
//	writing… 3s
//
// The percentage is of the bytes of a CSV file of known size, or of the
// rows an XLSX worksheet declares (an estimate, so at most 100%); without
// either there is neither percentage nor estimate.
func progressLine(s importer.Progress, elapsed time.Duration) string {
	if s.Phase != "reading" {
		return fmt.Sprintf("%s… %s", s.Phase, elapsed.Truncate(time.Second))
	}
	line := "reading "
	frac := -1.0
	switch {
	case s.TotalBytes > 0:
		frac = float64(s.BytesRead) / float64(s.TotalBytes)
	case s.ExpectedRows > 0:
		frac = float64(s.Rows) / float64(s.ExpectedRows)
	}
	frac = min(frac, 1)
	if frac >= 0 {
		line += strconv.Itoa(int(frac*100)) + "% "
	}
	line += thousands(int64(s.Rows)) + " rows"
	if elapsed <= 0 {
		return line
	}
	line += ", " + thousands(int64(float64(s.Rows)/elapsed.Seconds())) + " rows/s"
	if frac > 0 && frac < 1 {
		left := time.Duration(float64(elapsed) * (1 - frac) / frac)
		line += ", about " + roughDuration(left) + " left"
	}
	return line
}

// roughDuration writes d as an estimate: seconds (at least 1) under a
// minute, then to the 10 seconds under 10 minutes, then to the minute.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(max(int((d+time.Second-1)/time.Second), 1)) + "s"
	case d < 10*time.Minute:
		d = d.Round(10 * time.Second)
		if s := d % time.Minute; s != 0 {
			return fmt.Sprintf("%dm%02ds", d/time.Minute, s/time.Second)
		}
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d.Round(time.Minute)/time.Minute)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
