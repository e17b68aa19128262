package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// checkUnchanged refuses the run when the input file changed while it was
// read: what was checked might not be what the batch records (its SHA-256)
// or what the person meant to import.
func (r *run) checkUnchanged() error {
	if r.before == nil {
		return nil
	}
	now, err := os.Stat(r.opts.File)
	if err == nil && os.SameFile(r.before, now) && now.Size() == r.before.Size() && now.ModTime().Equal(r.before.ModTime()) {
		return nil
	}
	return &schema.FileError{Rule: schema.FFormat, File: r.name,
		Message: "the file changed while it was being read (it was replaced, or its size or modification time changed); nothing was applied: import it again once it is complete"}
}

// chunkRow is a row kept until its chunk has been looked up and checked.
type chunkRow struct {
	row      int
	cells    []string
	in       rules.Input
	findings []schema.Finding
}

// readAhead is how many parsed chunks the reader may hold ahead of the
// database work: while the server looks up and stages one chunk, the next
// ones are read and parsed.
const readAhead = 2

// parsedChunk is a chunk as the reader hands it on: its rows, and the error
// that ended the reading, if any.
type parsedChunk struct {
	rows   []chunkRow
	err    error
	extent sheet.Extent // how far the reader had got at the end of the chunk
}

// eachChunk reads the sheet in chunks, parses each row, fetches the
// database state the chunk needs in two queries, and hands the chunk on.
// Reading and parsing run in a goroutine of their own, a few chunks ahead.
// With whole (the organization read whole: readWhole) it looks nothing up.
func (r *run) eachChunk(ctx context.Context, q Queries, whole *rules.Snapshot, fn func([]chunkRow, *rules.Snapshot) error) error {
	readCtx, cancel := context.WithCancel(ctx)
	chunks := make(chan parsedChunk, readAhead)
	go r.readChunks(readCtx, chunks)
	defer func() {
		cancel()
		// A stream (standard input, a FIFO) is read through a
		// cancelReader: stopping it ends a read blocked on an idle input.
		if r.stopInput != nil {
			r.stopInput()
		}
		for range chunks { // the reader stops before the sheet is closed
		}
	}()
	var err error
	for {
		var c parsedChunk
		var ok bool
		select {
		case c, ok = <-chunks:
		case <-ctx.Done():
			return ctx.Err() // stopped: do not wait for input that may never come
		}
		if !ok {
			break
		}
		r.res.Rows += len(c.rows)
		if c.err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the read failed because the run was stopped
			}
			return c.err
		}
		snap := whole
		if snap == nil {
			if snap, err = r.snapshot(ctx, q, c.rows); err != nil {
				return err
			}
		}
		if err := r.staleOrigins(ctx, c.rows, snap); err != nil {
			return err
		}
		if err := fn(c.rows, snap); err != nil {
			return err
		}
		if r.opts.Progress != nil {
			r.opts.Progress(Progress{Phase: "reading", Rows: r.res.Rows, BytesRead: c.extent.BytesRead,
				TotalBytes: c.extent.TotalBytes, ExpectedRows: c.extent.DeclaredRows})
		}
	}
	return ctx.Err()
}

// readChunks reads and parses the sheet into chunks of ChunkSize rows, sent
// on out (closed at the end); a read error comes with the rows before it.
func (r *run) readChunks(ctx context.Context, out chan<- parsedChunk) {
	defer close(out)
	headers := r.layout.ColumnHeaders()
	var cells [schema.NumColumns]string
	cell := func(c schema.Column) string { return cells[c] }
	newChunk := func() []chunkRow { return make([]chunkRow, 0, r.opts.ChunkSize) }
	send := func(c parsedChunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	chunk := newChunk()
	defer func() {
		// A panic in this goroutine would bypass every caller: it fails
		// the run like any other error.
		if p := recover(); p != nil {
			send(parsedChunk{err: fmt.Errorf("internal error while reading the sheet: %v", p)})
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		rec, err := r.src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		// The reader reuses its record: the chunk keeps its own copy.
		original := slices.Clone(r.layout.OriginalCells(rec.Fields))
		mapped := r.layout.Cells(rec.Row, rec.Fields, &cells)
		in, fs := rules.ParseRow(rec.Row, cell, headers)
		if err := r.checkVersionOrg(rec.Row, &in); err != nil {
			send(parsedChunk{rows: chunk, err: err})
			return
		}
		if len(mapped) > 0 {
			fs = append(mapped, fs...)
		}
		chunk = append(chunk, chunkRow{row: rec.Row, cells: original, in: in, findings: fs})
		if len(chunk) == r.opts.ChunkSize {
			if !send(parsedChunk{rows: chunk, extent: r.extent()}) {
				return
			}
			chunk = newChunk()
		}
	}
	if len(chunk) > 0 {
		send(parsedChunk{rows: chunk, extent: r.extent()})
	}
}

// extent returns how far the sheet's reader has got, when it can tell.
func (r *run) extent() sheet.Extent {
	var e sheet.Extent
	if er, ok := r.src.(sheet.ExtentReader); ok {
		e = er.Extent()
	}
	if e.TotalBytes == 0 && e.BytesRead > 0 {
		e.TotalBytes = r.size // a Source that said its size
	}
	return e
}

// progressPhase tells Options.Progress that the phase name has begun.
func (r *run) progressPhase(name string) {
	if r.opts.Progress != nil {
		r.opts.Progress(Progress{Phase: name, Rows: r.res.Rows})
	}
}

func hashFile(path string, h io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

func displayName(file string) string {
	if file == "-" {
		return "<stdin>"
	}
	return file
}

// inputErr is an error met while looking at the first bytes of standard
// input or a stream: a finding about them as it is, a read error as
// F-FORMAT naming the input.
func inputErr(file string, err error) error {
	var fe *schema.FileError
	if errors.As(err, &fe) {
		if file != "-" {
			fe.File = file
		}
		return fe
	}
	return &schema.FileError{Rule: schema.FFormat, File: displayName(file), Err: err, Message: "cannot read the input: " + err.Error()}
}
