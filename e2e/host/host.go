// Package host runs the built tailor.wasm in wazero the way web/tailor.js runs it in a browser: the same
// exports, the same messages. Tests, the sync end-to-end suite and the benchmarks drive the engine through
// it, so what they measure is the artifact visitors download.
package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/tailor/tailor/shared/abi"
)

// BuildFlags are the flags `make wasm` builds the engine with (keep the two in step). Inlining is off
// except in the runtime's map code: in Go's wasm every inlined copy costs download bytes (about 50 KB
// brotli in all), while the map fast paths alone make deciding a page about twice as fast (measured with
// BenchmarkDecideWasm: 920 µs without any inlining, 450-660 µs with it in internal/runtime/..., for 0.7 KB).
var BuildFlags = []string{"build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-gcflags=all=-l", "-gcflags=internal/runtime/...="}

// Build compiles ./wasm of the module rooted at root into out.
func Build(root, out string) error {
	cmd := exec.Command("go", append(append([]string{}, BuildFlags...), "-o", out, "./wasm")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("host: building tailor.wasm: %w\n%s", err, b)
	}
	return nil
}

// Runtime holds one compiled engine; instances are cheap to make from it.
type Runtime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	// CompileTime is how long compiling took (short when the cache held it).
	CompileTime time.Duration
}

// NewRuntime compiles the engine. With cacheDir set, compiled code is kept there and reused by later
// processes.
func NewRuntime(ctx context.Context, wasm []byte, cacheDir string) (*Runtime, error) {
	cfg := wazero.NewRuntimeConfig()
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache: %w", err)
		}
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, fmt.Errorf("host: wasi: %w", err)
	}
	start := time.Now()
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("host: compiling tailor.wasm: %w", err)
	}
	return &Runtime{rt: rt, compiled: compiled, CompileTime: time.Since(start)}, nil
}

// Close releases the runtime and every instance.
func (r *Runtime) Close(ctx context.Context) error { return r.rt.Close(ctx) }

// Engine is one instance of tailor.wasm: one visitor.
type Engine struct {
	mod                 api.Module
	alloc, resPtr, resN api.Function
	fns                 map[string]api.Function
	ctx                 context.Context
}

// Exported calls of the ABI that take input and return a status.
var calls = []string{"tailor_load_rules", "tailor_restore", "tailor_snapshot", "tailor_event", "tailor_set_pref",
	"tailor_decide", "tailor_take_counts", "tailor_sync", "tailor_hello", "tailor_consent", "tailor_prefs",
	"tailor_export", "tailor_forget"}

