package abi

import (
	"reflect"
	"testing"
)

// message is what every ABI message is.
type message interface {
	Encode() []byte
	Decode([]byte) error
}

func samples() []message {
	return []message{
		&Restore{State: []byte{8, 1}, Seed: "seed", Now: -5},
		&Event{Kind: EventTime, Now: 1780000000000, Category: "car/yaris", Path: "/cars", Seconds: 12.5, Goal: "buy",
			Name: "age", Value: "25-34", Lang: "fr", TZ: -330},
		&Pref{ID: "topics", Value: []string{"a", "b"}, Now: 3},
		&Pref{ID: "font", Value: 1.25, Now: 3},
		&Pref{ID: "theme", Value: "dark", Now: 3},
		&Pref{ID: "ok", Value: true, Now: 3},
		&Page{Now: 9, Category: "home", Path: "/", All: true, Slots: []SlotRequest{{Slot: "recs", Items: []Item{{ID: "i1", Categories: []string{"x", ""}}}}}},
		&Decisions{Decisions: []Decision{{Slot: "hero", Variant: "v", Template: "t", Text: "Hi", Attrs: map[string]string{"href": "/a", "": ""},
			Arm: 2, Reason: "matched", Path: "p", Items: []string{"b", "a"}}}, Actions: []Action{{Trigger: "t", Action: "popin", Params: map[string]string{"m": "yaris"}}},
			Segments: []string{"s1", "s2"}},
		&Take{BatchID: 1 << 63, Now: 4},
		&Bytes{Data: []byte{}, Now: 2, Seed: "s"},
		&SyncReply{Send: []byte{1}, Changed: true, Version: 7, Rules: []byte{2, 3}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range samples() {
		back := reflect.New(reflect.TypeOf(m).Elem()).Interface().(message)
		if err := back.Decode(m.Encode()); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%T changed in a round trip:\n%+v\n%+v", m, m, back)
		}
	}
}

// FuzzDecode: bytes from a host never panic a decoder, and what one accepts encodes to bytes it accepts
// again.
func FuzzDecode(f *testing.F) {
	for i, m := range samples() {
		f.Add(uint8(i), m.Encode())
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		all := samples()
		m := reflect.New(reflect.TypeOf(all[int(which)%len(all)]).Elem()).Interface().(message)
		if m.Decode(b) != nil {
			return
		}
		again := reflect.New(reflect.TypeOf(m).Elem()).Interface().(message)
		if err := again.Decode(m.Encode()); err != nil {
			t.Fatalf("%T re-encoded does not decode: %v", m, err)
		}
	})
}
