package e2e

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tailor/tailor/e2e/host"
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/bucket"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
	"github.com/tailor/tailor/wasm/engine"
)

// driver is what a spec case needs of an engine: the wasm one (host.Engine) or the native one.
type driver interface {
	LoadRules([]byte) error
	Restore(abi.Restore) error
	Snapshot() ([]byte, error)
	Event(abi.Event) error
	SetPref(abi.Pref) error
	Decide(abi.Page) (abi.Decisions, error)
	TakeCounts(abi.Take) ([]byte, error)
	Sync([]byte, int64) (abi.SyncReply, error)
	Consent(bool) error
	PrefsJSON() ([]byte, error)
	Call(name string, in []byte) ([]byte, error)
}

// native adapts the engine package to driver, decoding raw inputs the way wasm/main.go does.
type native struct{ *engine.Engine }

func (n native) Snapshot() ([]byte, error)  { return n.Engine.Snapshot(), nil }
func (n native) Consent(ok bool) error      { n.Engine.Consent(ok); return nil }
func (n native) PrefsJSON() ([]byte, error) { return n.Engine.PrefsJSON(), nil }
func (n native) Call(name string, in []byte) ([]byte, error) {
	switch name {
	case "tailor_event":
		var m abi.Event
		if err := m.Decode(in); err != nil {
			return nil, err
		}
		return nil, n.Event(m)
	case "tailor_restore":
		var m abi.Restore
		if err := m.Decode(in); err != nil {
			return nil, err
		}
		return nil, n.Restore(m)
	case "tailor_load_rules":
		return nil, n.LoadRules(in)
	}
	return nil, errors.New("native: no call " + name)
}

type specFile struct {
	Buckets []struct {
		Seed, Scope      string
		Version          int
		Holdout, Variant *uint32
	}
	Cases []specCase
}

type specCase struct {
	Name  string
	Rules json.RawMessage
	Steps []specStep
}

type specStep struct {
	At      string
	Declare []string
	Context *struct {
		Lang string
		TZ   int64
	}
	Pref     []any
	View     *string
	Path     string
	Time     float64
	Category string
	Goal     string
	Decide   *struct {
		Category, Path string
		Items          map[string][][]string
		None           bool // a page with no slot
	}
	SnapshotRestore bool            `json:"snapshot_restore"`
	LoadRules       json.RawMessage `json:"load_rules"`
	LoadRaw         string          `json:"load_raw"`
	EventRaw        string          `json:"event_raw"`
	RestoreRaw      string          `json:"restore_raw"`
	Take            uint64
	Ack             uint64
	Consent         *bool
	Error           *string
	Expect          *struct {
		Segments *[]string
		Slots    map[string]string
		Arms     map[string]int
		Actions  *[]string
		Items    map[string][]string
		Prefs    *string
		Counts   *[]string
		Batch    uint64
	}
}

func loadSpec(t *testing.T) specFile {
	b, err := os.ReadFile("testdata/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specFile
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("spec.json: %v", err)
	}
	return s
}

// compact turns an operator's JSON into the compact form the engine takes. Compile runs only when
// validate is set: a case may want the engine itself to refuse a bad set.
func compact(t *testing.T, raw json.RawMessage, validate bool) []byte {
	t.Helper()
	var rs rules.RuleSet
	if err := json.Unmarshal(raw, &rs); err != nil {
		t.Fatalf("rules JSON: %v", err)
	}
	if validate {
		if _, err := rules.Compile(&rs); err != nil {
			t.Fatalf("rules do not compile: %v", err)
		}
	}
	return rules.Encode(&rs)
}

func ms(t *testing.T, s string) int64 {
	v, ok := rules.ParseTime(s)
	if !ok {
		t.Fatalf("bad time %q", s)
	}
	return v
}

func TestSpec(t *testing.T) {
	spec := loadSpec(t)
	for _, c := range spec.Cases {
		t.Run(c.Name, func(t *testing.T) {
			wasm := runCase(t, "wasm", newEngine(t), c)
			nat := runCase(t, "native", native{engine.New()}, c)
			if !slices.Equal(wasm, nat) {
				t.Errorf("wasm and native disagree:\nwasm:   %q\nnative: %q", wasm, nat)
			}
		})
	}
}

