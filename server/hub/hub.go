// Package hub fans rule-set versions out to subscribed clients. It holds no sockets: each subscriber is a
// bounded queue of encoded frames that a connection drains. Publishing never blocks: a subscriber whose
// queue is full is dropped as slow, and its connection closes it with a policy-violation code.
//
// Each version's frames are encoded once: the full set once, and a delta once per base version some client
// holds, shared by every client at that base.
package hub

import (
	"sync"
	"sync/atomic"

	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

// Why a subscriber was dropped.
const (
	DropSlow     = 1 // its queue was full
	DropShutdown = 2 // the hub closed
)

// version is one rule-set version the hub can make frames from.
type version struct {
	number  uint64
	hash    string
	compact []byte
}

// Hub is the fan-out. Its methods are safe for concurrent use.
type Hub struct {
	keep     int
	queueLen int

	mu       sync.Mutex
	live     *version
	recent   map[uint64]*version // the last keep versions, live included, to make deltas from
	order    []uint64            // recent's keys, oldest first
	full     []byte              // the live version's Full frame
	upToDate []byte              // the live version's UpToDate frame
	deltas   map[uint64]encoded  // base version -> the frame that brings it to live (a Delta, or Full)
	subs     map[*Sub]struct{}
	closed   bool

	slow atomic.Uint64
}

// New returns a hub that keeps the last keep versions for deltas and gives each subscriber a queue of
// queueLen frames.
func New(keep, queueLen int) *Hub {
	return &Hub{
		keep:     max(keep, 1),
		queueLen: max(queueLen, 1),
		recent:   map[uint64]*version{},
		deltas:   map[uint64]encoded{},
		subs:     map[*Sub]struct{}{},
	}
}

// Sub is one subscriber: a client connection's queue of frames to write.
type Sub struct {
	h      *Hub
	queue  chan []byte
	gone   chan struct{}
	reason int
	// held is the version the client holds, or will once it has written what is queued; 0 before Hello.
	held  uint64
	hello bool
}

// Frames is the subscriber's queue: encoded frames to write in order.
func (s *Sub) Frames() <-chan []byte { return s.queue }

// Gone is closed when the hub drops the subscriber; Reason then says why.
func (s *Sub) Gone() <-chan struct{} { return s.gone }

// Reason is DropSlow or DropShutdown once Gone is closed.
func (s *Sub) Reason() int {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.reason
}

// Subscribe adds a subscriber. It receives pushes once it has said Hello. After Close, the subscriber is
// returned already gone.
func (h *Hub) Subscribe() *Sub {
	s := &Sub{h: h, queue: make(chan []byte, h.queueLen), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.reason = DropShutdown
		close(s.gone)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe removes a subscriber whose connection ended.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
}

// Hello answers a client's Hello: UpToDate, a Delta from the version it holds, or the Full live set (nothing
// while the hub has no version). It returns the kind queued, 0 for none. From then on the subscriber gets
// every published version.
func (h *Hub) Hello(s *Sub, held uint64, hash string) frame.Kind {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return 0
	}
	s.hello = true
	s.held = held
	if h.live == nil {
		return 0
	}
	b, kind := h.frameFor(held, hash)
	if h.enqueue(s, b) {
		s.held = h.live.number
	}
	return kind
}

// enqueue never blocks: a full queue drops the subscriber as slow. Called with mu held.
func (h *Hub) enqueue(s *Sub, b []byte) bool {
	select {
	case s.queue <- b:
		return true
	default:
		h.drop(s, DropSlow)
		h.slow.Add(1)
		return false
	}
}

func (h *Hub) drop(s *Sub, reason int) {
	delete(h.subs, s)
	s.reason = reason
	close(s.gone)
}

// Publish makes a version live and queues it for every subscriber that said Hello. It returns how many
// subscribers it reached and the bytes queued in all.
func (h *Hub) Publish(number uint64, hash string, compact []byte) (clients, bytes int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLive(&version{number: number, hash: hash, compact: compact})
	for s := range h.subs {
		if !s.hello || s.held == number {
			continue
		}
		b, _ := h.frameFor(s.held, h.hashOf(s.held))
		if h.enqueue(s, b) {
			s.held = number
			clients++
			bytes += len(b)
		}
	}
	return clients, bytes
}

// Load makes a version known for deltas without publishing it (versions read from the store at startup,
// oldest first; the last one loaded is live).
func (h *Hub) Load(number uint64, hash string, compact []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLive(&version{number: number, hash: hash, compact: compact})
}

func (h *Hub) setLive(v *version) {
	h.live = v
	if _, ok := h.recent[v.number]; !ok {
		h.order = append(h.order, v.number)
	}
	h.recent[v.number] = v
	for len(h.order) > h.keep {
		delete(h.recent, h.order[0])
		h.order = h.order[1:]
	}
	h.full = (&frame.Frame{Kind: frame.KindFull, Version: v.number, Hash: v.hash, Rules: v.compact}).Encode(nil)
	h.upToDate = (&frame.Frame{Kind: frame.KindUpToDate, Version: v.number, Hash: v.hash}).Encode(nil)
	clear(h.deltas)
}

func (h *Hub) hashOf(n uint64) string {
	if v := h.recent[n]; v != nil {
		return v.hash
	}
	return ""
}

// frameFor is the frame that brings a client holding (held, hash) to the live version. Deltas are made once
// per base and kept until the next version. Called with mu held and a live version.
func (h *Hub) frameFor(held uint64, hash string) ([]byte, frame.Kind) {
	live := h.live
	if held == live.number && hash == live.hash {
		return h.upToDate, frame.KindUpToDate
	}
	base := h.recent[held]
	if base == nil || base.hash != hash || held == live.number {
		return h.full, frame.KindFull
	}
	e, ok := h.deltas[held]
	if !ok {
		e = encoded{h.full, frame.KindFull}
		if d, ok := rules.Diff(base.compact, live.compact); ok {
			f := &frame.Frame{Kind: frame.KindDelta, Version: live.number, Base: held, Hash: live.hash, Rules: d}
			// A delta bigger than the set (a rewrite of everything) is no saving.
			if b := f.Encode(nil); len(b) < len(h.full) {
				e = encoded{b, frame.KindDelta}
			}
		}
		h.deltas[held] = e
	}
	return e.b, e.kind
}

type encoded struct {
	b    []byte
	kind frame.Kind
}

// Len is the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// SlowDrops is how many subscribers were dropped as slow so far.
func (h *Hub) SlowDrops() uint64 { return h.slow.Load() }

// Close drops every subscriber with DropShutdown and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.drop(s, DropShutdown)
	}
}
