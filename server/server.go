// Package server is Tailor's sync server: it serves the embedded web files (tailor.js, tailor.wasm, the demo),
// pushes live rule sets to browsers over /sync, takes their anonymized count batches, and answers the
// operators' API under /api/.
//
// New builds a Server from a Config whose zero value works; Serve runs it on a listener until its context
// ends, then shuts down gracefully. Flags live in cmd/tailor only.
package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailor/tailor/server/hub"
	"github.com/tailor/tailor/server/store"
	"github.com/tailor/tailor/web"
)

// Config configures a Server. The zero value works: every field states its default.
type Config struct {
	// DataDir is the folder of the embedded store (one bbolt file, tailor.db). Default "data".
	DataDir string
	// Token is the operators' bearer token for /api/. Empty: every /api/ request gets 401.
	Token string
	// Origins are the exact origins (scheme://host[:port]) allowed to open /sync besides the server's own.
	// Empty: same origin only. Requests without an Origin header (not browsers) are let through.
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
	// Store keeps rule sets and counts. Default a bbolt file in DataDir. The Server closes it on shutdown.
	Store store.Store
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
	if c.Static == nil {
		// web.Static always holds static/ (a .keep file makes sure), so Sub cannot fail.
		c.Static, _ = fs.Sub(web.Static, "static")
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
	cfg     Config
	log     *slog.Logger
	static  *staticFiles
	mux     *http.ServeMux
	store   store.Store
	hub     *hub.Hub
	known   *known
	metrics metrics

	pushMu sync.Mutex              // serialises pushes and rollbacks
	live   atomic.Pointer[liveSet] // nil until the first version

	// draining is set when shutdown begins; connMu orders it with conns.Add so no connection is added to
	// conns after drain has started waiting.
	draining atomic.Bool
	connMu   sync.Mutex
	conns    sync.WaitGroup

	// stop ends background precompression. Close does not wait for it: it holds nothing but memory and stops
	// within one brotli block, while waiting would hold up every shutdown by a second or more.
	stop      context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

// New builds a Server: it loads the web files, opens the store, reads the stored rule sets and, with Demo,
// pushes the demo set into an empty store.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, known: newKnown(), hub: hub.New(cfg.KeepVersions, cfg.QueueLen)}
	st, err := loadStatic(cfg.Static)
	if err != nil {
		return nil, fmt.Errorf("server: loading web files: %w", err)
	}
	s.static = st
	if !st.has("tailor.wasm") {
		s.log.Warn("the engine tailor.wasm is missing from the embedded web files: /tailor.wasm answers 404; run `make wasm` and rebuild the binary")
	}
	s.store = cfg.Store
	if s.store == nil {
		if s.store, err = store.Open(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	if err := s.start(); err != nil {
		s.store.Close()
		return nil, err
	}
	return s, nil
}

// start loads the rule sets, pushes the demo set when asked, and starts background work.
func (s *Server) start() error {
	if err := s.loadVersions(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if s.cfg.Demo {
		if err := s.pushDemo(); err != nil {
			return err
		}
	}
	s.routes()
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.static.precompress(ctx)
	go s.pruneBatches(ctx)
	return nil
}

// batchIDRetention is how long a counted batch's id is kept to spot a retry: past it, every window the
// batch held is older than the server accepts, so a retry is refused anyway and the id can go.
const batchIDRetention = (maxWindowAgeHours + maxWindowAheadHours + 24) * time.Hour

// pruneBatches forgets old batch ids at start and then daily, so the store does not grow by an id per
// batch forever.
func (s *Server) pruneBatches(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.PruneBatches(time.Now().Add(-batchIDRetention)); err != nil {
			s.log.Error("pruning batch ids", "err", err)
		} else if n > 0 {
			s.log.Info("pruned batch ids", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	// "/" takes every method so that "/api/" (every method) is more specific; static answers 405 but to GET and HEAD.
	s.mux.Handle("/", s.static)
	s.mux.HandleFunc("GET /sync", s.handleSync)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.apiRoutes(s.mux)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve answers on ln until ctx ends, then shuts down gracefully (see shutdown) and returns nil. The Server
// is closed when Serve returns.
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
		s.Close()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	return s.shutdown(hs)
}

// shutdown stops accepting, lets API requests finish, closes every websocket with "going away" once the
// batch it is counting is acknowledged, then closes the store.
func (s *Server) shutdown(hs *http.Server) error {
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx) // hijacked websockets are not waited for here: drain does that
	if derr := s.drain(sctx); err == nil {
		err = derr
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// drain closes every /sync connection and waits for them, at most until ctx ends.
func (s *Server) drain(ctx context.Context) error {
	s.connMu.Lock()
	s.draining.Store(true)
	s.connMu.Unlock()
	s.pushMu.Lock() // a push in progress finishes first
	s.hub.Close()
	s.pushMu.Unlock()
	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("websockets still open: %w", ctx.Err())
	}
}

// Close stops background work and releases what New opened. Serve calls it on the way out; call it yourself
// only when Serve is never called. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.draining.Store(true)
		s.stop()
		s.closeErr = s.store.Close()
	})
	return s.closeErr
}
