package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tailor/tailor/shared/frame"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines left running after the tests:\n%s", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines still running code of this module, waiting a little
// for those that are finishing.
func leakedGoroutines() string {
	var leaked string
	for range 50 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = ""
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "tailor/tailor/server") && !strings.Contains(g, "leakedGoroutines") && !strings.Contains(g, "testing.(*M)") {
				leaked += g + "\n\n"
			}
		}
		if leaked == "" {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	return leaked
}

const testToken = "test-token"

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestServer builds a Server on the test's static files and a temporary data folder, closed at cleanup.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Static == nil {
		cfg.Static = testStatic()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(io.Discard)
	}
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// running is a Server answering on a real listener, shut down at cleanup the way SIGTERM does it.
type running struct {
	*Server
	url  string
	stop func() error
}

func startServer(t *testing.T, cfg Config) *running {
	t.Helper()
	s := newTestServer(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	var stopped bool
	var serr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			serr = <-errc
		}
		return serr
	}
	t.Cleanup(func() { stop() })
	return &running{Server: s, url: "http://" + ln.Addr().String(), stop: stop}
}

// api calls the operators' API with the test token and returns the status and body.
func (r *running) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	return r.apiAs(t, testToken, method, path, body)
}

func (r *running) apiAs(t *testing.T, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *running) push(t *testing.T, js string) {
	t.Helper()
	if code, body := r.api(t, "POST", "/api/rules", js); code != http.StatusCreated {
		t.Fatalf("push: %d %s", code, body)
	}
}

// client is a /sync client speaking shared/frame, as the engine's host does.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string, origin string) (*client, *http.Response, error) {
	t.Helper()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/sync", opts)
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(8 << 20)
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	return c, resp, nil
}

func (r *running) dial(t *testing.T) *client {
	t.Helper()
	c, _, err := dial(t, r.url, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *client) send(f *frame.Frame) {
	c.t.Helper()
	c.sendRaw(f.Encode(nil))
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads the next frame, or returns the error that ended the connection.
func (c *client) recv() (*frame.Frame, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	return frame.Decode(b)
}

func (c *client) expect(kind frame.Kind) *frame.Frame {
	c.t.Helper()
	f, err := c.recv()
	if err != nil {
		c.t.Fatalf("waiting for frame kind %d: %v", kind, err)
	}
	if f.Kind != kind {
		c.t.Fatalf("frame kind %d, want %d (reason %q)", f.Kind, kind, f.Reason)
	}
	return f
}

// expectClose reads until the connection ends and checks its close code.
func (c *client) expectClose(code websocket.StatusCode) string {
	c.t.Helper()
	for {
		_, err := c.recv()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended with %v, want close code %d", err, code)
		}
		if ce.Code != code {
			c.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Reason, code)
		}
		return ce.Reason
	}
}
