package runs

import (
	"context"
	"slices"
	"testing"
)

// TestRunningCountsRunsInFlight: Running is told the number of runs in
// flight as turns are taken and given back, also by a run that waited for
// its turn; a run that gave up waiting is not counted.
func TestRunningCountsRunsInFlight(t *testing.T) {
	var got []int
	s := &Service{MaxRuns: 2, Running: func(n int) { got = append(got, n) }}
	ctx := context.Background()
	r1, err := s.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A third run waits for a turn; one that stops waiting is not counted.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.turn(gone); err == nil {
		t.Fatal("a turn was given beyond MaxRuns")
	}
	third := make(chan func())
	go func() {
		r3, err := s.turn(ctx)
		if err != nil {
			t.Error(err)
		}
		third <- r3
	}()
	r1()
	r3 := <-third
	r2()
	r3()
	if want := []int{1, 2, 1, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Running was told %v, want %v", got, want)
	}
}
