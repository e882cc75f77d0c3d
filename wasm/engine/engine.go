// Package engine is Tailor's engine core: the visitor's preferences and behaviour, segments, the
// conversion model, decisions and pending counts. It is pure: it never reads a clock, a random source,
// storage or the network; the host passes times and seeds in and stores the snapshots it hands back. The
// wasm main package exports it (see wasm/main.go for the ABI); tests run it natively too.
package engine

import (
	"errors"
	"math"
	"strings"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
	"github.com/tailor/tailor/shared/wire"
)

// Version is the engine's version, sent to the server in the hello frame.
const Version = "tailor-engine/1"

// Errors the engine returns. Each leaves the engine as it was.
var (
	// ErrNoRules is returned by calls that need a rule set before one is loaded.
	ErrNoRules = errors.New("engine: no rule set loaded")
	// ErrEvent is returned for an event that is not valid.
	ErrEvent = errors.New("engine: invalid event")
	// ErrPref is returned for a preference the rule set does not offer or a value it does not allow.
	ErrPref = errors.New("engine: preference refused")
	// ErrFrame is returned for a sync frame the engine cannot use.
	ErrFrame = errors.New("engine: sync frame refused")
)

// Engine holds one visitor's state and the rule set in force.
type Engine struct {
	rules   *rules.Compiled
	compact []byte // the rule set in force, as the server sent it
	st      *state
	scratch []byte // reused for counter keys and explanations
}

// New returns an engine with no rule set and an empty state without a seed; Restore gives it one.
func New() *Engine { return &Engine{st: newState("", 0)} }

// LoadRules puts a compact rule set in force. On error the previous set stays.
func (e *Engine) LoadRules(compact []byte) error {
	rs, err := rules.Decode(compact)
	if err != nil {
		return err
	}
	c, err := rules.Compile(rs)
	if err != nil {
		return err
	}
	e.rules, e.compact = c, append([]byte(nil), compact...)
	return nil
}

// Restore starts from a snapshot. An empty snapshot starts fresh with m.Seed; one that is corrupt or from a
// newer engine does too, and the error says why.
func (e *Engine) Restore(m abi.Restore) error {
	if len(m.State) == 0 {
		if m.Seed == "" {
			return wire.Join(ErrEvent, errors.New("a fresh state needs a seed"))
		}
		e.st = newState(m.Seed, m.Now)
		return nil
	}
	st, err := decodeState(m.State)
	if err != nil {
		if m.Seed != "" {
			e.st = newState(m.Seed, m.Now)
			return wire.Join(err, errors.New("engine: started fresh"))
		}
		return err
	}
	e.st = st
	return nil
}

// Snapshot returns the state to store on the device.
func (e *Engine) Snapshot() []byte { return e.st.encode() }

// Consent records whether the visitor consented to behaviour being kept and counted. Without consent the
// engine records no behaviour and queues no counts; preferences keep working. Refusing drops what was
// pending.
func (e *Engine) Consent(ok bool) {
	e.st.noConsent = !ok
	if !ok {
		e.st.pending = nil
		e.st.inFlight = nil
	}
}

// Forget erases everything the engine keeps about the visitor and starts over with a new seed.
func (e *Engine) Forget(seed string, now int64) error {
	if seed == "" {
		return wire.Join(ErrEvent, errors.New("forget needs a new seed"))
	}
	noConsent := e.st.noConsent
	e.st = newState(seed, now)
	e.st.noConsent = noConsent
	return nil
}

const maxName = 256

func checkName(what, s string) error {
	if len(s) > maxName {
		return wire.Join(ErrEvent, errors.New(what+" longer than 256 bytes"))
	}
	return nil
}

