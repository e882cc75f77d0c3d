package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Every Store implementation runs the same cases.
func stores(t *testing.T) map[string]func() Store {
	dir := t.TempDir()
	return map[string]func() Store{
		"bolt": func() Store {
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"mem": func() Store { return NewMem() },
	}
}

func TestVersions(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			defer s.Close()
			if _, err := s.Version(1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("empty store: %v", err)
			}
			v1 := &Version{Number: 1, Hash: "a", Created: time.Unix(100, 0).UTC(), JSON: []byte(`{"name":"x"}`), Compact: []byte{1, 2, 3}}
			if err := s.AppendVersion(v1); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendVersion(&Version{Number: 3}); !errors.Is(err, ErrVersionConflict) {
				t.Errorf("a gap: %v", err)
			}
			if err := s.AppendVersion(&Version{Number: 1}); !errors.Is(err, ErrVersionConflict) {
				t.Errorf("a repeat: %v", err)
			}
			if err := s.AppendVersion(&Version{Number: 2, Hash: "b", From: 1}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Version(1)
			if err != nil || !reflect.DeepEqual(got, v1) {
				t.Errorf("Version(1) = %+v, %v", got, err)
			}
			all, err := s.Versions()
			if err != nil || len(all) != 2 || all[1].From != 1 {
				t.Errorf("Versions = %+v, %v", all, err)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			defer s.Close()
			adds := []Add{{Key: "1|hero|a|1", Window: 10, N: 2}, {Key: "3|seg", Window: 10, N: 1}, {Key: "1|hero|a|1", Window: 34, N: 5}}
			if dup, err := s.AddBatch(7, adds); dup || err != nil {
				t.Fatalf("first: %v %v", dup, err)
			}
			if dup, err := s.AddBatch(7, adds); !dup || err != nil {
				t.Fatalf("again: %v %v", dup, err)
			}
			if dup, err := s.AddBatch(8, adds[:1]); dup || err != nil {
				t.Fatalf("second: %v %v", dup, err)
			}
			got, err := s.Sums()
			want := []Sum{{"1|hero|a|1", 10, 4}, {"1|hero|a|1", 34, 5}, {"3|seg", 10, 1}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Sums = %v, %v; want %v", got, err, want)
			}
		})
	}
}

// TestBoltConcurrentBatches: bbolt's Batch coalesces concurrent commits and may run a function twice; every
// batch must count exactly once.
func TestBoltConcurrentBatches(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			id := uint64(i%25 + 1) // every id twice
			if _, err := s.AddBatch(id, []Add{{Key: "3|s", Window: 1, N: 1}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sums, _ := s.Sums()
	if len(sums) != 1 || sums[0].N != 25 {
		t.Errorf("sums %v, want 25", sums)
	}
}

func TestBoltDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.AppendVersion(&Version{Number: 1, Hash: "h", Compact: []byte{9}})
	s.AddBatch(1, []Add{{Key: "4|t", Window: 5, N: 3}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if dup, _ := s.AddBatch(1, nil); !dup {
		t.Error("the batch id was forgotten")
	}
	sums, _ := s.Sums()
	vs, _ := s.Versions()
	if len(sums) != 1 || sums[0].N != 3 || len(vs) != 1 {
		t.Errorf("after reopen: sums %v versions %d", sums, len(vs))
	}
}

// Batch ids are forgotten once no batch could be sent again with them (the server refuses windows that
// old): a batch counted before the cut is new again after the prune, one counted after stays a duplicate.
func TestPruneBatches(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			defer s.Close()
			adds := []Add{{Key: "3|seg", Window: 10, N: 1}}
			for id := uint64(1); id <= 50; id++ {
				if _, err := s.AddBatch(id, adds); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.PruneBatches(time.Now().Add(-time.Hour)); n != 0 || err != nil {
				t.Fatalf("pruning before any batch forgot %d (%v)", n, err)
			}
			if n, err := s.PruneBatches(time.Now().Add(time.Hour)); n != 50 || err != nil {
				t.Fatalf("pruning after every batch forgot %d, want 50 (%v)", n, err)
			}
			if dup, err := s.AddBatch(7, adds); dup || err != nil {
				t.Errorf("a pruned id is still known: %v %v", dup, err)
			}
			if dup, _ := s.AddBatch(7, adds); !dup {
				t.Error("an id stored after the prune is not known")
			}
		})
	}
}