// runCase runs a case's steps, checks each expectation, and returns a transcript of every answer.
func runCase(t *testing.T, who string, d driver, c specCase) []string {
	var log []string
	seed := "seed-" + c.Name
	fail := func(i int, format string, args ...any) {
		t.Helper()
		t.Errorf("%s step %d: %s", who, i, fmt.Sprintf(format, args...))
	}
	if err := d.LoadRules(compact(t, c.Rules, true)); err != nil {
		t.Fatalf("%s: load rules: %v", who, err)
	}
	var now int64
	restored := false
	for i, s := range c.Steps {
		if s.At != "" {
			now = ms(t, s.At)
		}
		if !restored && s.RestoreRaw == "" {
			if err := d.Restore(abi.Restore{Seed: seed, Now: now}); err != nil {
				t.Fatalf("%s: restore: %v", who, err)
			}
		}
		restored = true
		err := runStep(t, d, s, now, seed, &log)
		want := ""
		if s.Error != nil {
			want = *s.Error
		}
		switch {
		case want == "" && err != nil:
			fail(i, "unexpected error: %v", err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			fail(i, "error %v, want one containing %q", err, want)
		}
		if err != nil {
			// The wasm host marks refusals; the message after the mark is the engine's own.
			log = append(log, "error: "+strings.TrimPrefix(err.Error(), host.ErrEngine.Error()+": "))
		}
		if s.Expect != nil && err == nil {
			checkExpect(t, who, i, d, s, log)
		}
	}
	return log
}

func runStep(t *testing.T, d driver, s specStep, now int64, seed string, log *[]string) error {
	switch {
	case s.Declare != nil:
		return d.Event(abi.Event{Kind: abi.EventDeclare, Now: now, Name: s.Declare[0], Value: s.Declare[1]})
	case s.Context != nil:
		return d.Event(abi.Event{Kind: abi.EventContext, Now: now, Lang: s.Context.Lang, TZ: s.Context.TZ})
	case s.Pref != nil:
		v := s.Pref[1]
		if l, ok := v.([]any); ok {
			var ss []string
			for _, e := range l {
				ss = append(ss, e.(string))
			}
			v = ss
		}
		return d.SetPref(abi.Pref{ID: s.Pref[0].(string), Value: v, Now: now})
	case s.View != nil:
		return d.Event(abi.Event{Kind: abi.EventPageView, Now: now, Category: *s.View, Path: s.Path})
	case s.Time != 0:
		return d.Event(abi.Event{Kind: abi.EventTime, Now: now, Seconds: s.Time, Category: s.Category})
	case s.Goal != "":
		return d.Event(abi.Event{Kind: abi.EventGoal, Now: now, Goal: s.Goal})
	case s.Consent != nil:
		return d.Consent(*s.Consent)
	case s.SnapshotRestore:
		snap, err := d.Snapshot()
		if err != nil {
			return err
		}
		return d.Restore(abi.Restore{State: snap, Now: now})
	case s.LoadRules != nil:
		return d.LoadRules(compact(t, s.LoadRules, false))
	case s.LoadRaw != "":
		_, err := d.Call("tailor_load_rules", unhex(t, s.LoadRaw))
		return err
	case s.EventRaw != "":
		_, err := d.Call("tailor_event", unhex(t, s.EventRaw))
		return err
	case s.RestoreRaw != "":
		m := abi.Restore{State: unhex(t, s.RestoreRaw), Seed: seed, Now: now}
		_, err := d.Call("tailor_restore", m.Encode())
		return err
	case s.Ack != 0:
		f := frame.Frame{Kind: frame.KindAck, BatchID: s.Ack}
		_, err := d.Sync(f.Encode(nil), now)
		return err
	case s.Take != 0:
		b, err := d.TakeCounts(abi.Take{BatchID: s.Take, Now: now})
		*log = append(*log, "take: "+hex.EncodeToString(b))
		return err
	case s.Decide != nil:
		p := abi.Page{Now: now, Category: s.Decide.Category, Path: s.Decide.Path, All: len(s.Decide.Items) == 0 && !s.Decide.None}
		for _, slot := range sortedKeys(s.Decide.Items) {
			req := abi.SlotRequest{Slot: slot}
			for _, it := range s.Decide.Items[slot] {
				req.Items = append(req.Items, abi.Item{ID: it[0], Categories: it[1:]})
			}
			p.Slots = append(p.Slots, req)
		}
		dec, err := d.Decide(p)
		*log = append(*log, "decide: "+hex.EncodeToString(dec.Encode()))
		return err
	}
	t.Fatalf("step does nothing: %+v", s)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkExpect(t *testing.T, who string, i int, d driver, s specStep, log []string) {
	t.Helper()
	x := s.Expect
	last := log[len(log)-1]
	if s.Decide != nil {
		var dec abi.Decisions
		if err := dec.Decode(unhex(t, strings.TrimPrefix(last, "decide: "))); err != nil {
			t.Fatal(err)
		}
		bySlot := map[string]abi.Decision{}
		for _, dd := range dec.Decisions {
			bySlot[dd.Slot] = dd
		}
		if x.Segments != nil {
			got := append([]string{}, dec.Segments...)
			want := append([]string{}, *x.Segments...)
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s step %d: segments %q, want %q", who, i, got, want)
			}
		}
		for slot, v := range x.Slots {
			if bySlot[slot].Variant != v {
				t.Errorf("%s step %d: slot %s shows %q (%s), want %q", who, i, slot, bySlot[slot].Variant, bySlot[slot].Reason, v)
			}
		}
		for slot, arm := range x.Arms {
			if bySlot[slot].Arm != arm {
				t.Errorf("%s step %d: slot %s in arm %d, want %d", who, i, slot, bySlot[slot].Arm, arm)
			}
		}
		for slot, items := range x.Items {
			if !slices.Equal(bySlot[slot].Items, items) {
				t.Errorf("%s step %d: slot %s items %q, want %q", who, i, slot, bySlot[slot].Items, items)
			}
		}
		if x.Actions != nil {
			var got []string
			for _, a := range dec.Actions {
				s := a.Trigger + ":" + a.Action
				for _, k := range sortedKeys(a.Params) {
					s += ":" + k + "=" + a.Params[k]
				}
				got = append(got, s)
			}
			if !slices.Equal(got, *x.Actions) && !(len(got) == 0 && len(*x.Actions) == 0) {
				t.Errorf("%s step %d: actions %q, want %q", who, i, got, *x.Actions)
			}
		}
	}
	if x.Prefs != nil {
		p, err := d.PrefsJSON()
		if err != nil || string(p) != *x.Prefs {
			t.Errorf("%s step %d: prefs %s (%v), want %s", who, i, p, err, *x.Prefs)
		}
	}
	if s.Take != 0 {
		b := unhex(t, strings.TrimPrefix(last, "take: "))
		var f frame.Frame
		if len(b) > 0 {
			got, err := frame.Decode(b)
			if err != nil {
				t.Fatalf("%s step %d: batch does not decode: %v", who, i, err)
			}
			f = *got
		}
		if x.Counts != nil {
			var got []string
			for _, c := range f.Counts {
				got = append(got, c.Key()+"@"+time.Unix(int64(c.Window)*3600, 0).UTC().Format(time.RFC3339))
			}
			sort.Strings(got)
			want := append([]string{}, *x.Counts...)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s step %d: counts %q, want %q", who, i, got, want)
			}
		}
		if x.Batch != 0 && f.BatchID != x.Batch {
			t.Errorf("%s step %d: batch id %d, want %d", who, i, f.BatchID, x.Batch)
		}
	}
}

