package e2e

import (
	"testing"

	"github.com/tailor/tailor/e2e/bench"
	"github.com/tailor/tailor/shared/abi"
)

// BenchmarkDecideNative profiles deciding the bench workload natively (go test -bench . -cpuprofile).
func BenchmarkDecideNative(b *testing.B) {
	w := bench.NewWorkload(20, 50)
	e := bench.NewNative()
	e.LoadRules(w.Compact())
	e.Restore(abi.Restore{Seed: "b", Now: w.Events[0].Now})
	for _, ev := range w.Events {
		e.Event(ev)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := w.Page
		p.Now += int64(i)
		if _, err := e.Decide(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideWasm and BenchmarkCallWasm split a decision's cost in wazero between the engine's work
// and the cost of one call across the ABI.
func BenchmarkDecideWasm(b *testing.B) {
	w := bench.NewWorkload(20, 50)
	e := newEngine(b)
	e.LoadRules(w.Compact())
	e.Restore(abi.Restore{Seed: "b", Now: w.Events[0].Now})
	for _, ev := range w.Events {
		e.Event(ev)
	}
	for i := 0; b.Loop(); i++ {
		p := w.Page
		p.Now += int64(i)
		if _, err := e.Decide(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallWasm(b *testing.B) {
	e := newEngine(b)
	for b.Loop() {
		if _, err := e.Hello(); err != nil {
			b.Fatal(err)
		}
	}
}
