package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
)

// The real server binary: TAILOR_BIN (make test builds it), or built here once.
var (
	serverOnce sync.Once
	serverBin  string
	serverErr  error
)

func tailorBin(t *testing.T) string {
	t.Helper()
	serverOnce.Do(func() {
		if serverBin = os.Getenv("TAILOR_BIN"); serverBin != "" {
			return
		}
		dir, err := os.MkdirTemp("", "tailor-bin")
		if err != nil {
			serverErr = err
			return
		}
		serverBin = filepath.Join(dir, "tailor")
		cmd := exec.Command("go", "build", "-o", serverBin, "./server/cmd/tailor")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			serverErr = fmt.Errorf("building the server: %v\n%s", err, out)
		}
	})
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return serverBin
}

const testToken = "e2e-operator-token"

// server is one running `tailor serve` process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	data string
	log  *bytes.Buffer
	done chan struct{}
}

var listening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// startServer runs the binary on a free port over data (a fresh folder when empty).
func startServer(t *testing.T, data string, flags ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--token", testToken}, flags...)
	cmd := exec.Command(tailorBin(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, data: data, log: &bytes.Buffer{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-found:
	case <-s.done:
		t.Fatalf("server exited before listening:\n%s", s.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not say where it listens:\n%s", s.log)
	}
	t.Cleanup(func() { s.kill() })
	return s
}

// kill ends the process at once, as a crash or kill -9 would.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// api calls the operator API with the token and decodes the JSON answer into out (when not nil).
func (s *server) api(method, path, body string, out any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// sums reads /api/stats into counter key -> sum over windows, with suppressed cells as -1.
func (s *server) sums() map[string]int64 {
	s.t.Helper()
	var st struct {
		Counters []struct {
			Kind, Slot, Variant, Goal, Segment, Trigger, Arm string
			Sum                                              int64
			Suppressed                                       bool
		}
	}
	if code := s.api("GET", "/api/stats", "", &st); code != 200 {
		s.t.Fatalf("stats: HTTP %d", code)
	}
	out := map[string]int64{}
	for _, c := range st.Counters {
		key := strings.Join([]string{c.Kind, c.Slot, c.Variant, c.Goal, c.Segment, c.Trigger, c.Arm}, "|")
		if c.Suppressed {
			out[key] = -1
		} else {
			out[key] += c.Sum
		}
	}
	return out
}

// visitor is one engine instance (the built tailor.wasm in wazero) with its /sync connection: what a
// browser tab runs, without the browser.
type visitor struct {
	t      *testing.T
	e      engineAPI
	conn   *websocket.Conn
	mu     sync.Mutex
	frames []frame.Kind // kinds of every frame received
	acked  map[uint64]bool
}

type engineAPI interface {
	Hello() ([]byte, error)
	Sync([]byte, int64) (abi.SyncReply, error)
	TakeCounts(abi.Take) ([]byte, error)
	Decide(abi.Page) (abi.Decisions, error)
}

// connect opens /sync, sends the engine's hello and handles every frame the server sends until the
// connection ends.
func (v *visitor) connect(ctx context.Context, serverURL string) error {
	url := "ws" + strings.TrimPrefix(serverURL, "http") + "/sync"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {serverURL}}})
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.conn = conn
	v.mu.Unlock()
	hello, err := v.e.Hello()
	if err != nil {
		return err
	}
	if err := conn.Write(ctx, websocket.MessageBinary, hello); err != nil {
		return err
	}
	go v.read(ctx, conn)
	return nil
}

func (v *visitor) read(ctx context.Context, conn *websocket.Conn) {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		f, err := frame.Decode(b)
		if err != nil {
			v.t.Errorf("server sent a frame that does not decode: %v", err)
			return
		}
		v.mu.Lock()
		v.frames = append(v.frames, f.Kind)
		if f.Kind == frame.KindAck {
			v.acked[f.BatchID] = true
		}
		reply, err := v.e.Sync(b, time.Now().UnixMilli())
		v.mu.Unlock()
		if err != nil {
			v.t.Errorf("engine refused a server frame: %v", err)
			return
		}
		if reply.Send != nil {
			conn.Write(ctx, websocket.MessageBinary, reply.Send)
		}
	}
}

// sendCounts sends the engine's pending batch, if any, and returns its id.
func (v *visitor) sendCounts(ctx context.Context, id uint64) (uint64, error) {
	v.mu.Lock()
	b, err := v.e.TakeCounts(abi.Take{BatchID: id, Now: time.Now().UnixMilli()})
	conn := v.conn
	v.mu.Unlock()
	if err != nil || len(b) == 0 {
		return 0, err
	}
	f, err := frame.Decode(b)
	if err != nil {
		return 0, err
	}
	return f.BatchID, conn.Write(ctx, websocket.MessageBinary, b)
}

func (v *visitor) decide(now int64) (abi.Decisions, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.e.Decide(abi.Page{Now: now, All: true})
}

func (v *visitor) received(k frame.Kind) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, f := range v.frames {
		if f == k {
			n++
		}
	}
	return n
}

func (v *visitor) isAcked(id uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.acked[id]
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
