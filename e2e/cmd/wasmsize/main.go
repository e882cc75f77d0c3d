// Command wasmsize prints the raw, gzip and brotli sizes of tailor.wasm and fails when the brotli size is
// over the engine's budget (DESIGN.md: 560 KB at most, goal 480 KB). `make wasm` runs it with -write, which
// also writes tailor.wasm.br and tailor.wasm.gz beside it: the server embeds and sends those very bytes, so
// the size checked is the size downloaded, and the server does not compress at startup.
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
	write := flag.Bool("write", false, "also write FILE.br and FILE.gz beside the engine")
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
	if *write {
		for ext, b := range map[string][]byte{".br": s.BrotliBytes, ".gz": s.GzipBytes} {
			if err := os.WriteFile(flag.Arg(0)+ext, b, 0o644); err != nil {
				slog.Error("writing the compressed engine", "err", err)
				os.Exit(1)
			}
		}
	}
}
