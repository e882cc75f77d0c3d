package hub

import (
	"strconv"
	"testing"

	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

// set returns a compact rule set of n segments where segment 0's TTL is ttl, with its hash.
func set(t *testing.T, version uint64, n int, ttl float64) (string, []byte) {
	t.Helper()
	rs := &rules.RuleSet{Version: version}
	for i := range n {
		s := rules.Segment{ID: "segment-" + strconv.Itoa(i), When: &rules.Cond{Attr: "visits", Op: "gte", Value: float64(i)}}
		if i == 0 {
			s.TTLHours = ttl
		}
		rs.Segments = append(rs.Segments, s)
	}
	if _, err := rules.Compile(rs); err != nil {
		t.Fatal(err)
	}
	rs.Hash = rules.ContentHash(rules.Encode(rs))
	return rs.Hash, rules.Encode(rs)
}

func next(t *testing.T, s *Sub) *frame.Frame {
	t.Helper()
	select {
	case b := <-s.Frames():
		f, err := frame.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	default:
		t.Fatal("nothing queued")
		return nil
	}
}

func TestHello(t *testing.T) {
	h := New(4, 8)
	h1, c1 := set(t, 1, 100, 1)
	h2, c2 := set(t, 2, 100, 2)
	h.Load(1, h1, c1)
	h.Load(2, h2, c2)
	tests := []struct {
		name string
		held uint64
		hash string
		want frame.Kind
	}{
		{"nothing held", 0, "", frame.KindFull},
		{"live held", 2, h2, frame.KindUpToDate},
		{"live number, other content", 2, "beef", frame.KindFull},
		{"previous version", 1, h1, frame.KindDelta},
		{"previous number, wrong hash", 1, h2, frame.KindFull},
		{"unknown version", 9, "x", frame.KindFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.Subscribe()
			defer h.Unsubscribe(s)
			if got := h.Hello(s, tt.held, tt.hash); got != tt.want {
				t.Fatalf("Hello answered %d, want %d", got, tt.want)
			}
			f := next(t, s)
			if f.Kind != tt.want || f.Version != 2 {
				t.Fatalf("frame %d version %d", f.Kind, f.Version)
			}
			if f.Kind == frame.KindDelta {
				got, err := rules.Apply(c1, f.Rules)
				if err != nil || rules.ContentHash(got) != h2 || f.Base != 1 {
					t.Errorf("the delta does not make version 2: %v", err)
				}
				if len(f.Rules)*10 > len(c2) {
					t.Errorf("delta of one segment is %d bytes, the set %d", len(f.Rules), len(c2))
				}
			}
		})
	}
}

func TestPublishEncodesOncePerBase(t *testing.T) {
	h := New(4, 8)
	h1, c1 := set(t, 1, 50, 1)
	h.Load(1, h1, c1)
	a, b := h.Subscribe(), h.Subscribe()
	h.Hello(a, 1, h1)
	h.Hello(b, 1, h1)
	next(t, a)
	next(t, b)
	h2, c2 := set(t, 2, 50, 2)
	if clients, _ := h.Publish(2, h2, c2); clients != 2 {
		t.Fatalf("reached %d clients", clients)
	}
	fa, fb := <-a.Frames(), <-b.Frames()
	if &fa[0] != &fb[0] {
		t.Error("two clients at one base got separately encoded deltas")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	h := New(4, 2)
	h1, c1 := set(t, 1, 5, 1)
	h.Load(1, h1, c1)
	slow, fast := h.Subscribe(), h.Subscribe()
	h.Hello(slow, 0, "")
	h.Hello(fast, 0, "")
	for v := uint64(2); v < 6; v++ {
		hv, cv := set(t, v, 5, float64(v))
		h.Publish(v, hv, cv)
		<-fast.Frames() // the fast one keeps up
	}
	select {
	case <-slow.Gone():
	default:
		t.Fatal("a subscriber with a full queue was not dropped")
	}
	if slow.Reason() != DropSlow || h.SlowDrops() != 1 || h.Len() != 1 {
		t.Errorf("reason %d, drops %d, subscribers %d", slow.Reason(), h.SlowDrops(), h.Len())
	}
	if h.Hello(slow, 0, "") != 0 {
		t.Error("a dropped subscriber is still answered")
	}
}

func TestCloseDropsEveryone(t *testing.T) {
	h := New(1, 1)
	s := h.Subscribe()
	h.Close()
	<-s.Gone()
	if s.Reason() != DropShutdown {
		t.Errorf("reason %d", s.Reason())
	}
	if late := h.Subscribe(); late.Reason() != DropShutdown {
		t.Error("a subscriber after Close is not gone")
	}
}
