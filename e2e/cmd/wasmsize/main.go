// Command wasmsize prints the raw, gzip and brotli sizes of tailor.wasm and fails when the brotli size is
// over the engine's budget (DESIGN.md: 560 KB at most, goal 480 KB). `make test` runs it.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/tailor/tailor/e2e/size"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: wasmsize [flags] path/to/tailor.wasm\n\n"+
			"Prints raw, gzip (level 9) and brotli (quality 11) sizes; exits 1 over the budget.\n\n")
		flag.PrintDefaults()
	}
	budget := flag.Int("budget", size.Budget, "largest brotli size allowed, in bytes")
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		slog.Error("reading the engine", "err", err)
		os.Exit(1)
	}
	s := size.Measure(b)
	fmt.Printf("tailor.wasm: raw %d B, gzip %d B, brotli %d B (budget %d B brotli, goal %d B)\n",
		s.Raw, s.Gzip, s.Brotli, *budget, size.Goal)
	if s.Brotli > *budget {
		fmt.Printf("FAIL: tailor.wasm is %d B brotli, %d B over the budget\n", s.Brotli, s.Brotli-*budget)
		os.Exit(1)
	}
}
