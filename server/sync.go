package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tailor/tailor/server/hub"
	"github.com/tailor/tailor/server/store"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/wire"
)

// handleSync is /sync: rule sets out, count batches in. See package frame for the protocol.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		s.metrics.originRefused.Add(1)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if !s.beginConn() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.conns.Done()
	// The origin is checked above, exactly; coder/websocket's own check matches host patterns instead.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	ws.SetReadLimit(s.cfg.ReadLimit)
	s.metrics.connections.Add(1)
	defer s.metrics.connections.Add(-1)
	c := &conn{s: s, ws: ws, sub: s.hub.Subscribe(), tokens: float64(s.cfg.MessageBurst), last: time.Now()}
	defer s.hub.Unsubscribe(c.sub)
	c.run()
}

// beginConn counts a connection in, unless shutdown has begun: the WaitGroup is only added to under connMu
// and never after drain has started waiting.
func (s *Server) beginConn() bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.conns.Add(1)
	return true
}

// originAllowed: a request without Origin is not from a browser (browsers always send it on websockets) and
// could forge it anyway; the check exists to stop other sites' pages from using a visitor's browser. Same
// origin is always allowed (the server serves tailor.js itself); other origins must match the allowlist
// exactly, scheme, host and port.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.cfg.Origins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// conn is one /sync connection. The handler's goroutine reads; one more goroutine writes what the hub
// queues and pings.
type conn struct {
	s   *Server
	ws  *websocket.Conn
	sub *hub.Sub

	// busy is held while a message is handled, so shutdown lets a batch being counted finish and its ack go
	// out before the close; closing (under busy) tells the reader to stop handling messages.
	busy    sync.Mutex
	closing bool

	// A token bucket limits the messages a client may send.
	tokens float64
	last   time.Time
}

func (c *conn) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writeLoop(ctx)
	}()
	c.readLoop(ctx)
	cancel()
	<-done
	c.ws.CloseNow()
}

func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			// The peer left, the read limit closed it with 1009, or the writer closed it.
			return
		}
		if typ != websocket.MessageBinary {
			c.close(websocket.StatusUnsupportedData, "frames are binary")
			return
		}
		if !c.allow(time.Now()) {
			c.s.metrics.rateLimited.Add(1)
			c.close(websocket.StatusPolicyViolation, "message rate limit exceeded")
			return
		}
		c.busy.Lock()
		if c.closing {
			c.busy.Unlock()
			continue // shutting down: the client will send it again to the next server
		}
		reply, code, reason := c.handle(b)
		ok := reply == nil || c.reply(ctx, reply)
		c.busy.Unlock()
		if !ok {
			return
		}
		if code != 0 {
			c.close(code, reason)
			return
		}
	}
}

// close closes the connection with a code and a reason cut to what a close frame holds.
func (c *conn) close(code websocket.StatusCode, reason string) {
	if len(reason) > 120 {
		reason = reason[:120]
	}
	c.ws.Close(code, reason)
}

