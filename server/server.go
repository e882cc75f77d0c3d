// Package server is Tailor's sync server: it serves the embedded web files (tailor.js, tailor.wasm, the demo),
// pushes live rule sets to browsers over /sync, takes their anonymized count batches, and answers the
// operators' API under /api/.
//
// New builds a Server from a Config whose zero value works; Serve runs it on a listener until its context
// ends, then shuts down gracefully. Flags live in cmd/tailor only.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tailor/tailor/web"
)

// Config configures a Server. The zero value works: every field states its default.
type Config struct {
	// DataDir is the folder of the embedded store (one bbolt file, tailor.db). Default "data".
	DataDir string
	// Token is the operators' bearer token for /api/. Empty: every /api/ request gets 401.
	Token string
	// Origins are the exact origins (scheme://host[:port]) allowed to open /sync. Empty: same origin only.
	Origins []string
	// K: stats cells under K are reported as suppressed. The live rule set's k applies when it is larger, so a
	// push can raise the threshold but never lower it below this floor. Default 10.
	K int
	// Demo pushes DemoRules as the first version when the store holds no rule set.
	Demo bool
	// DemoRules is the demo rule set (JSON). Default web.DemoRules.
	DemoRules []byte
	// Static is what "/" serves. Default the static/ folder of web.Static.
	Static fs.FS
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger

	// ReadLimit is the largest /sync message accepted; past it the connection closes with 1009. Default 64 KiB.
	ReadLimit int64
	// QueueLen is each client's send queue; a client whose queue is full is closed (1008). Default 16.
	QueueLen int
	// PingInterval is how often /sync pings a client; one that does not answer within it is closed. Default 30s.
	PingInterval time.Duration
	// WriteTimeout bounds each write to a client. Default 10s.
	WriteTimeout time.Duration
	// MessageRate is the messages per second a client may send, with MessageBurst at once. Default 10 and 20.
	MessageRate  float64
	MessageBurst int
	// KeepVersions is how many recent rule-set versions are kept in memory to make deltas from. Default 32.
	KeepVersions int
	// ShutdownTimeout bounds the graceful shutdown. Default 10s.
	ShutdownTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.K <= 0 {
		c.K = 10
	}
	if c.DemoRules == nil {
		c.DemoRules = web.DemoRules
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = 64 << 10
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 16
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 10
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 20
	}
	if c.KeepVersions <= 0 {
		c.KeepVersions = 32
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	return c
}

// Server is a running Tailor server's state. Build it with New; it is an http.Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	static *staticFiles
	mux    *http.ServeMux

	// background work (precompression) stops when stop is called; bg waits for it.
	stop      context.CancelFunc
	bg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New builds a Server: it loads the static files and logs what is missing.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger}
	staticFS := cfg.Static
	if staticFS == nil {
		sub, err := fs.Sub(web.Static, "static")
		if err != nil {
			return nil, fmt.Errorf("server: embedded web files: %w", err)
		}
		staticFS = sub
	}
	st, err := loadStatic(staticFS)
	if err != nil {
		return nil, fmt.Errorf("server: loading web files: %w", err)
	}
	s.static = st
	if !st.has("tailor.wasm") {
		s.log.Warn("the engine tailor.wasm is missing from the embedded web files: /tailor.wasm answers 404; run `make wasm` and rebuild the binary")
	}
	s.routes()
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.bg.Go(func() { st.precompress(ctx) })
	return s, nil
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("GET /", s.static)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve answers on ln until ctx ends, then stops accepting, lets requests in flight finish and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// Close stops background work and releases what New opened. Serve calls it on the way out; call it yourself
// only when Serve is never called. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		s.bg.Wait()
	})
	return s.closeErr
}
