package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

const demoJSON = `{
  "name": "test",
  "goals": [{"id": "signup"}],
  "segments": [{"id": "returning", "when": {"attr": "visits", "op": "gte", "value": 2}}],
  "triggers": [{"id": "offer", "on_enter": "returning", "action": "popin"}],
  "slots": [{"id": "hero", "default": {"id": "welcome", "text": "Welcome"},
             "variants": [{"id": "welcome-back", "when": {"segment": "returning"}, "text": "Welcome back"}]}]
}`

// bigSet is a rule set of n segments; changing tag changes segment 0 only.
func bigSet(n int, tag string) string {
	var segs []string
	for i := range n {
		v := fmt.Sprint(i)
		if i == 0 {
			v = `"` + tag + `"`
		}
		segs = append(segs, fmt.Sprintf(`{"id":"segment-%d","when":{"attr":"views.category-%d","op":"gte","value":%s}}`, i, i, v))
	}
	return `{"name":"big","segments":[` + strings.Join(segs, ",") + `]}`
}

// window is the start of the current 24-hour report window, in Unix hours.
func window() uint32 { return uint32(time.Now().Unix() / 3600 / 24 * 24) }

func exposure(slot, variant string, n uint64) frame.Count {
	return frame.Count{Kind: frame.CountExposure, Slot: slot, Variant: variant, Arm: frame.ArmPersonalized, Window: window(), N: n}
}

func TestSyncFullThenPushedDelta(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello, EngineVersion: "test"})
	full := c.expect(frame.KindFull)
	if full.Version != 1 || rules.ContentHash(full.Rules) != full.Hash {
		t.Fatalf("full: version %d, hash %q", full.Version, full.Hash)
	}
	r.push(t, strings.Replace(demoJSON, "Welcome back", "Hello again", 1))
	d := c.expect(frame.KindDelta)
	got, err := rules.Apply(full.Rules, d.Rules)
	if err != nil || d.Base != 1 || d.Version != 2 || rules.ContentHash(got) != d.Hash {
		t.Fatalf("delta: base %d version %d, applies: %v", d.Base, d.Version, err)
	}
	rs, _ := rules.Decode(got)
	if rs.Slots[0].Variants[0].Text != "Hello again" {
		t.Errorf("the delta did not carry the change: %+v", rs.Slots[0])
	}
	c.send(&frame.Frame{Kind: frame.KindHello, Version: 2, Hash: d.Hash})
	c.expect(frame.KindUpToDate)
}

func TestSyncPushReachesEveryClient(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	var clients []*client
	for range 20 {
		c := r.dial(t)
		c.send(&frame.Frame{Kind: frame.KindHello})
		c.expect(frame.KindFull)
		clients = append(clients, c)
	}
	r.push(t, strings.Replace(demoJSON, "Welcome", "Bonjour", 1))
	for _, c := range clients {
		if f := c.expect(frame.KindDelta); f.Version != 2 {
			t.Errorf("version %d", f.Version)
		}
	}
}

func TestSyncReconnectWithOldVersionGetsSmallDelta(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, bigSet(100, "1"))
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello})
	v1 := c.expect(frame.KindFull)
	c.ws.Close(websocket.StatusNormalClosure, "")

	r.push(t, bigSet(100, "5"))
	c = r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello, Version: 1, Hash: v1.Hash})
	d := c.expect(frame.KindDelta)
	c.send(&frame.Frame{Kind: frame.KindHello})
	full := c.expect(frame.KindFull)
	if len(d.Rules)*10 > len(full.Rules) {
		t.Errorf("a one-segment delta is %d bytes, the full set %d", len(d.Rules), len(full.Rules))
	}
	t.Logf("one segment of 100 changed: delta %d bytes, full %d bytes", len(d.Rules), len(full.Rules))
}

func TestSyncBatchAckedOnceCounted(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	c := r.dial(t)
	batch := &frame.Frame{Kind: frame.KindBatch, BatchID: 42, Counts: []frame.Count{
		exposure("hero", "welcome", 7), exposure("hero", "welcome", 5), // summed: 12
		{Kind: frame.CountSegment, Segment: "returning", Window: window(), N: 11},
	}}
	c.send(batch)
	if a := c.expect(frame.KindAck); a.BatchID != 42 {
		t.Fatalf("ack for %d", a.BatchID)
	}
	c.send(batch) // a retry: acknowledged again, not counted again
	c.expect(frame.KindAck)
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]uint64{}
	for _, s := range st.Counters {
		sums[s.Kind+"/"+s.Slot+s.Segment] = s.Sum
	}
	if sums["exposure/hero"] != 12 || sums["segment/returning"] != 11 {
		t.Errorf("sums %v", sums)
	}
}

