package rules

import "math/bits"

// keyTable maps non-zero 64-bit key hashes to values. It is the validator's
// per-key state, so it is built for size: with 4-byte values a million keys
// take about 20 MB, half of a Go map. It is 256 open-addressing shards
// (linear probing, at most 80% full, grown by half) picked by the key's top
// byte; a shard grows on its own, so growing never holds two copies of the
// whole table.
type keyTable[V any] struct {
	shards [256]keyShard[V]
}

type keyShard[V any] struct {
	keys []uint64 // 0: empty slot
	vals []V
	n    int
}

// get returns the value of key k (never 0).
func (t *keyTable[V]) get(k uint64) (V, bool) {
	s := &t.shards[k>>56]
	if len(s.keys) > 0 {
		for i := s.slot(k); ; i = s.next(i) {
			switch s.keys[i] {
			case k:
				return s.vals[i], true
			case 0:
				var zero V
				return zero, false
			}
		}
	}
	var zero V
	return zero, false
}

// set stores v as the value of key k (never 0).
func (t *keyTable[V]) set(k uint64, v V) {
	s := &t.shards[k>>56]
	if (s.n+1)*5 > len(s.keys)*4 {
		s.grow()
	}
	s.put(k, v)
}

// len returns the number of keys.
func (t *keyTable[V]) len() int {
	n := 0
	for i := range t.shards {
		n += t.shards[i].n
	}
	return n
}

// slot is where k's probe starts: the key's low 56 bits scaled to the size.
func (s *keyShard[V]) slot(k uint64) int {
	hi, _ := bits.Mul64(k<<8, uint64(len(s.keys)))
	return int(hi)
}

func (s *keyShard[V]) next(i int) int {
	if i++; i == len(s.keys) {
		return 0
	}
	return i
}

func (s *keyShard[V]) put(k uint64, v V) {
	for i := s.slot(k); ; i = s.next(i) {
		switch s.keys[i] {
		case k:
			s.vals[i] = v
			return
		case 0:
			s.keys[i], s.vals[i] = k, v
			s.n++
			return
		}
	}
}

func (s *keyShard[V]) grow() {
	keys, vals := s.keys, s.vals
	size := max(16, len(keys)+len(keys)/2)
	s.keys, s.vals, s.n = make([]uint64, size), make([]V, size), 0
	for i, k := range keys {
		if k != 0 {
			s.put(k, vals[i])
		}
	}
}