// Event records something the visitor did.
func (e *Engine) Event(ev abi.Event) error {
	for _, f := range [...][2]string{{"category", ev.Category}, {"path", ev.Path}, {"goal", ev.Goal}, {"name", ev.Name}, {"value", ev.Value}, {"lang", ev.Lang}} {
		if err := checkName(f[0], f[1]); err != nil {
			return err
		}
	}
	st := e.st
	switch ev.Kind {
	case abi.EventPageView:
		if ev.Category == "" {
			return wire.Join(ErrEvent, errors.New("a page view needs a category"))
		}
	case abi.EventTime:
		if !(ev.Seconds > 0 && ev.Seconds <= 86400) {
			return wire.Join(ErrEvent, errors.New("visible time must be more than 0 and at most 86400 seconds"))
		}
	case abi.EventGoal:
		if e.rules == nil {
			return ErrNoRules
		}
		if !e.rules.Goals[ev.Goal] {
			return wire.Join(ErrEvent, errors.New("unknown goal "+ev.Goal))
		}
	case abi.EventDeclare:
		if ev.Name == "" {
			return wire.Join(ErrEvent, errors.New("a declared attribute needs a name"))
		}
		// Declared attributes are the visitor's own choice, like preferences: kept without consent too.
		if ev.Value == "" {
			delete(st.declared, ev.Name)
		} else {
			st.declared[ev.Name] = ev.Value
		}
		return nil
	case abi.EventContext:
		if ev.TZ < -14*60 || ev.TZ > 14*60 {
			return wire.Join(ErrEvent, errors.New("time-zone offset must be within ±840 minutes"))
		}
		st.lang, st.tz, st.hasCtx = ev.Lang, ev.TZ, true
		return nil
	default:
		return wire.Join(ErrEvent, errors.New("unknown event kind"))
	}
	if st.noConsent {
		return nil
	}
	e.activity(ev.Now)
	switch ev.Kind {
	case abi.EventPageView:
		st.counter("p").add(ev.Now, 1)
		st.counter("p:"+ev.Category).add(ev.Now, 1)
		st.journey = append(st.journey, ev.Category)
		if keep := e.journeyLength(); len(st.journey) > keep {
			st.journey = append(st.journey[:0], st.journey[len(st.journey)-keep:]...)
		}
		e.addInterest(ev.Category, 1, ev.Now)
	case abi.EventTime:
		st.counter("t").add(ev.Now, ev.Seconds)
		if ev.Category != "" {
			st.counter("t:"+ev.Category).add(ev.Now, ev.Seconds)
			e.addInterest(ev.Category, ev.Seconds/60, ev.Now)
		}
	case abi.EventGoal:
		st.counter("g:"+ev.Goal).add(ev.Now, 1)
		for _, slot := range sortedKeys(st.exposed) {
			variant, arm, _ := strings.Cut(st.exposed[slot], "|")
			a := uint8(frame.ArmPersonalized)
			if arm == "2" {
				a = frame.ArmHoldout
			}
			e.count(ev.Now, frame.Count{Kind: frame.CountConversion, Goal: ev.Goal, Slot: slot, Variant: variant, Arm: a})
		}
	}
	return nil
}

func (e *Engine) journeyLength() int {
	if e.rules == nil {
		return 10
	}
	return e.rules.Journey
}

// activity counts a new visit after the rule set's gap without activity.
func (e *Engine) activity(now int64) {
	st := e.st
	gap := int64(30 * 60000)
	if e.rules != nil {
		gap = e.rules.VisitGapMs
	}
	if st.lastActive == 0 || now-st.lastActive > gap {
		st.counter("v").add(now, 1)
	}
	if now > st.lastActive {
		st.lastActive = now
	}
	if st.firstSeen == 0 {
		st.firstSeen = now
	}
}

func (e *Engine) addInterest(cat string, n float64, now int64) {
	in, ok := e.st.interests[cat]
	if !ok && len(e.st.interests) >= maxCategories {
		// Make room by dropping the weakest interest now.
		victim, weakest := "", 0.0
		for k, v := range e.st.interests {
			if d := e.decayed(v, now); victim == "" || d < weakest || d == weakest && k < victim {
				victim, weakest = k, d
			}
		}
		delete(e.st.interests, victim)
	}
	e.st.interests[cat] = interest{score: e.decayed(in, now) + n, at: max(now, in.at)}
}

// decayed is an interest's score at now, halving every half-life.
func (e *Engine) decayed(in interest, now int64) float64 {
	if in.score == 0 || now <= in.at {
		return in.score
	}
	half := 14.0 * dayMs
	if e.rules != nil {
		half = e.rules.HalfLifeMs
	}
	return in.score * math.Exp2(-float64(now-in.at)/half)
}

// SetPref stores a preference the visitor chose, if the rule set offers it and allows the value, and puts
// the visitor in the segment the choice assigns.
func (e *Engine) SetPref(p abi.Pref) error {
	if e.rules == nil {
		return ErrNoRules
	}
	def := e.rules.Prefs[p.ID]
	if def == nil {
		return wire.Join(ErrPref, errors.New("unknown preference "+p.ID))
	}
	if p.Value == nil {
		delete(e.st.prefs, p.ID)
		return nil
	}
	v, msg := rules.CheckPref(def, p.Value)
	if msg != "" {
		return wire.Join(ErrPref, errors.New(msg))
	}
	e.st.prefs[p.ID] = v
	chosen := valueString(v)
	picked := map[string]int64{}
	for _, a := range def.Assign {
		if a.Value == chosen || def.Kind == rules.KindSet && containsStr(v, a.Value) {
			until := int64(0)
			if a.TTLHours > 0 {
				until = p.Now + int64(a.TTLHours*3600000)
			}
			picked[a.Segment] = until
		}
	}
	for _, a := range def.Assign {
		if until, ok := picked[a.Segment]; ok {
			e.st.assigned[a.Segment] = until
		} else {
			delete(e.st.assigned, a.Segment)
		}
	}
	return nil
}

func containsStr(v any, s string) bool {
	list, _ := v.([]string)
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}
