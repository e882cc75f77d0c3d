package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// Content types we set ourselves: mime.TypeByExtension reads the host's mime tables, which may lack .wasm
// (and without application/wasm a browser refuses streaming compilation).
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// compressible are the types worth compressing; images and fonts are compressed already.
var compressible = map[string]bool{".wasm": true, ".js": true, ".mjs": true, ".html": true, ".css": true, ".json": true, ".svg": true, ".txt": true}

// Brotli at its best level takes seconds on the engine (8 s on a 2.7 MB tailor.wasm), so it runs once, in the
// background from startup; until it is done a client that accepts brotli gets gzip, which takes a fraction of
// a second and is made on first need.
const brotliLevel = 11

// asset is one embedded file with its compressed forms, made once and kept.
type asset struct {
	name     string
	ctype    string
	raw      []byte
	etag     string // hex content hash; each encoding gets its own strong ETag built from it
	compress bool

	gzipOnce sync.Once
	gz       []byte                 // nil when gzip does not make it smaller
	br       atomic.Pointer[[]byte] // set by precompress; points to nil when brotli does not help
}

// staticFiles serves a fixed set of files read once from an fs.FS. Requests are looked up by exact name in a
// map built at startup, so no path a client sends can reach anything outside that set.
type staticFiles struct {
	files map[string]*asset
}

func loadStatic(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			// Dotfiles (.keep placeholders and the like) are not part of the site.
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		s.files[p] = newAsset(p, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.adoptPrecompressed()
	return s, nil
}

// adoptPrecompressed takes X.br and X.gz, written beside X by the build (`make wasm` writes tailor.wasm.br
// and .gz), as X's compressed forms, so the server does not spend seconds compressing at startup. They are
// checked to decompress to X exactly: a stale one from an older build is ignored. They are not served
// under their own names.
func (s *staticFiles) adoptPrecompressed() {
	for name, pre := range s.files {
		ext := path.Ext(name)
		a := s.files[strings.TrimSuffix(name, ext)]
		if a == nil || (ext != ".br" && ext != ".gz") {
			continue
		}
		delete(s.files, name)
		var r io.Reader
		if ext == ".br" {
			r = brotli.NewReader(bytes.NewReader(pre.raw))
		} else if zr, err := gzip.NewReader(bytes.NewReader(pre.raw)); err == nil {
			r = zr
		} else {
			continue
		}
		got, err := io.ReadAll(io.LimitReader(r, int64(len(a.raw))+1))
		if err != nil || !bytes.Equal(got, a.raw) || len(pre.raw) >= len(a.raw) {
			continue
		}
		if ext == ".br" {
			b := pre.raw
			a.br.Store(&b)
		} else {
			a.gzipOnce.Do(func() { a.gz = pre.raw })
		}
	}
}

func newAsset(name string, b []byte) *asset {
	ext := path.Ext(name)
	ctype := contentTypes[ext]
	if ctype == "" {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(b)
	return &asset{name: name, ctype: ctype, raw: b, etag: hex.EncodeToString(sum[:12]), compress: compressible[ext] && len(b) > 256}
}

func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(a.raw) // writes to a bytes.Buffer do not fail
		w.Close()
		if buf.Len() < len(a.raw) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// brotlied returns the brotli form once precompress has made it, else nil.
func (a *asset) brotlied() []byte {
	if p := a.br.Load(); p != nil {
		return *p
	}
	return nil
}

// precompress makes every asset's gzip and brotli forms, stopping early when ctx ends.
func (s *staticFiles) precompress(ctx context.Context) {
	for _, a := range s.files {
		if !a.compress || a.br.Load() != nil {
			continue
		}
		a.gzipped()
		var buf bytes.Buffer
		w := brotli.NewWriterLevel(&buf, brotliLevel)
		// Written in chunks so a shutdown does not wait for a whole large file.
		for rest := a.raw; len(rest) > 0; {
			if ctx.Err() != nil {
				return
			}
			n := min(len(rest), 64<<10)
			w.Write(rest[:n])
			rest = rest[n:]
		}
		w.Close()
		var b []byte
		if buf.Len() < len(a.raw) {
			b = buf.Bytes()
		}
		a.br.Store(&b)
	}
}

// has reports whether name is served.
func (s *staticFiles) has(name string) bool { return s.files[name] != nil }

// lookup maps a URL path to an asset: "/a/b.js" to "a/b.js", "/" and "/dir/" to their index.html.
func (s *staticFiles) lookup(urlPath string) *asset {
	name := strings.TrimPrefix(urlPath, "/")
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	return s.files[name]
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// A path with escaped characters names no file of ours, and the router matched it on its escaped form:
	// "/dashboard%2Findex.html" must not reach the dashboard without the headers its own route sets.
	if r.URL.RawPath != "" {
		http.NotFound(w, r)
		return
	}
	a := s.lookup(r.URL.Path)
	if a == nil {
		// "/demo" -> "/demo/" when the folder has an index, as a file server would.
		if !strings.HasSuffix(r.URL.Path, "/") && s.files[strings.TrimPrefix(r.URL.Path, "/")+"/index.html"] != nil {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	body, enc := a.raw, ""
	if a.compress {
		w.Header().Set("Vary", "Accept-Encoding")
		body, enc = a.pick(r.Header.Get("Accept-Encoding"))
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	// The names are stable (tailor.js, tailor.wasm), not content-hashed, so a new deploy must show at once:
	// the browser keeps the bytes but asks each time with If-None-Match, and gets a 304 while they match.
	h.Set("Cache-Control", "public, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	etag := a.etag
	if enc != "" {
		h.Set("Content-Encoding", enc)
		etag += "-" + enc // a strong ETag names one representation
		// Ranges of a compressed body are of no use to anyone here; serve it whole, with its length.
		r.Header.Del("Range")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	h.Set("ETag", strconv.Quote(etag))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// pick chooses brotli, then gzip, then identity, as Accept-Encoding allows.
func (a *asset) pick(acceptEncoding string) ([]byte, string) {
	accepts := parseAcceptEncoding(acceptEncoding)
	if accepts["br"] {
		if b := a.brotlied(); b != nil {
			return b, "br"
		}
	}
	if accepts["gzip"] {
		if b := a.gzipped(); b != nil {
			return b, "gzip"
		}
	}
	return a.raw, ""
}

// parseAcceptEncoding returns the codings a client accepts, honouring q=0 ("not acceptable") and "*".
func parseAcceptEncoding(h string) map[string]bool {
	out := map[string]bool{}
	star := false
	explicit := map[string]bool{}
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q > 0
			}
		}
		if name == "*" {
			star = ok
			continue
		}
		explicit[name] = true
		out[name] = ok
	}
	if star {
		for _, n := range []string{"br", "gzip"} {
			if !explicit[n] {
				out[n] = true
			}
		}
	}
	return out
}
