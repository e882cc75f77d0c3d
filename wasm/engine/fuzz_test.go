package engine

import (
	"testing"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// fuzzRules is a small set that exercises every kind of state the engine keeps.
func fuzzRules() []byte {
	rs := rules.RuleSet{
		Preferences: []rules.Preference{{ID: "topics", Kind: rules.KindSet, Values: []string{"a", "b"}, Role: rules.RoleFollow},
			{ID: "where", Kind: rules.KindEnum, Values: []string{"sea", "hills"}, Assign: []rules.Assignment{{Value: "sea", Segment: "sea", TTLHours: 1}}}},
		Goals:    []rules.Goal{{ID: "buy"}},
		Segments: []rules.Segment{{ID: "sea"}, {ID: "v", When: &rules.Cond{Attr: "views", Op: "gte", Value: 1.0}, TTLHours: 1}},
		Slots:    []rules.Slot{{ID: "s", Default: rules.Variant{ID: "d"}, Variants: []rules.Variant{{ID: "x", When: &rules.Cond{Segment: "v"}}}}},
		Triggers: []rules.Trigger{{ID: "t", OnEnter: "v", Action: "pop", Max: 1}},
	}
	return rules.Encode(&rs)
}

// busyEngine has some of everything in its state.
func busyEngine(t testing.TB) *Engine {
	e := New()
	if err := e.LoadRules(fuzzRules()); err != nil {
		t.Fatal(err)
	}
	e.Restore(abi.Restore{Seed: "s", Now: 1000})
	e.Event(abi.Event{Kind: abi.EventPageView, Now: 2000, Category: "a"})
	e.Event(abi.Event{Kind: abi.EventTime, Now: 3000, Category: "a", Seconds: 12})
	e.Event(abi.Event{Kind: abi.EventDeclare, Now: 3000, Name: "age", Value: "25-34"})
	e.Event(abi.Event{Kind: abi.EventContext, Now: 3000, Lang: "fr", TZ: 60})
	e.SetPref(abi.Pref{ID: "where", Value: "sea", Now: 3000})
	e.Decide(abi.Page{Now: 4000, All: true})
	e.Event(abi.Event{Kind: abi.EventGoal, Now: 5000, Goal: "buy"})
	e.TakeCounts(abi.Take{BatchID: 7, Now: 5000})
	e.Decide(abi.Page{Now: 90000000, All: true})
	return e
}

// FuzzRestore: a saved state from the device's storage never panics the engine; a corrupt one leaves a
// fresh engine that works, and a good one snapshots back to the same bytes.
func FuzzRestore(f *testing.F) {
	f.Add(busyEngine(f).Snapshot())
	f.Fuzz(func(t *testing.T, b []byte) {
		e := New()
		e.LoadRules(fuzzRules())
		err := e.Restore(abi.Restore{State: b, Seed: "fresh", Now: 1})
		if err == nil && string(e.Snapshot()) != string(b) {
			// Accepted states must be canonical only when they came from the engine; re-snapshotting
			// must at least be stable.
			once := e.Snapshot()
			e2 := New()
			if err := e2.Restore(abi.Restore{State: once}); err != nil || string(e2.Snapshot()) != string(once) {
				t.Fatalf("snapshot does not restore to itself: %v", err)
			}
		}
		if _, err := e.Decide(abi.Page{Now: 2, All: true}); err != nil {
			t.Fatalf("engine does not decide after restore: %v", err)
		}
	})
}

// FuzzCalls: any bytes as an event, a preference, a page or a sync frame get an error or an answer, never
// a panic, and a refused call changes nothing.
func FuzzCalls(f *testing.F) {
	f.Add(uint8(0), (&abi.Event{Kind: abi.EventPageView, Now: 5, Category: "a"}).Encode())
	f.Add(uint8(1), (&abi.Pref{ID: "topics", Value: []string{"a"}, Now: 5}).Encode())
	f.Add(uint8(2), (&abi.Page{Now: 5, Slots: []abi.SlotRequest{{Slot: "s", Items: []abi.Item{{ID: "i", Categories: []string{"a"}}}}}}).Encode())
	f.Add(uint8(3), []byte{0x08, 0x02, 0x32, 0x00})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		e := busyEngine(t)
		before := e.Snapshot()
		var err error
		switch which % 4 {
		case 0:
			var m abi.Event
			if err = m.Decode(b); err == nil {
				err = e.Event(m)
			}
		case 1:
			var m abi.Pref
			if err = m.Decode(b); err == nil {
				err = e.SetPref(m)
			}
		case 2:
			var m abi.Page
			if err = m.Decode(b); err == nil {
				_, err = e.Decide(m)
			}
		case 3:
			_, err = e.Sync(b, 5)
		}
		if err != nil && string(e.Snapshot()) != string(before) {
			t.Fatalf("a refused call changed the state: %v", err)
		}
	})
}
