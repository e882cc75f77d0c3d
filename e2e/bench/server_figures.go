package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"go.etcd.io/bbolt"

	"github.com/tailor/tailor/shared/frame"
)

// process is a server the figures measure from outside: `tailor serve`, or the plain broadcast server
// this command runs as a comparison.
type process struct {
	cmd *exec.Cmd
	url string
}

var listening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

func start(name string, args ...string) (*process, error) {
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return &process{cmd: cmd, url: u}, nil
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("bench: " + name + " did not say where it listens")
	}
}

func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// rssKB reads the process's resident memory.
func (p *process) rssKB() (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("bench: no VmRSS")
}

// waitIdle waits until the process stops using the CPU (the server compresses the engine in the background
// after it starts), so that neither timings nor memory readings include that work.
func (p *process) waitIdle() error {
	ticks := func() (int64, error) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
		if err != nil {
			return 0, err
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		return u + s, nil
	}
	prev, err := ticks()
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		now, err := ticks()
		if err != nil {
			return err
		}
		if now-prev <= 1 {
			return nil
		}
		prev = now
	}
	return errors.New("bench: the server never went idle")
}

const benchToken = "bench-token"

func (p *process) push(body string) error {
	req, _ := http.NewRequest("POST", p.url+"/api/rules", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("bench: push answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func pushRules(variant string) string {
	return `{"name":"bench","report_window_hours":24,"segments":[{"id":"everyone","when":{"all":[]}}],
	 "slots":[{"id":"hero","default":{"id":"d"},"variants":[{"id":"` + variant + `","when":{"segment":"everyone"}}]}]}`
}

// clients holds n open /sync connections that count the frames they receive.
type clients struct {
	conns    []*websocket.Conn
	got      atomic.Int64 // clients that have the awaited message
	awaiting atomic.Uint64
	last     atomic.Int64 // when the last of them got it, Unix ns
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// dial opens n connections; hello is sent on each (nil: nothing is sent). match tells whether a message
// is the awaited one.
func dial(url string, n int, hello []byte, match func([]byte) bool) (*clients, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cs := &clients{cancel: cancel}
	ws := "ws" + strings.TrimPrefix(url, "http") + "/sync"
	for i := 0; i < n; i++ {
		c, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {url}}})
		if err != nil {
			cs.close()
			return nil, fmt.Errorf("bench: client %d of %d: %w", i, n, err)
		}
		c.SetReadLimit(1 << 20)
		if hello != nil {
			if err := c.Write(ctx, websocket.MessageBinary, hello); err != nil {
				cs.close()
				return nil, err
			}
		}
		cs.conns = append(cs.conns, c)
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			var had uint64
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if a := cs.awaiting.Load(); a != had && match(b) {
					had = a
					cs.got.Add(1)
					cs.last.Store(time.Now().UnixNano())
				}
			}
		}()
	}
	return cs, nil
}

// await arms the clients for the next awaited message and returns a function that waits until all have
// it and gives the time from start.
func (cs *clients) await() func(start time.Time, limit time.Duration) (time.Duration, error) {
	cs.got.Store(0)
	cs.awaiting.Add(1)
	return func(start time.Time, limit time.Duration) (time.Duration, error) {
		deadline := time.Now().Add(limit)
		for cs.got.Load() < int64(len(cs.conns)) {
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("bench: only %d of %d clients got the message", cs.got.Load(), len(cs.conns))
			}
			time.Sleep(time.Millisecond)
		}
		return time.Duration(cs.last.Load() - start.UnixNano()), nil
	}
}

func (cs *clients) close() {
	for _, c := range cs.conns {
		c.CloseNow()
	}
	cs.conns = nil
	cs.cancel()
	cs.wg.Wait()
}

