package store

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Mem is a Store in memory: nothing survives the process. It is for tests and fuzzing, where a file and
// its fsyncs would only slow things down, and it is the reference the Bolt store must agree with.
type Mem struct {
	mu       sync.Mutex
	versions []*Version
	sums     map[sumKey]uint64
	batches  map[uint64]time.Time
}

type sumKey struct {
	key    string
	window uint32
}

// NewMem returns an empty Mem store.
func NewMem() *Mem {
	return &Mem{sums: map[sumKey]uint64{}, batches: map[uint64]time.Time{}}
}

// AppendVersion implements Store.
func (m *Mem) AppendVersion(v *Version) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v.Number != uint64(len(m.versions))+1 {
		return ErrVersionConflict
	}
	c := *v
	m.versions = append(m.versions, &c)
	return nil
}

// Version implements Store.
func (m *Mem) Version(n uint64) (*Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n == 0 || n > uint64(len(m.versions)) {
		return nil, ErrNotFound
	}
	c := *m.versions[n-1]
	return &c, nil
}

// Versions implements Store.
func (m *Mem) Versions() ([]*Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Version, len(m.versions))
	for i, v := range m.versions {
		c := *v
		out[i] = &c
	}
	return out, nil
}

// AddBatch implements Store.
func (m *Mem) AddBatch(id uint64, adds []Add) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.batches[id]; ok {
		return true, nil
	}
	for _, a := range adds {
		m.sums[sumKey{a.Key, a.Window}] += a.N
	}
	m.batches[id] = time.Now()
	return false, nil
}

// PruneBatches implements Store.
func (m *Mem) PruneBatches(t time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, at := range m.batches {
		if at.Before(t) {
			delete(m.batches, id)
			n++
		}
	}
	return n, nil
}

// Sums implements Store, in the order Bolt returns them.
func (m *Mem) Sums() ([]Sum, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Sum, 0, len(m.sums))
	for k, n := range m.sums {
		out = append(out, Sum{Key: k.key, Window: k.window, N: n})
	}
	slices.SortFunc(out, func(a, b Sum) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return int(int64(a.Window) - int64(b.Window))
	})
	return out, nil
}

// Close implements Store.
func (m *Mem) Close() error { return nil }
