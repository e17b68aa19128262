package importer

import (
	"context"
	"io"
	"os"
)

// A run stopped by a signal (its context cancelled) must end even while it
// waits for input that does not come: a FIFO whose writer is idle, or a
// standard input held open. A read from a pipe blocks in the kernel and
// knows nothing of contexts; the helpers here stop waiting for it.

// cancelReader reads r until ctx is done; from then on Read returns ctx's
// error at once, even while a read of r blocks. Each read of r runs in a
// goroutine of its own into a buffer of cancelReader's; a read still
// blocked when ctx ends is left to finish in the background and its data
// is dropped (the run is stopping).
type cancelReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte // the bytes read and not yet handed on
	err  error  // the error that came with them
	done chan readResult
}

type readResult struct {
	data []byte
	err  error
}

// newCancelReader returns r made to stop at ctx's end.
func newCancelReader(ctx context.Context, r io.Reader) *cancelReader {
	return &cancelReader{ctx: ctx, r: r, done: make(chan readResult, 1)}
}

// readSize is how much one read of the underlying reader asks for.
const readSize = 64 << 10

func (c *cancelReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(c.buf) == 0 && c.err == nil {
		go func() {
			b := make([]byte, readSize)
			n, err := c.r.Read(b)
			c.done <- readResult{b[:n], err}
		}()
		select {
		case res := <-c.done:
			c.buf, c.err = res.data, res.err
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	if len(c.buf) == 0 && c.err != nil {
		err := c.err
		c.err = nil
		return n, err
	}
	return n, nil
}

// isStream reports whether the named input is read as a stream that may
// block for ever: standard input, a FIFO, a character device.
func isStream(file string) bool {
	if file == "-" {
		return true
	}
	fi, err := os.Stat(file)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// openStream opens a FIFO or character device for reading, returning
// ctx's error as soon as ctx ends, also while opening a FIFO waits for its
// writer. A file opened after that is closed.
func openStream(ctx context.Context, file string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(file)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
