package engine

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

// A visitor with more pending counts than one frame may carry sends them in several batches, each under
// the size the server reads, and loses none.
func TestBatchesStayUnderTheReadLimit(t *testing.T) {
	rs := rules.RuleSet{}
	for i := 0; i < 1000; i++ {
		id := strconv.Itoa(i) + strings.Repeat("s", rules.MaxIDLength-4)
		rs.Segments = append(rs.Segments, rules.Segment{ID: id, When: &rules.Cond{All: []rules.Cond{}}})
	}
	e := New()
	if err := e.LoadRules(rules.Encode(&rs)); err != nil {
		t.Fatal(err)
	}
	e.Restore(abi.Restore{Seed: "s", Now: 1})
	if _, err := e.Decide(abi.Page{Now: 1, All: true}); err != nil {
		t.Fatal(err)
	}
	total, batches := 0, 0
	for id := uint64(1); ; id++ {
		b, err := e.TakeCounts(abi.Take{BatchID: id, Now: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			break
		}
		if len(b) > frame.MaxBatchBytes {
			t.Fatalf("batch %d is %d bytes, over %d", id, len(b), frame.MaxBatchBytes)
		}
		f, err := frame.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		total += len(f.Counts)
		batches++
		ack := frame.Frame{Kind: frame.KindAck, BatchID: id}
		if _, err := e.Sync(ack.Encode(nil), 1); err != nil {
			t.Fatal(err)
		}
	}
	if total != 1000 || batches < 2 {
		t.Errorf("%d counts in %d batches, want 1000 in several", total, batches)
	}
}

// Explanations name the segment and the condition that made a variant win.
func TestDecisionExplainsItself(t *testing.T) {
	rs := rules.RuleSet{
		Segments: []rules.Segment{{ID: "car-fans", When: &rules.Cond{Attr: "views.car.7d", Op: "gte", Value: 2.0}}},
		Slots: []rules.Slot{{ID: "hero", Default: rules.Variant{ID: "d"},
			Variants: []rules.Variant{{ID: "cars", When: &rules.Cond{Any: []rules.Cond{{Attr: "ctx.lang", Op: "eq", Value: "xx"}, {Segment: "car-fans"}}}}}}},
	}
	e := New()
	if err := e.LoadRules(rules.Encode(&rs)); err != nil {
		t.Fatal(err)
	}
	e.Restore(abi.Restore{Seed: "s", Now: 1})
	e.Event(abi.Event{Kind: abi.EventPageView, Now: 2, Category: "car"})
	e.Event(abi.Event{Kind: abi.EventPageView, Now: 3, Category: "car"})
	d, err := e.Decide(abi.Page{Now: 4, All: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `matched segment car-fans (segments[0].when: views.car.7d gte 2)`
	if got := d.Decisions[0]; got.Variant != "cars" || got.Reason != want || got.Path != "slots[0].variants[0].when.any[1]" {
		t.Errorf("decision %q because %q at %q; want cars because %q", got.Variant, got.Reason, got.Path, want)
	}
}

// A site that uses thousands of categories does not grow a visitor's state without end.
func TestStateStaysBounded(t *testing.T) {
	e := New()
	if err := e.LoadRules(rules.Encode(&rules.RuleSet{})); err != nil {
		t.Fatal(err)
	}
	e.Restore(abi.Restore{Seed: "s", Now: 1})
	for i := 0; i < 5000; i++ {
		now := int64(1 + i*60000)
		cat := "product/" + strconv.Itoa(i)
		if err := e.Event(abi.Event{Kind: abi.EventPageView, Now: now, Category: cat}); err != nil {
			t.Fatal(err)
		}
		e.Event(abi.Event{Kind: abi.EventTime, Now: now, Category: cat, Seconds: 5})
	}
	if n := len(e.st.interests); n > maxCategories {
		t.Errorf("%d interests kept", n)
	}
	if n := len(e.st.counters); n > 2*maxCategories+8 {
		t.Errorf("%d counters kept", n)
	}
	if got := e.st.counters["p"].total; got != 5000 {
		t.Errorf("total views %v, want 5000: totals must never be dropped", got)
	}
	if _, ok := e.st.interests["product/4999"]; !ok {
		t.Error("the latest interest was dropped")
	}
	if size := len(e.Snapshot()); size > 64<<10 {
		t.Errorf("snapshot is %d bytes", size)
	}
}

// A state that decodes but holds a counter without a name is refused, not kept to fail later.
func TestRestoreRefusesNamelessCounter(t *testing.T) {
	e := New()
	err := e.Restore(abi.Restore{State: []byte{0x08, 0x01, 0x12, 0x01, 's', 0x32, 0x00}, Seed: "fresh", Now: 1})
	if err == nil || !strings.Contains(err.Error(), "no valid name") {
		t.Fatalf("restore: %v", err)
	}
	if out := e.Export(2); !strings.Contains(string(out), `"counters":{}`) {
		t.Errorf("export after a refused state: %s", out)
	}
}