// TestBucketGolden pins every bucket of spec.json natively and, through decisions, in the wasm engine.
func TestBucketGolden(t *testing.T) {
	spec := loadSpec(t)
	for _, v := range spec.Buckets {
		if got := bucket.Of(v.Seed, bucket.SaltHoldout, v.Scope, v.Version); got != *v.Holdout {
			t.Errorf("native holdout bucket of %+v = %d, want %d", v, got, *v.Holdout)
		}
		if v.Variant != nil {
			if got := bucket.Of(v.Seed, bucket.SaltVariant, v.Scope+"|v", v.Version); got != *v.Variant {
				t.Errorf("native variant bucket of %+v = %d, want %d", v, got, *v.Variant)
			}
		}
		// In the engine: a share of bucket+1 basis points takes the visitor, a share of bucket does not.
		for _, extra := range []uint32{0, 1} {
			e := newEngine(t)
			rs := rules.RuleSet{Slots: []rules.Slot{{ID: v.Scope, BucketVersion: v.Version, Default: rules.Variant{ID: "d"}}}}
			share := float64(*v.Holdout+extra) / 10000
			if v.Scope == "*" {
				rs.Slots[0].ID, rs.Holdout, rs.HoldoutVersion = "s", share, v.Version
			} else {
				rs.Slots[0].Holdout = share
			}
			if err := e.LoadRules(rules.Encode(&rs)); err != nil {
				t.Fatal(err)
			}
			if err := e.Restore(abi.Restore{Seed: v.Seed, Now: 1}); err != nil {
				t.Fatal(err)
			}
			d, err := e.Decide(abi.Page{Now: 1, All: true})
			if err != nil {
				t.Fatal(err)
			}
			if inHoldout := d.Decisions[0].Arm == frame.ArmHoldout; inHoldout != (extra == 1) {
				t.Errorf("wasm: %+v with holdout share %v: holdout=%v", v, share, inHoldout)
			}
			if v.Variant == nil {
				continue
			}
			rs = rules.RuleSet{Slots: []rules.Slot{{ID: v.Scope, BucketVersion: v.Version, Default: rules.Variant{ID: "d"},
				Variants: []rules.Variant{{ID: "v", Traffic: float64(*v.Variant+extra) / 10000}}}}}
			if err := e.LoadRules(rules.Encode(&rs)); err != nil {
				t.Fatal(err)
			}
			d, err = e.Decide(abi.Page{Now: 1, All: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Decisions[0].Variant == "v"; got != (extra == 1) {
				t.Errorf("wasm: %+v with traffic %d+%d: variant chosen=%v", v, *v.Variant, extra, got)
			}
		}
	}
}
