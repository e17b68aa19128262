package rules

import (
	"math/rand/v2"
	"testing"
)

// The table must agree with a Go map through growth, overwrites and misses,
// keys clustered in one shard included.
func TestKeyTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var table keyTable[int32]
	want := map[uint64]int32{}
	keys := make([]uint64, 0, 50_000)
	for i := range 50_000 {
		k := rng.Uint64() | 1
		if i%3 == 0 {
			k = k&0x00ff_ffff_ffff_ffff | 0x7700_0000_0000_0000 // all in shard 0x77
		}
		if i%10 == 0 && len(keys) > 0 {
			k = keys[rng.IntN(len(keys))] // overwrite
		}
		keys = append(keys, k)
		table.set(k, int32(i))
		want[k] = int32(i)
	}
	if table.len() != len(want) {
		t.Fatalf("len %d, want %d", table.len(), len(want))
	}
	for k, v := range want {
		if got, ok := table.get(k); !ok || got != v {
			t.Fatalf("get(%#x) = %d, %v; want %d", k, got, ok, v)
		}
	}
	for range 10_000 {
		k := rng.Uint64() | 1
		if _, in := want[k]; in {
			continue
		}
		if got, ok := table.get(k); ok {
			t.Fatalf("get(%#x) = %d for a key never set", k, got)
		}
	}
}
