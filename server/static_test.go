package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// wasmBytes is compressible, so every encoding is worth serving.
var wasmBytes = bytes.Repeat([]byte("\x00asm tailor engine "), 400)

func testStatic() fstest.MapFS {
	return fstest.MapFS{
		"tailor.wasm":     {Data: wasmBytes},
		"tailor.js":       {Data: []byte(strings.Repeat("console.log('tailor');\n", 50))},
		"demo/index.html": {Data: []byte("<!doctype html><title>demo</title>")},
		"img/logo.png":    {Data: []byte("\x89PNG....")},
		".keep":           {Data: []byte("placeholder")},
	}
}

func loadTestStatic(t *testing.T) *staticFiles {
	t.Helper()
	st, err := loadStatic(testStatic())
	if err != nil {
		t.Fatal(err)
	}
	st.precompress(context.Background())
	return st
}

func get(h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://example.test/", nil)
	r.URL.Path = path // set directly so the test controls exactly what the handler sees
	r.RequestURI = path
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStaticEncodings(t *testing.T) {
	st := loadTestStatic(t)
	tests := []struct {
		name, accept, wantEnc string
	}{
		{"none", "", ""},
		{"gzip only", "gzip", "gzip"},
		{"brotli preferred", "gzip, deflate, br", "br"},
		{"brotli refused with q=0", "br;q=0, gzip", "gzip"},
		{"star", "*", "br"},
		{"identity only", "identity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(st, "/tailor.wasm", "Accept-Encoding", tt.accept)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != "application/wasm" {
				t.Errorf("Content-Type %q", got)
			}
			if got := w.Header().Get("Content-Encoding"); got != tt.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", got, tt.wantEnc)
			}
			if got := w.Header().Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q", got)
			}
			if got := decode(t, tt.wantEnc, w.Body.Bytes()); !bytes.Equal(got, wasmBytes) {
				t.Errorf("body does not decode to the file")
			}
		})
	}
}

func decode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStaticBrotliFallsBackToGzipUntilReady(t *testing.T) {
	st, err := loadStatic(testStatic())
	if err != nil {
		t.Fatal(err)
	}
	w := get(st, "/tailor.wasm", "Accept-Encoding", "br, gzip")
	if got := w.Header().Get("Content-Encoding"); got != "gzip" {
		t.Errorf("before precompression: Content-Encoding %q, want gzip", got)
	}
}

func TestStaticETagRevalidation(t *testing.T) {
	st := loadTestStatic(t)
	first := get(st, "/tailor.wasm", "Accept-Encoding", "br")
	etag := first.Header().Get("ETag")
	if etag == "" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q", etag)
	}
	if cc := first.Header().Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
		t.Errorf("Cache-Control %q", cc)
	}
	again := get(st, "/tailor.wasm", "Accept-Encoding", "br", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation: status %d, %d bytes", again.Code, again.Body.Len())
	}
	gz := get(st, "/tailor.wasm", "Accept-Encoding", "gzip", "If-None-Match", etag)
	if gz.Code != 200 {
		t.Errorf("a brotli ETag must not validate the gzip form: status %d", gz.Code)
	}
	plain := get(st, "/tailor.wasm")
	if plain.Header().Get("ETag") == etag {
		t.Errorf("identity and brotli share ETag %s", etag)
	}
}

func TestStaticPaths(t *testing.T) {
	st := loadTestStatic(t)
	tests := []struct {
		path  string
		code  int
		ctype string
	}{
		{"/tailor.js", 200, "text/javascript; charset=utf-8"},
		{"/demo/", 200, "text/html; charset=utf-8"},
		{"/demo/index.html", 200, "text/html; charset=utf-8"},
		{"/img/logo.png", 200, "image/png"},
		{"/demo", http.StatusMovedPermanently, ""},
		{"/", 404, ""},
		{"/missing.js", 404, ""},
		{"/.keep", 404, ""},
		{"/../server.go", 404, ""},
		{"/demo/../../go.mod", 404, ""},
		{"/%2e%2e/go.mod", 404, ""},
		{"/..%2fgo.mod", 404, ""},
		{"//etc/passwd", 404, ""},
		{"/etc/passwd", 404, ""},
		{"/demo/./index.html", 404, ""},
		{"/tailor.wasm/", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(st, tt.path)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
}

// TestServerStaticThroughMux goes through the real router and a real HTTP server, where the client's raw
// path (with .. and encoded dots) is cleaned by net/http before it reaches the files.
func TestServerStaticThroughMux(t *testing.T) {
	s := newTestServer(t, Config{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, p := range []string{"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/demo/%2e%2e/%2e%2e/go.mod", "/..%5c..%5cgo.mod"} {
		req, _ := http.NewRequest("GET", ts.URL+p, nil)
		req.URL.Opaque = p // send the path exactly as written
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s: served %q", p, body)
		}
	}
	resp, err := ts.Client().Get(ts.URL + "/tailor.wasm")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("/tailor.wasm: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestServerWithoutEngine(t *testing.T) {
	files := testStatic()
	delete(files, "tailor.wasm")
	var logs bytes.Buffer
	s := newTestServer(t, Config{Static: files, Logger: testLogger(&logs)})
	if w := get(s, "/tailor.wasm"); w.Code != 404 {
		t.Errorf("/tailor.wasm without an engine: status %d", w.Code)
	}
	if !strings.Contains(logs.String(), "make wasm") {
		t.Errorf("the log does not say how to build the engine: %s", logs.String())
	}
}

// The build writes tailor.wasm.br and .gz: they are sent as they are, at once, and not under their own
// names; a stale one that does not decompress to the engine is ignored.
func TestStaticAdoptsBuildCompression(t *testing.T) {
	var br, stale bytes.Buffer
	w := brotli.NewWriterLevel(&br, 5)
	w.Write(wasmBytes)
	w.Close()
	w = brotli.NewWriterLevel(&stale, 5)
	w.Write(append([]byte("older "), wasmBytes...))
	w.Close()
	fsys := testStatic()
	fsys["tailor.wasm.br"] = &fstest.MapFile{Data: br.Bytes()}
	fsys["tailor.js.br"] = &fstest.MapFile{Data: stale.Bytes()}
	st, err := loadStatic(fsys)
	if err != nil {
		t.Fatal(err)
	}
	resp := get(st, "/tailor.wasm", "Accept-Encoding", "br")
	if resp.Header().Get("Content-Encoding") != "br" || !bytes.Equal(resp.Body.Bytes(), br.Bytes()) {
		t.Errorf("the build's brotli form was not sent as it is (encoding %q)", resp.Header().Get("Content-Encoding"))
	}
	if st.files["tailor.js"].brotlied() != nil {
		t.Error("a stale .br was adopted")
	}
	if code := get(st, "/tailor.wasm.br").Code; code != http.StatusNotFound {
		t.Errorf("/tailor.wasm.br answered %d, want 404", code)
	}
}

// An escaped slash does not reach a file under another route's headers: it names no file of ours.
func TestStaticRefusesEscapedPaths(t *testing.T) {
	st := loadTestStatic(t)
	r := httptest.NewRequest("GET", "http://example.test/demo%2Findex.html", nil)
	w := httptest.NewRecorder()
	st.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("/demo%%2Findex.html answered %d, want 404", w.Code)
	}
	if code := get(st, "/demo/index.html").Code; code != http.StatusOK {
		t.Errorf("/demo/index.html answered %d", code)
	}
}