// startTailor runs the server binary on a fresh data folder with a first rule set pushed, once it has
// gone idle; done stops it and removes the folder.
func startTailor(c Config) (srv *process, done func(), err error) {
	data, err := os.MkdirTemp("", "tailor-bench")
	if err != nil {
		return nil, nil, err
	}
	srv, err = start(c.Bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--token", benchToken)
	if err != nil {
		os.RemoveAll(data)
		return nil, nil, err
	}
	done = func() { srv.stop(); os.RemoveAll(data) }
	if err = srv.push(pushRules("one")); err == nil {
		err = srv.waitIdle()
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return srv, done, nil
}

// isVersion matches a Full or Delta frame carrying version v.
func isVersion(v uint64) func([]byte) bool {
	return func(b []byte) bool {
		f, err := frame.Decode(b)
		return err == nil && (f.Kind == frame.KindFull || f.Kind == frame.KindDelta) && f.Version == v
	}
}

// FanOut times a push reaching every one of n connected clients, against a plain coder/websocket broadcast
// of a message of the same size to the same number of clients, and measures memory per idle connection.
func FanOut(c Config) ([]Row, error) {
	sizes := []int{1000, 10000}
	if c.Short {
		sizes = []int{20, 100}
	}
	var rows []Row
	for _, n := range sizes {
		r, err := fanOut(c, n)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func fanOut(c Config, n int) ([]Row, error) {
	srv, done, err := startTailor(c)
	if err != nil {
		return nil, err
	}
	defer done()
	before, err := srv.rssKB()
	if err != nil {
		return nil, err
	}
	hello := (&frame.Frame{Kind: frame.KindHello, EngineVersion: "bench"}).Encode(nil)
	var size atomic.Int64
	cs, err := dial(srv.url, n, hello, func(b []byte) bool {
		if isVersion(2)(b) {
			size.Store(int64(len(b)))
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	defer cs.close()
	if err := srv.waitIdle(); err != nil { // every hello answered with version 1
		return nil, err
	}
	after, err := srv.rssKB()
	if err != nil {
		return nil, err
	}
	wait := cs.await()
	t0 := time.Now()
	if err := srv.push(pushRules("two")); err != nil {
		return nil, err
	}
	tailor, err := wait(t0, time.Minute)
	if err != nil {
		return nil, err
	}
	// Free these connections first: the comparison opens as many again, and both would not fit the
	// process's descriptor limit at 10,000.
	cs.close()
	plain, plainMem, err := plainFanOut(c, n, int(size.Load()))
	if err != nil {
		return nil, err
	}
	rows := []Row{{Figure: fmt.Sprintf("push reaches the last of %d clients", n), Tailor: ms(tailor), Comparison: ms(plain),
		Unit: "ms", Against: fmt.Sprintf("plain coder/websocket broadcast of %d B", size.Load()),
		Note: "Tailor's time includes validating, storing and encoding the pushed set"}}
	if n >= 10000 || c.Short && n == 100 {
		rows = append(rows, Row{Figure: fmt.Sprintf("memory per idle connection (%d clients)", n), Tailor: float64(after-before) * 1024 / float64(n),
			Comparison: plainMem, Unit: "B", Against: "plain coder/websocket server holding the same connections"})
	}
	return rows, nil
}

// plainFanOut runs this command as a plain broadcast server, connects n clients and times one broadcast.
func plainFanOut(c Config, n, size int) (time.Duration, float64, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	p, err := start(self, "-plain-server")
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	before, err := p.rssKB()
	if err != nil {
		return 0, 0, err
	}
	cs, err := dial(p.url, n, nil, func(b []byte) bool { return len(b) == size })
	if err != nil {
		return 0, 0, err
	}
	defer cs.close()
	if err := p.waitIdle(); err != nil {
		return 0, 0, err
	}
	after, err := p.rssKB()
	if err != nil {
		return 0, 0, err
	}
	wait := cs.await()
	t0 := time.Now()
	resp, err := http.Post(p.url+"/broadcast?size="+strconv.Itoa(size), "", nil)
	if err != nil {
		return 0, 0, err
	}
	resp.Body.Close()
	d, err := wait(t0, time.Minute)
	return d, float64(after-before) * 1024 / float64(n), err
}

// Ingestion measures acknowledged, durable count batches per second from many clients, against the rate
// of durable single-write bbolt transactions on the same disk (what a server committing each batch alone
// could reach at most).
func Ingestion(c Config) ([]Row, error) {
	srv, done, err := startTailor(c)
	if err != nil {
		return nil, err
	}
	defer done()
	// The server allows each connection 10 messages a second, so load comes from many connections.
	clients, d := 1000, 5*time.Second
	if c.Short {
		clients, d = 10, 300*time.Millisecond
	}
	window := uint32(time.Now().Unix() / 3600 / 24 * 24)
	var acked atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sendBatches(ctx, srv.url, uint64(i+1)<<32, window, start.Add(d), &acked)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	rate := float64(acked.Load()) / elapsed.Seconds()
	ref, err := boltCommits(d)
	if err != nil {
		return nil, err
	}
	return []Row{{Figure: fmt.Sprintf("count batches acknowledged durably (%d clients)", clients), Tailor: rate, Comparison: ref,
		Unit: "batches/s", Against: "single-write durable bbolt commits, same disk"}}, nil
}

// sendBatches sends one batch at a time, each waiting for its acknowledgement, within the server's
// per-connection message rate (10 per second).
func sendBatches(ctx context.Context, url string, idBase uint64, window uint32, until time.Time, acked *atomic.Int64) error {
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/sync", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {url}}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for i := uint64(1); time.Now().Before(until); i++ {
		f := frame.Frame{Kind: frame.KindBatch, BatchID: idBase + i,
			Counts: []frame.Count{{Kind: frame.CountExposure, Slot: "hero", Variant: "one", Arm: frame.ArmPersonalized, Window: window, N: 1}}}
		sent := time.Now()
		if err := c.Write(ctx, websocket.MessageBinary, f.Encode(nil)); err != nil {
			return err
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if r, err := frame.Decode(b); err == nil && r.BatchID == f.BatchID {
				if r.Kind != frame.KindAck {
					return errors.New("bench: batch refused: " + r.Reason)
				}
				acked.Add(1)
				break
			}
		}
		time.Sleep(time.Until(sent.Add(110 * time.Millisecond)))
	}
	return nil
}

func boltCommits(d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "tailor-bolt")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "ref.db"), 0o600, nil)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	n := 0
	for ; time.Since(start) < d; n++ {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("ref"))
			if err != nil {
				return err
			}
			return b.Put([]byte(strconv.Itoa(n)), []byte("1"))
		})
		if err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