// allow takes a token from the bucket, refilled at MessageRate per second up to MessageBurst.
func (c *conn) allow(now time.Time) bool {
	cfg := &c.s.cfg
	c.tokens = min(float64(cfg.MessageBurst), c.tokens+now.Sub(c.last).Seconds()*cfg.MessageRate)
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// handle answers one frame: the reply to write at once (an Ack or Refused), or a close code and reason
// when the connection must end. Hello replies go through the hub, in order with pushes.
func (c *conn) handle(b []byte) (*frame.Frame, websocket.StatusCode, string) {
	f, err := frame.Decode(b)
	if err != nil {
		c.s.metrics.malformed.Add(1)
		if id := batchID(b); id != 0 && errors.Is(err, frame.ErrInvalid) {
			// A batch the protocol refuses (a value out of range, say) is answered with Refused, so the
			// client drops it rather than sending it again forever.
			c.s.metrics.refused.Add(1)
			return &frame.Frame{Kind: frame.KindRefused, BatchID: id, Reason: err.Error()}, 0, ""
		}
		if errors.Is(err, frame.ErrInvalid) {
			return nil, websocket.StatusPolicyViolation, err.Error()
		}
		return nil, websocket.StatusInvalidFramePayloadData, err.Error()
	}
	switch f.Kind {
	case frame.KindHello:
		c.s.hub.Hello(c.sub, f.Version, f.Hash)
		return nil, 0, ""
	case frame.KindBatch:
		reply, err := c.s.countBatch(f)
		if err != nil {
			c.s.log.Error("counting a batch", "err", err)
			return nil, websocket.StatusInternalError, "the batch could not be stored; send it again later"
		}
		return reply, 0, ""
	default:
		return nil, websocket.StatusPolicyViolation, "a client does not send frames of kind " + strconv.Itoa(int(f.Kind))
	}
}

// reply writes an Ack or Refused at once, from the reader: it must not wait behind pushes in the queue, and
// a client too slow to take it only delays itself.
func (c *conn) reply(ctx context.Context, f *frame.Frame) bool {
	wctx, cancel := context.WithTimeout(ctx, c.s.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageBinary, f.Encode(nil)) == nil
}

// batchID reads a frame's batch id (field 7) from bytes that frame.Decode refused, or 0.
func batchID(b []byte) uint64 {
	var kind, id uint64
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			kind = r.Uint()
		case 7:
			id = r.Uint()
		}
	}
	if r.Err() != nil || frame.Kind(kind) != frame.KindBatch {
		return 0
	}
	return id
}

func (c *conn) writeLoop(ctx context.Context) {
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.sub.Frames():
			if !c.write(ctx, b) {
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, c.s.cfg.PingInterval)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				c.ws.CloseNow()
				return
			}
		case <-c.sub.Gone():
			c.leave()
			return
		case <-ctx.Done():
			return
		}
	}
}

func (c *conn) write(ctx context.Context, b []byte) bool {
	wctx, cancel := context.WithTimeout(ctx, c.s.cfg.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, websocket.MessageBinary, b); err != nil {
		c.ws.CloseNow()
		return false
	}
	c.s.metrics.bytesPushed.Add(uint64(len(b)))
	return true
}

// leave closes a connection the hub dropped: a slow client with a policy code (it comes back later), or
// every client at shutdown with "going away", after the batch being counted is acknowledged.
func (c *conn) leave() {
	if c.sub.Reason() == hub.DropSlow {
		c.s.log.Debug("closing a slow client")
		c.close(websocket.StatusPolicyViolation, "too slow: queue full, reconnect later")
		return
	}
	c.busy.Lock()
	c.closing = true
	c.busy.Unlock()
	c.close(websocket.StatusGoingAway, "server shutting down")
}

// countBatch checks every count of a batch against the known ids, makes it durable, and returns the Ack,
// or the Refused frame naming the first count at fault. A batch id already stored is acknowledged again
// without counting twice.
func (s *Server) countBatch(f *frame.Frame) (*frame.Frame, error) {
	nowHour := time.Now().Unix() / 3600
	adds := make([]store.Add, 0, len(f.Counts))
	index := map[[2]string]int{}
	for i := range f.Counts {
		cnt := &f.Counts[i]
		if why := s.known.check(cnt, nowHour); why != "" {
			s.metrics.refused.Add(1)
			return &frame.Frame{Kind: frame.KindRefused, BatchID: f.BatchID, Reason: "counts[" + strconv.Itoa(i) + "]: " + why}, nil
		}
		// Increments of one counter in one window are summed before they are stored.
		key := [2]string{cnt.Key(), strconv.FormatUint(uint64(cnt.Window), 10)}
		if j, ok := index[key]; ok {
			adds[j].N += cnt.N
			continue
		}
		index[key] = len(adds)
		adds = append(adds, store.Add{Key: key[0], Window: cnt.Window, N: cnt.N})
	}
	dup, err := s.store.AddBatch(f.BatchID, adds)
	if err != nil {
		return nil, err
	}
	if dup {
		s.metrics.duplicates.Add(1)
	} else {
		s.metrics.accepted.Add(1)
	}
	return &frame.Frame{Kind: frame.KindAck, BatchID: f.BatchID}, nil
}
