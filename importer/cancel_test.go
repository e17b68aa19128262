package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestCancelReader: a cancelReader hands on what it reads unchanged (in
// reads of any size, errors included), and once its context ends a Read
// returns at once, also while the reader under it blocks.
func TestCancelReader(t *testing.T) {
	text := strings.Repeat("Email,First Name\na@acme.example,A\n", 500)
	for _, r := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", strings.NewReader(text)},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(text))},
		{"data with EOF", iotest.DataErrReader(strings.NewReader(text))},
	} {
		t.Run(r.name, func(t *testing.T) {
			got, err := io.ReadAll(newCancelReader(context.Background(), r.r))
			if err != nil || !bytes.Equal(got, []byte(text)) {
				t.Fatalf("read %d bytes, err %v; want %d bytes", len(got), err, len(text))
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := io.ReadAll(newCancelReader(context.Background(), iotest.ErrReader(boom)))
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom", err)
		}
	})
	t.Run("cancelled while blocked", func(t *testing.T) {
		pr, pw := io.Pipe() // nothing is ever written: a read blocks
		defer pw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cr := newCancelReader(ctx, pr)
		done := make(chan error)
		go func() {
			_, err := cr.Read(make([]byte, 10))
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if _, err := cr.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a Read after the end: err %v, want context.Canceled", err)
		}
	})
}
