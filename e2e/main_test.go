package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailor/tailor/e2e/host"
)

// The engine every test here drives: the real tailor.wasm, built once (or taken from TAILOR_WASM, which
// `make test` sets so that wazero and Chromium test the very same bytes) and compiled once.
var (
	wasmPath  string
	wasmBytes []byte
	runtime   *host.Runtime
	root      string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	root, err = host.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	wasmPath = os.Getenv("TAILOR_WASM")
	if wasmPath == "" {
		dir, err := os.MkdirTemp("", "tailor-e2e")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		wasmPath = filepath.Join(dir, "tailor.wasm")
		start := time.Now()
		if err := host.Build(root, wasmPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: built tailor.wasm in %v\n", time.Since(start).Round(time.Millisecond))
	}
	if wasmBytes, err = os.ReadFile(wasmPath); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	// One compilation, kept on disk too, so later test processes and benchmarks skip it.
	runtime, err = host.NewRuntime(ctx, wasmBytes, compileCacheDir())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer runtime.Close(ctx)
	return m.Run()
}

func compileCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "tailor", "wazero")
}

// newEngine makes a fresh instance of the engine for one test.
func newEngine(t testing.TB) *host.Engine {
	t.Helper()
	e, err := runtime.New(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
