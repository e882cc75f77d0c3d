package server

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/coder/websocket"

	"github.com/tailor/tailor/server/store"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

// FuzzSyncFrame feeds bytes to what /sync does with a client's message: decode, answer a Hello through the
// hub, check and count a batch. Whatever the bytes, the server answers with a reply or a close code with a
// reason, and never panics. Seeds: testdata/fuzz/FuzzSyncFrame.
func FuzzSyncFrame(f *testing.F) {
	s, err := New(Config{Static: testStatic(), Store: store.NewMem(), Logger: testLogger(io.Discard), Demo: true, DemoRules: []byte(demoJSON)})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Add((&frame.Frame{Kind: frame.KindHello}).Encode(nil))
	f.Add((&frame.Frame{Kind: frame.KindBatch, BatchID: 3, Counts: []frame.Count{exposure("hero", "welcome", 2)}}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &conn{s: s, sub: s.hub.Subscribe()}
		defer s.hub.Unsubscribe(c.sub)
		reply, code, reason := c.handle(b)
		switch {
		case code != 0:
			if reply != nil || reason == "" {
				t.Fatalf("close %d with reply %v and reason %q", code, reply, reason)
			}
			if code != websocket.StatusInvalidFramePayloadData && code != websocket.StatusPolicyViolation {
				t.Fatalf("close code %d", code)
			}
		case reply != nil:
			if reply.Kind != frame.KindAck && reply.Kind != frame.KindRefused || reply.BatchID == 0 {
				t.Fatalf("reply %+v", reply)
			}
			if _, err := frame.Decode(reply.Encode(nil)); err != nil {
				t.Fatalf("the reply does not decode: %v", err)
			}
		default:
			if f, err := frame.Decode(b); err != nil || f.Kind != frame.KindHello {
				t.Fatalf("no reply and no close for %v, %v", f, err)
			}
		}
	})
}

// FuzzRulesJSON feeds bytes to the operators' rule-set validator. It must return a rule set or errors that
// say what is wrong, never panic; and a set it accepts must survive the trip every browser makes: encoded
// to the compact form, decoded and compiled again by the engine, to the same bytes.
// Seeds: testdata/fuzz/FuzzRulesJSON.
func FuzzRulesJSON(f *testing.F) {
	f.Add([]byte(demoJSON))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRules(b)
		if err != nil {
			var ps rules.Problems
			switch {
			case errors.As(err, &ps):
				if len(ps) == 0 {
					t.Fatal("Problems without a problem")
				}
				for _, p := range ps {
					if p.Msg == "" {
						t.Fatalf("a problem without a message at %q", p.Path)
					}
				}
			case !errors.Is(err, ErrRulesJSON):
				t.Fatalf("an error of no known kind: %v", err)
			}
			return
		}
		compact := rules.Encode(rs)
		back, err := rules.Decode(compact)
		if err != nil {
			t.Fatalf("an accepted set does not decode from its compact form: %v", err)
		}
		if _, err := rules.Compile(back); err != nil {
			t.Fatalf("an accepted set does not compile in the engine: %v", err)
		}
		if again := rules.Encode(back); !bytes.Equal(again, compact) {
			t.Fatalf("the compact form is not stable:\n%x\n%x", compact, again)
		}
	})
}
