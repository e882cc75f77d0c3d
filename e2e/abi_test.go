package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tailor/tailor/e2e/host"
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// A host that breaks the ABI (a pointer the engine did not hand out, a length past the buffer) gets an
// error status and a message, and the engine keeps answering with its state unchanged.
func TestABIMisuse(t *testing.T) {
	e := newEngine(t)
	rs := rules.RuleSet{Slots: []rules.Slot{{ID: "hero", Default: rules.Variant{ID: "d"}}}}
	if err := e.LoadRules(rules.Encode(&rs)); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(abi.Restore{Seed: "s", Now: 1}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.Snapshot()
	for _, tc := range []struct {
		name   string
		ptr, n uint32
	}{{"null pointer", 0, 10}, {"foreign pointer", 12345, 4}, {"beyond memory", 0xfffffff0, 64}} {
		status, msg, err := e.CallRaw("tailor_event", tc.ptr, tc.n)
		if err != nil {
			t.Fatalf("%s: the engine trapped: %v", tc.name, err)
		}
		if status != 1 || !strings.Contains(string(msg), "tailor_alloc") {
			t.Errorf("%s: status %d, message %q", tc.name, status, msg)
		}
	}
	if after, _ := e.Snapshot(); string(after) != string(before) {
		t.Error("refused calls changed the state")
	}
	d, err := e.Decide(abi.Page{Now: 2, All: true})
	if err != nil || len(d.Decisions) != 1 || d.Decisions[0].Variant != "d" {
		t.Errorf("engine stopped answering: %+v %v", d, err)
	}
}

// The compilation cache: a second runtime on the same cache directory reuses the compiled engine.
func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cold, err := host.NewRuntime(ctx, wasmBytes, dir)
	if err != nil {
		t.Fatal(err)
	}
	cold.Close(ctx)
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("compiling left nothing in the cache directory")
	}
	warm, err := host.NewRuntime(ctx, wasmBytes, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Close(ctx)
	e, err := warm.New(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Hello(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wazero compile: cold %v, from the cache %v", cold.CompileTime, warm.CompileTime)
}
