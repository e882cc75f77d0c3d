// Package size measures what a visitor downloads: the engine compressed as the server sends it.
package size

import (
	"bytes"
	"compress/gzip"

	"github.com/andybalholm/brotli"
)

// Budget and Goal are the engine's size limits in bytes of brotli (DESIGN.md, decision 3).
const (
	Budget = 560 * 1024
	Goal   = 480 * 1024
)

// Sizes of one artifact, and its compressed forms.
type Sizes struct {
	Raw, Gzip, Brotli int
	GzipBytes         []byte
	BrotliBytes       []byte
}

// Measure compresses b with gzip at level 9 and brotli at quality 11, as the server sends it.
func Measure(b []byte) Sizes {
	var gz, br bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(b)
	bw.Close()
	return Sizes{Raw: len(b), Gzip: gz.Len(), Brotli: br.Len(), GzipBytes: gz.Bytes(), BrotliBytes: br.Bytes()}
}
