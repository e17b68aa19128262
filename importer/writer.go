package importer

import (
	"context"
	"fmt"

	"github.com/ccbulk/ccbulk/schema"
)

const (
	writeQueue = 3      // checked chunks waiting for the writer
	writeBatch = 15_000 // new users written together, at most (about)
)

// chunkWrites is what one checked chunk writes in the batch's transaction.
type chunkWrites struct {
	created []schema.NewUsers // new users: straight into users (store.Create)
	staged  []schema.Staged   // users that exist: merged at the end (store.Merge)
	listed  []string          // --sync: every email the chunk lists
}

// writer writes the chunks in the batch's transaction, tx, in a
// goroutine of its own: the server writes one chunk while the client looks
// up and checks the next (the look-ups run on a snapshot of their own
// connection). Up to writeQueue checked chunks wait while it writes; it
// writes those waiting together (gather).
type writer struct {
	in     chan chunkWrites
	done   chan struct{}
	cancel context.CancelFunc
	err    error // read once done is closed
}

func startWriter(ctx context.Context, tx Tx, tenant string, batch int64) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{in: make(chan chunkWrites, writeQueue), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(w.done)
		defer func() {
			// A panic here would bypass every caller: it fails the run
			// like any other error.
			if p := recover(); p != nil {
				w.err = fmt.Errorf("internal error while writing the batch: %v", p)
			}
		}()
		for c := range w.in {
			if err := writeChunk(ctx, tx, tenant, batch, w.gather(c)); err != nil {
				w.err = err
				return
			}
		}
	}()
	return w
}

// gather adds to c the chunks already waiting, until about writeBatch new
// users: the chunks that queued up while the last ones were written go
// together, in fewer and longer COPYs. It never waits for a chunk.
func (w *writer) gather(c chunkWrites) chunkWrites {
	for newUsers(c) < writeBatch {
		select {
		case next, ok := <-w.in:
			if !ok {
				return c
			}
			c.created = append(c.created, next.created...)
			c.staged = append(c.staged, next.staged...)
			c.listed = append(c.listed, next.listed...)
		default:
			return c
		}
	}
	return c
}

func newUsers(c chunkWrites) int {
	n := 0
	for _, u := range c.created {
		n += u.Len()
	}
	return n
}

func writeChunk(ctx context.Context, tx Tx, tenant string, batch int64, c chunkWrites) error {
	if err := tx.UserCreate(ctx, schema.UserCreateParams{Tenant: tenant, Batch: batch, Users: c.created}); err != nil {
		return err
	}
	if err := tx.UserStage(ctx, c.staged); err != nil {
		return err
	}
	return tx.ListedStage(ctx, c.listed)
}

// send hands a chunk to the writer, waiting while it is busy; once a write
// has failed it returns that error.
func (w *writer) send(c chunkWrites) error {
	select {
	case w.in <- c:
		return nil
	case <-w.done:
		return w.err
	}
}

// finish waits until every chunk sent is written and returns the first
// error. With abandon it stops the write in progress instead: the
// transaction is being rolled back.
func (w *writer) finish(abandon bool) error {
	if abandon {
		w.cancel()
	}
	close(w.in)
	<-w.done
	w.cancel()
	return w.err
}
