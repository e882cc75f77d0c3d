package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailor/tailor/e2e/host"
	"github.com/tailor/tailor/e2e/size"
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// Row is one figure of the table: Tailor's value beside the comparison measured in the same run.
type Row struct {
	Figure     string  `json:"figure"`
	Tailor     float64 `json:"tailor"`
	Comparison float64 `json:"comparison"`
	Unit       string  `json:"unit"`
	Against    string  `json:"against"` // what the comparison is
	Note       string  `json:"note,omitempty"`
}

// Ratio is Tailor's value over the comparison's.
func (r Row) Ratio() float64 {
	if r.Comparison == 0 {
		return 0
	}
	return r.Tailor / r.Comparison
}

// Config bounds a run.
type Config struct {
	Root  string // module root
	Wasm  []byte // the built engine
	Bin   string // the built server binary
	Short bool   // a quick run that proves every figure still works
}

func (c Config) budget() (minIter, maxIter int, d time.Duration) {
	if c.Short {
		return 3, 50, 50 * time.Millisecond
	}
	return 200, 200000, 2 * time.Second
}

// Time calls fn at least minIter times and then until d has passed or maxIter calls were made, and
// returns the mean time per call.
func Time(minIter, maxIter int, d time.Duration, fn func(i int) error) (time.Duration, error) {
	start := time.Now()
	n := 0
	for ; n < maxIter && (n < minIter || time.Since(start) < d); n++ {
		if err := fn(n); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// EngineSize compares tailor.wasm with an empty Go wasip1 module built in the same run with the same
// flags, so the engine's own cost is visible.
func EngineSize(c Config) ([]Row, error) {
	dir, err := os.MkdirTemp("", "tailor-empty")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := "package main\n\nfunc main() {}\n\n//go:wasmexport noop\nfunc noop() uint32 { return 0 }\n"
	if err := os.MkdirAll(filepath.Join(dir, "wasm"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module empty\n\ngo 1.24\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm", "main.go"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "empty.wasm")
	if err := host.Build(dir, out); err != nil {
		return nil, err
	}
	empty, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	t, e := size.Measure(c.Wasm), size.Measure(empty)
	against := "empty Go wasip1 module, same flags"
	return []Row{
		{Figure: "engine size, raw", Tailor: float64(t.Raw), Comparison: float64(e.Raw), Unit: "B", Against: against},
		{Figure: "engine size, gzip -9", Tailor: float64(t.Gzip), Comparison: float64(e.Gzip), Unit: "B", Against: against},
		{Figure: "engine size, brotli 11", Tailor: float64(t.Brotli), Comparison: float64(e.Brotli), Unit: "B", Against: against,
			Note: fmt.Sprintf("budget %d B (ratio to budget %.2f), engine's own cost %d B", size.Budget, float64(t.Brotli)/size.Budget, t.Brotli-e.Brotli)},
	}, nil
}

// Compile times wazero compiling the engine with an empty cache and again from the cache.
func Compile(c Config) ([]Row, error) {
	dir, err := os.MkdirTemp("", "tailor-cache")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	cold, err := host.NewRuntime(ctx, c.Wasm, dir)
	if err != nil {
		return nil, err
	}
	cold.Close(ctx)
	warm, err := host.NewRuntime(ctx, c.Wasm, dir)
	if err != nil {
		return nil, err
	}
	warm.Close(ctx)
	return []Row{{Figure: "wazero compile, from the cache", Tailor: ms(warm.CompileTime), Comparison: ms(cold.CompileTime),
		Unit: "ms", Against: "cold compile, empty cache"}}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// prepared returns an engine of each kind, loaded with the workload and its history.
func prepared(ctx context.Context, rt *host.Runtime, w *Workload) (*host.Engine, Native, error) {
	wasm, err := rt.New(ctx, nil)
	if err != nil {
		return nil, Native{}, err
	}
	nat := NewNative()
	compact := w.Compact()
	for _, e := range []Engine{wasm, nat} {
		if err := e.LoadRules(compact); err != nil {
			return nil, nat, err
		}
		if err := e.Restore(abi.Restore{Seed: "bench-visitor", Now: w.Events[0].Now}); err != nil {
			return nil, nat, err
		}
		for _, ev := range w.Events {
			if err := e.Event(ev); err != nil {
				return nil, nat, err
			}
		}
	}
	return wasm, nat, nil
}

// EngineSpeed times deciding every slot of a 20-slot, 50-segment set and recording an event, in wazero
// against the same engine compiled natively.
func EngineSpeed(c Config) ([]Row, error) {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, c.Wasm, "")
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	w := NewWorkload(20, 50)
	wasm, nat, err := prepared(ctx, rt, w)
	if err != nil {
		return nil, err
	}
	defer wasm.Close()
	lo, hi, d := c.budget()
	var rows []Row
	var slots [2]int
	decide := func(e Engine, k int) func(int) error {
		return func(i int) error {
			p := w.Page
			p.Now += int64(i) * 1000
			dec, err := e.Decide(p)
			slots[k] = len(dec.Decisions)
			return err
		}
	}
	tw, err := Time(lo, hi, d, decide(wasm, 0))
	if err != nil {
		return nil, err
	}
	tn, err := Time(lo, hi, d, decide(nat, 1))
	if err != nil {
		return nil, err
	}
	if slots[0] != 20 || slots[1] != 20 {
		return nil, fmt.Errorf("bench: decided %v slots, want 20", slots)
	}
	rows = append(rows, Row{Figure: "decide 20 slots / 50 segments, wazero", Tailor: us(tw), Comparison: us(tn), Unit: "µs",
		Against: "same engine, native Go"})
	event := func(e Engine) func(int) error {
		return func(i int) error {
			return e.Event(abi.Event{Kind: abi.EventPageView, Now: w.Page.Now + int64(i)*1000, Category: categories[i%len(categories)]})
		}
	}
	tw, err = Time(lo, hi, d, event(wasm))
	if err != nil {
		return nil, err
	}
	tn, err = Time(lo, hi, d, event(nat))
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Figure: "record a page view, wazero", Tailor: us(tw), Comparison: us(tn), Unit: "µs", Against: "same engine, native Go"})
	return rows, nil
}

// ShopReplay replays the real shop sessions through the engine in wazero, against the native engine.
func ShopReplay(c Config) ([]Row, error) {
	sessions, err := LoadSessions(filepath.Join(c.Root, "e2e", "testdata", "online_shoppers_intention.csv"))
	if err != nil {
		return nil, err
	}
	if c.Short {
		sessions = sessions[:200]
	}
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, c.Wasm, "")
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	wasm, err := rt.New(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer wasm.Close()
	rs := ShopRules(-2, []float64{0.1, 0.1, 0.3, 0, 0, 0.2, 1, 0.2})
	compact := rules.Encode(rs)
	var rates [2]float64
	for k, e := range []Engine{wasm, NewNative()} {
		if err := e.LoadRules(compact); err != nil {
			return nil, err
		}
		if err := e.Restore(abi.Restore{Seed: "shop", Now: 1}); err != nil {
			return nil, err
		}
		start := time.Now()
		for i, s := range sessions {
			if _, err := Replay(e, s, int64(i)*86400000); err != nil {
				return nil, err
			}
		}
		rates[k] = float64(len(sessions)) / time.Since(start).Seconds()
	}
	return []Row{{Figure: fmt.Sprintf("replay %d shop sessions, wazero", len(sessions)), Tailor: rates[0], Comparison: rates[1],
		Unit: "sessions/s", Against: "same engine, native Go"}}, nil
}

// WireCost compares the bytes of a one-segment change of a 100-segment set sent as a delta and in full.
func WireCost(Config) ([]Row, error) {
	w := NewWorkload(20, 100)
	from := w.Compact()
	w.Rules.Segments[42].When = &rules.Cond{Attr: "views.deals.7d", Op: "gte", Value: 5.0}
	to := w.Compact()
	delta, ok := rules.Diff(from, to)
	if !ok {
		return nil, fmt.Errorf("bench: no delta for a one-segment change")
	}
	return []Row{{Figure: "wire cost of a one-segment change (100 segments)", Tailor: float64(len(delta)), Comparison: float64(len(to)),
		Unit: "B", Against: "the full set"}}, nil
}

// Format prints rows as an aligned table.
func Format(rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-52s %14s %14s %8s  %s\n", "figure", "Tailor", "comparison", "ratio", "compared with")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-52s %14s %14s %8.3f  %s", r.Figure, num(r.Tailor, r.Unit), num(r.Comparison, r.Unit), r.Ratio(), r.Against)
		if r.Note != "" {
			fmt.Fprintf(&b, " (%s)", r.Note)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func num(v float64, unit string) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.3f %s", v, unit)
}

// Compare prints, for each figure both runs have, Tailor's value then and now. Absolute values drift on a
// shared machine; the ratio column of each run is what to compare.
func Compare(old, now []Row) string {
	prev := map[string]Row{}
	for _, r := range old {
		prev[r.Figure] = r
	}
	var b strings.Builder
	for _, r := range now {
		p, ok := prev[r.Figure]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%-52s %14s -> %14s   ratio %.3f -> %.3f\n", r.Figure, num(p.Tailor, p.Unit), num(r.Tailor, r.Unit), p.Ratio(), r.Ratio())
	}
	return b.String()
}