// New instantiates the engine, calling _initialize as its start function, as tailor.js does. The engine's
// stdout and stderr (Go runtime messages only) go to log.
func (r *Runtime) New(ctx context.Context, log io.Writer) (*Engine, error) {
	if log == nil {
		log = io.Discard
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithStdout(log).WithStderr(log).WithRandSource(rand.Reader).WithSysWalltime().WithSysNanotime()
	mod, err := r.rt.InstantiateModule(ctx, r.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("host: instantiating tailor.wasm: %w", err)
	}
	e := &Engine{mod: mod, ctx: ctx, fns: map[string]api.Function{},
		alloc: mod.ExportedFunction("tailor_alloc"), resPtr: mod.ExportedFunction("tailor_result_ptr"),
		resN: mod.ExportedFunction("tailor_result_len")}
	for _, name := range calls {
		if e.fns[name] = mod.ExportedFunction(name); e.fns[name] == nil {
			return nil, fmt.Errorf("host: tailor.wasm does not export %s", name)
		}
	}
	if e.alloc == nil || e.resPtr == nil || e.resN == nil {
		return nil, errors.New("host: tailor.wasm lacks its buffer exports")
	}
	return e, nil
}

// Close ends the instance.
func (e *Engine) Close() error { return e.mod.Close(e.ctx) }

// ErrEngine wraps the message of a call the engine refused.
var ErrEngine = errors.New("engine refused")

// Call passes in to an exported function and returns its result, copied out of the engine's memory.
func (e *Engine) Call(name string, in []byte) ([]byte, error) {
	fn := e.fns[name]
	if fn == nil {
		return nil, fmt.Errorf("host: no export %s", name)
	}
	ptr := uint64(0)
	if len(in) > 0 {
		res, err := e.alloc.Call(e.ctx, uint64(len(in)))
		if err != nil {
			return nil, fmt.Errorf("host: tailor_alloc: %w", err)
		}
		ptr = res[0]
		if !e.mod.Memory().Write(uint32(ptr), in) {
			return nil, errors.New("host: tailor_alloc returned memory out of range")
		}
	}
	status, err := fn.Call(e.ctx, ptr, uint64(len(in)))
	if err != nil {
		return nil, fmt.Errorf("host: %s: %w", name, err)
	}
	out, err := e.result()
	if err != nil {
		return nil, err
	}
	if status[0] != 0 {
		return nil, fmt.Errorf("%w: %s", ErrEngine, out)
	}
	return out, nil
}

// CallRaw calls an export with a pointer and length of the caller's choosing, to test how the engine
// takes inputs that break the ABI.
func (e *Engine) CallRaw(name string, ptr, n uint32) (status uint64, result []byte, err error) {
	res, err := e.fns[name].Call(e.ctx, uint64(ptr), uint64(n))
	if err != nil {
		return 0, nil, err
	}
	out, err := e.result()
	return res[0], out, err
}

func (e *Engine) result() ([]byte, error) {
	p, err := e.resPtr.Call(e.ctx)
	if err != nil {
		return nil, fmt.Errorf("host: tailor_result_ptr: %w", err)
	}
	n, err := e.resN.Call(e.ctx)
	if err != nil {
		return nil, fmt.Errorf("host: tailor_result_len: %w", err)
	}
	b, ok := e.mod.Memory().Read(uint32(p[0]), uint32(n[0]))
	if !ok {
		return nil, errors.New("host: result out of range")
	}
	return append([]byte(nil), b...), nil
}

// Typed calls, mirroring the engine's Go API (see wasm/engine).

func (e *Engine) LoadRules(compact []byte) error {
	_, err := e.Call("tailor_load_rules", compact)
	return err
}

func (e *Engine) Restore(m abi.Restore) error {
	_, err := e.Call("tailor_restore", m.Encode())
	return err
}

func (e *Engine) Snapshot() ([]byte, error) { return e.Call("tailor_snapshot", nil) }

func (e *Engine) Event(m abi.Event) error {
	_, err := e.Call("tailor_event", m.Encode())
	return err
}

func (e *Engine) SetPref(m abi.Pref) error {
	_, err := e.Call("tailor_set_pref", m.Encode())
	return err
}

func (e *Engine) Decide(m abi.Page) (abi.Decisions, error) {
	var d abi.Decisions
	out, err := e.Call("tailor_decide", m.Encode())
	if err != nil {
		return d, err
	}
	return d, d.Decode(out)
}

func (e *Engine) TakeCounts(m abi.Take) ([]byte, error) {
	return e.Call("tailor_take_counts", m.Encode())
}

func (e *Engine) Sync(frame []byte, now int64) (abi.SyncReply, error) {
	var r abi.SyncReply
	m := abi.Bytes{Data: frame, Now: now}
	out, err := e.Call("tailor_sync", m.Encode())
	if err != nil {
		return r, err
	}
	return r, r.Decode(out)
}

func (e *Engine) Hello() ([]byte, error) { return e.Call("tailor_hello", nil) }

func (e *Engine) Consent(ok bool) error {
	m := abi.Bytes{Data: []byte{0}}
	if ok {
		m.Data[0] = 1
	}
	_, err := e.Call("tailor_consent", m.Encode())
	return err
}

func (e *Engine) PrefsJSON() ([]byte, error) { return e.Call("tailor_prefs", nil) }

func (e *Engine) Export(now int64) ([]byte, error) {
	m := abi.Bytes{Now: now}
	return e.Call("tailor_export", m.Encode())
}

func (e *Engine) Forget(seed string, now int64) error {
	m := abi.Bytes{Seed: seed, Now: now}
	_, err := e.Call("tailor_forget", m.Encode())
	return err
}

// FindRoot walks up from the working directory to the module root (the folder holding go.mod).
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("host: no go.mod above the working directory")
		}
		dir = parent
	}
}
