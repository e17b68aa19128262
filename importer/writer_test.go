package importer

import (
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// TestWriterGather: the writer takes the chunks waiting into one write, in
// order, up to about writeBatch new users, and never waits for more.
func TestWriterGather(t *testing.T) {
	chunk := func(created, staged int, email string) chunkWrites {
		return chunkWrites{created: []schema.NewUsers{schema.SortNewUsers(make([]schema.Staged, created))},
			staged: make([]schema.Staged, staged), listed: []string{email}}
	}
	tests := []struct {
		name    string
		waiting []chunkWrites
		closed  bool
		// what the first write holds, and how many chunks stay waiting
		created, staged int
		listed          []string
		left            int
	}{
		{"nothing waiting", nil, false, 5000, 0, []string{"a"}, 0},
		{"all waiting", []chunkWrites{chunk(5000, 1, "b"), chunk(0, 7, "c")}, false, 10_000, 8, []string{"a", "b", "c"}, 0},
		{"up to the batch", []chunkWrites{chunk(5000, 0, "b"), chunk(5000, 0, "c"), chunk(5000, 0, "d")}, false,
			15_000, 0, []string{"a", "b", "c"}, 1},
		{"closed behind the last", []chunkWrites{chunk(1, 0, "b")}, true, 5001, 0, []string{"a", "b"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writer{in: make(chan chunkWrites, writeQueue)}
			for _, c := range tt.waiting {
				w.in <- c
			}
			if tt.closed {
				close(w.in)
			}
			got := w.gather(chunk(5000, 0, "a"))
			if newUsers(got) != tt.created || len(got.staged) != tt.staged || len(got.listed) != len(tt.listed) || len(w.in) != tt.left {
				t.Fatalf("gathered %d created, %d staged, listed %v, %d left waiting; want %d, %d, %v, %d",
					newUsers(got), len(got.staged), got.listed, len(w.in), tt.created, tt.staged, tt.listed, tt.left)
			}
			for i := range tt.listed {
				if got.listed[i] != tt.listed[i] {
					t.Fatalf("listed %v, want %v (in order)", got.listed, tt.listed)
				}
			}
		})
	}
}
