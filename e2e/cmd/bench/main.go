// Command bench measures Tailor's speed and size, each figure beside what it is compared with, measured
// in the same run, and prints one table. It also writes the rows as JSON so later runs can compare.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tailor/tailor/e2e/bench"
	"github.com/tailor/tailor/e2e/host"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bench [flags]\n\n"+
			"Builds nothing but the comparisons it needs; the engine comes from --wasm or $TAILOR_WASM.\n\n")
		flag.PrintDefaults()
	}
	wasmPath := flag.String("wasm", os.Getenv("TAILOR_WASM"), "the built tailor.wasm")
	short := flag.Bool("short", false, "a quick run that only proves every figure still runs")
	out := flag.String("json", "e2e/out/bench.json", "where to write the rows as JSON (empty: nowhere)")
	bin := flag.String("bin", os.Getenv("TAILOR_BIN"), "the built server binary (tailor)")
	plain := flag.Bool("plain-server", false, "run as the plain websocket broadcast server the fan-out is compared with")
	flag.Parse()
	if *plain {
		if err := bench.PlainServer(); err != nil {
			slog.Error("plain server failed", "err", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*wasmPath, *bin, *short, *out); err != nil {
		slog.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func run(wasmPath, bin string, short bool, out string) error {
	root, err := host.FindRoot()
	if err != nil {
		return err
	}
	if wasmPath == "" || bin == "" {
		return fmt.Errorf("no engine or no server: pass --wasm and --bin, or set TAILOR_WASM and TAILOR_BIN (make bench does)")
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return fmt.Errorf("reading the engine: %w", err)
	}
	// Node resolves a relative path from e2e/, so the binary is named absolutely.
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	cfg := bench.Config{Root: root, Wasm: wasm, Bin: bin, Short: short}
	var rows []bench.Row
	for _, fig := range []struct {
		name string
		fn   func(bench.Config) ([]bench.Row, error)
	}{
		{"engine size", bench.EngineSize}, {"compile", bench.Compile}, {"engine speed", bench.EngineSpeed},
		{"shop replay", bench.ShopReplay}, {"wire cost", bench.WireCost},
		{"decide in Node", bench.JSDecide}, {"Chromium", bench.Chromium},
		{"push fan-out", bench.FanOut}, {"count ingestion", bench.Ingestion},
	} {
		r, err := fig.fn(cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", fig.name, err)
		}
		rows = append(rows, r...)
	}
	fmt.Print(bench.Format(rows))
	if out == "" {
		return nil
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if prev, err := os.ReadFile(out); err == nil {
		var old []bench.Row
		if json.Unmarshal(prev, &old) == nil {
			fmt.Print("\nagainst the previous run (" + out + "):\n" + bench.Compare(old, rows))
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