func TestSyncUnknownIDsRefused(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	c := r.dial(t)
	tests := []struct {
		name  string
		count frame.Count
		want  string
	}{
		{"slot", exposure("nope", "welcome", 1), `counts[1]: unknown slot "nope"`},
		{"variant", exposure("hero", "nope", 1), `counts[1]: unknown variant "nope" of slot "hero"`},
		{"default variant is known, goal is not", frame.Count{Kind: frame.CountConversion, Goal: "buy", Slot: "hero", Variant: "welcome", Arm: frame.ArmHoldout, Window: window(), N: 1}, `unknown goal "buy"`},
		{"segment", frame.Count{Kind: frame.CountSegment, Segment: "x", Window: window(), N: 1}, `unknown segment "x"`},
		{"trigger", frame.Count{Kind: frame.CountTrigger, Trigger: "x", Window: window(), N: 1}, `unknown trigger "x"`},
		{"future window", frame.Count{Kind: frame.CountTrigger, Trigger: "offer", Window: window() + 480, N: 1}, "not near now"},
		{"unaligned window", frame.Count{Kind: frame.CountTrigger, Trigger: "offer", Window: window() - 5, N: 1}, "does not start a report window"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uint64(100 + i)
			c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: id, Counts: []frame.Count{exposure("hero", "welcome-back", 1), tt.count}})
			f := c.expect(frame.KindRefused)
			if f.BatchID != id || !strings.Contains(f.Reason, tt.want) {
				t.Errorf("refused %d: %q, want %q", f.BatchID, f.Reason, tt.want)
			}
		})
	}
	// A value out of range is refused by frame.Decode; the client still learns which batch to drop.
	huge := (&frame.Frame{Kind: frame.KindBatch, BatchID: 7, Counts: []frame.Count{exposure("hero", "welcome", frame.MaxValue+1)}}).Encode(nil)
	c.sendRaw(huge)
	if f := c.expect(frame.KindRefused); f.BatchID != 7 || !strings.Contains(f.Reason, "out of range") {
		t.Errorf("huge value: %+v", f)
	}
	st, _ := r.Stats()
	if len(st.Counters) != 0 {
		t.Errorf("refused batches were counted: %+v", st.Counters)
	}
}

func TestSyncOversizedFrameCloses1009(t *testing.T) {
	r := startServer(t, Config{ReadLimit: 1024})
	c := r.dial(t)
	c.sendRaw(make([]byte, 2048))
	c.expectClose(websocket.StatusMessageTooBig)
	// The server is unaffected: it answers the next client (an empty batch is refused, with its reason).
	c = r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1})
	c.expect(frame.KindRefused)
}

func TestSyncMalformedFrames(t *testing.T) {
	r := startServer(t, Config{})
	tests := []struct {
		name string
		b    []byte
		code websocket.StatusCode
	}{
		{"not a frame", []byte{0xff, 0xff, 0xff}, websocket.StatusInvalidFramePayloadData},
		{"unknown kind", (&frame.Frame{Kind: 99}).Encode(nil), websocket.StatusPolicyViolation},
		{"server frame from a client", (&frame.Frame{Kind: frame.KindAck, BatchID: 1}).Encode(nil), websocket.StatusPolicyViolation},
		{"batch without id", (&frame.Frame{Kind: frame.KindBatch}).Encode(nil), websocket.StatusPolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r.dial(t)
			c.sendRaw(tt.b)
			if reason := c.expectClose(tt.code); reason == "" {
				t.Error("closed without a reason")
			}
		})
	}
	t.Run("text message", func(t *testing.T) {
		c := r.dial(t)
		c.ws.Write(t.Context(), websocket.MessageText, []byte("hello"))
		c.expectClose(websocket.StatusUnsupportedData)
	})
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1})
	c.expect(frame.KindRefused)
}

func TestSyncOrigins(t *testing.T) {
	r := startServer(t, Config{Origins: []string{"https://shop.example:8443"}})
	host := strings.TrimPrefix(r.url, "http://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://shop.example:8443", true},
		{"https://shop.example", false},
		{"http://shop.example:8443", false},
		{"https://evil.example", false},
		{"https://shop.example:8443.evil.example", false},
		{"null", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			_, resp, err := dial(t, r.url, tt.origin)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
				t.Fatalf("not refused with 403: %v", err)
			}
		})
	}
}

func TestSyncRateLimit(t *testing.T) {
	r := startServer(t, Config{MessageRate: 0.001, MessageBurst: 3})
	c := r.dial(t)
	for range 3 {
		c.send(&frame.Frame{Kind: frame.KindHello})
	}
	c.send(&frame.Frame{Kind: frame.KindHello})
	c.expectClose(websocket.StatusPolicyViolation)
}

// TestSyncSlowClientClosed: a client that never reads fills its queue and is closed with a policy code;
// a client that reads gets every push meanwhile.
func TestSyncSlowClientClosed(t *testing.T) {
	r := startServer(t, Config{QueueLen: 2, WriteTimeout: time.Second})
	stalled := r.dial(t)
	fast := r.dial(t)
	// Versions go straight to the hub: large frames fill the stalled client's socket buffers quickly.
	publish := func(v uint64) {
		r.hub.Publish(v, fmt.Sprint("h", v), make([]byte, 1<<20))
	}
	publish(1)
	stalled.send(&frame.Frame{Kind: frame.KindHello})
	fast.send(&frame.Frame{Kind: frame.KindHello})
	fast.expect(frame.KindFull)
	start := time.Now()
	for v := uint64(2); v <= 30 && r.hub.SlowDrops() == 0; v++ {
		publish(v)
		if f := fast.expect(frame.KindFull); f.Version != v {
			t.Fatalf("fast client got version %d, want %d", f.Version, v)
		}
	}
	if r.hub.SlowDrops() != 1 {
		t.Fatalf("slow drops %d", r.hub.SlowDrops())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the fast client waited %v", d)
	}
	// The stalled client reads at last: what was written, then the end of the connection.
	for {
		if _, err := stalled.recv(); err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusPolicyViolation && code != -1 {
				t.Errorf("closed with %d: %v", code, err)
			}
			break
		}
	}
}

func TestShutdownClosesGoingAwayAfterAck(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	var clients []*client
	for range 5 {
		c := r.dial(t)
		c.send(&frame.Frame{Kind: frame.KindHello})
		c.expect(frame.KindFull)
		clients = append(clients, c)
	}
	clients[0].send(&frame.Frame{Kind: frame.KindBatch, BatchID: 9, Counts: []frame.Count{exposure("hero", "welcome", 1)}})
	clients[0].expect(frame.KindAck)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.expectClose(websocket.StatusGoingAway) })
	}
	if err := r.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wg.Wait()
}
