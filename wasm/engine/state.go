package engine

import (
	"errors"
	"sort"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/wire"
)

// stateFormat is the snapshot format written today. Snapshots carry their format; Restore reads every
// format ever written (missing fields read as zero), so an old snapshot restores into a newer engine.
//
//	1: the first format.
const stateFormat = 1

// ErrState is returned when a snapshot does not decode; the engine then starts fresh.
var ErrState = errors.New("engine: saved state is corrupt")

// ErrStateFormat is returned for a snapshot from a newer engine than this one.
var ErrStateFormat = errors.New("engine: saved state is from a newer engine")

// dayMs is one day in milliseconds: rolling windows count whole UTC days.
const dayMs = 86400000

// counter is a count with its per-day history for rolling windows (the last rules.MaxWindowDays days).
type counter struct {
	total float64
	days  []dayCount // ascending by day
}

type dayCount struct {
	day int64
	n   float64
}

func (c *counter) add(now int64, n float64) {
	c.total += n
	day := floorDiv(now, dayMs)
	if k := len(c.days); k > 0 && c.days[k-1].day == day {
		c.days[k-1].n += n
	} else if k == 0 || c.days[k-1].day < day {
		c.days = append(c.days, dayCount{day, n})
	} else {
		// A host clock that went backwards: count it on the latest day rather than reorder history.
		c.days[k-1].n += n
	}
	// Keep 90 days: enough for every window a rule set may name.
	cut := 0
	for cut < len(c.days) && c.days[cut].day <= day-90 {
		cut++
	}
	c.days = c.days[cut:]
}

// within counts the last days days, today included.
func (c *counter) within(now int64, days int) float64 {
	if days == 0 {
		return c.total
	}
	from := floorDiv(now, dayMs) - int64(days) + 1
	var n float64
	for _, d := range c.days {
		if d.day >= from {
			n += d.n
		}
	}
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

type interest struct {
	score float64
	at    int64
}

type trigState struct {
	count    int
	last     int64
	deferred bool // entered, but its parameters could not be filled yet
}

// pending is a count waiting to be sent.
type pending struct {
	key   string
	count frame.Count
}

// state is everything the engine keeps about one visitor. It stays on the device.
type state struct {
	seed       string
	firstSeen  int64
	lastActive int64
	noConsent  bool

	counters  map[string]*counter // "v" visits, "p" views, "p:CAT", "t" seconds, "t:CAT", "g:GOAL"
	journey   []string
	interests map[string]interest
	declared  map[string]string
	lang      string
	tz        int64
	hasCtx    bool
	prefs     map[string]any
	// assigned: segment -> until (ms; 0 for no end), set by a preference choice
	assigned map[string]int64
	// inSeg: segment -> when the visitor entered it (for TTLs and to count entries once)
	inSeg    map[string]int64
	triggers map[string]trigState
	// counted: counter key -> the report window (Unix hour of its start) it was last counted in
	counted map[string]uint32
	// exposed: slot -> "variant|arm" of its last exposure, so goals count against it
	exposed  map[string]string
	pending  []pending
	inFlight *frame.Frame
}

func newState(seed string, now int64) *state {
	return &state{
		seed: seed, firstSeen: now,
		counters: map[string]*counter{}, interests: map[string]interest{}, declared: map[string]string{},
		prefs: map[string]any{}, assigned: map[string]int64{}, inSeg: map[string]int64{},
		triggers: map[string]trigState{}, counted: map[string]uint32{}, exposed: map[string]string{},
	}
}

// maxCategories bounds the page categories the state keeps counters and interests for: a site that uses
// product ids as categories must not grow a visitor's state, saved after every change, without end.
const maxCategories = 256

func (s *state) counter(key string) *counter {
	c := s.counters[key]
	if c == nil {
		if len(s.counters) >= 2*maxCategories+8 {
			s.evictCounter()
		}
		c = &counter{}
		s.counters[key] = c
	}
	return c
}

// evictCounter drops the per-category counter last counted longest ago (totals and goals, whose ids the
// rule set bounds, are never dropped).
func (s *state) evictCounter() {
	victim, oldest := "", int64(0)
	for k, c := range s.counters {
		if len(k) < 3 || k[0] == 'g' || len(c.days) == 0 {
			continue
		}
		if last := c.days[len(c.days)-1].day; victim == "" || last < oldest || last == oldest && k < victim {
			victim, oldest = k, last
		}
	}
	delete(s.counters, victim)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encode writes the snapshot. Maps are written in key order so equal states give equal bytes.
func (s *state) encode() []byte {
	var w wire.Writer
	w.Uint(1, stateFormat)
	w.String(2, s.seed)
	w.Int(3, s.firstSeen)
	w.Int(4, s.lastActive)
	w.Bool(5, s.noConsent)
	for _, k := range sortedKeys(s.counters) {
		c := s.counters[k]
		w.Message(6, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Float(2, c.total)
			for _, d := range c.days {
				w.Message(3, func(w *wire.Writer) {
					w.Int(1, d.day)
					w.Float(2, d.n)
				})
			}
		})
	}
	for _, j := range s.journey {
		w.StringAlways(7, j)
	}
	for _, k := range sortedKeys(s.interests) {
		in := s.interests[k]
		w.Message(8, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Float(2, in.score)
			w.Int(3, in.at)
		})
	}
	w.StringMap(9, s.declared)
	w.String(10, s.lang)
	w.Int(11, s.tz)
	w.Bool(12, s.hasCtx)
	for _, k := range sortedKeys(s.prefs) {
		w.Message(13, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Message(2, func(w *wire.Writer) { abi.EncodeValue(w, s.prefs[k]) })
		})
	}
	writeTimes(&w, 14, s.assigned)
	writeTimes(&w, 15, s.inSeg)
	for _, k := range sortedKeys(s.triggers) {
		t := s.triggers[k]
		w.Message(16, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Int(2, int64(t.count))
			w.Int(3, t.last)
			w.Bool(4, t.deferred)
		})
	}
	for _, k := range sortedKeys(s.counted) {
		w.Message(17, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Uint(2, uint64(s.counted[k]))
		})
	}
	w.StringMap(18, s.exposed)
	for i := range s.pending {
		w.Raw(19, frame.AppendCount(nil, &s.pending[i].count))
	}
	if s.inFlight != nil {
		w.Raw(20, s.inFlight.Encode(nil))
	}
	return w.Bytes()
}

func writeTimes(w *wire.Writer, field int, m map[string]int64) {
	for _, k := range sortedKeys(m) {
		w.Message(field, func(w *wire.Writer) {
			w.StringAlways(1, k)
			w.Int(2, m[k])
		})
	}
}

// decodeState reads a snapshot of any format this engine knows.
func decodeState(b []byte) (*state, error) {
	s := newState("", 0)
	r := wire.NewReader(b)
	format := uint64(0)
	for r.Next() {
		switch r.Field {
		case 1:
			format = r.Uint()
		case 2:
			s.seed = r.String()
		case 3:
			s.firstSeen = r.Int()
		case 4:
			s.lastActive = r.Int()
		case 5:
			s.noConsent = r.Bool()
		case 6:
			m := r.Message()
			var key string
			c := &counter{}
			for m.Next() {
				switch m.Field {
				case 1:
					key = m.String()
				case 2:
					c.total = m.Float()
				case 3:
					var d dayCount
					dm := m.Message()
					for dm.Next() {
						switch dm.Field {
						case 1:
							d.day = dm.Int()
						case 2:
							d.n = dm.Float()
						}
					}
					m.Check(dm)
					c.days = append(c.days, d)
				}
			}
			r.Check(m)
			if !validCounterKey(key) {
				return nil, wire.Join(ErrState, errors.New("a counter has no valid name"))
			}
			s.counters[key] = c
		case 7:
			s.journey = append(s.journey, r.String())
		case 8:
			var k string
			var in interest
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					k = m.String()
				case 2:
					in.score = m.Float()
				case 3:
					in.at = m.Int()
				}
			}
			r.Check(m)
			s.interests[k] = in
		case 9:
			s.declared = r.MapEntry(s.declared)
		case 10:
			s.lang = r.String()
		case 11:
			s.tz = r.Int()
		case 12:
			s.hasCtx = r.Bool()
		case 13:
			var k string
			var v any
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					k = m.String()
				case 2:
					vm := m.Message()
					v = abi.DecodeValue(vm)
					m.Check(vm)
				}
			}
			r.Check(m)
			if v != nil {
				s.prefs[k] = v
			}
		case 14, 15:
			var k string
			var t int64
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					k = m.String()
				case 2:
					t = m.Int()
				}
			}
			r.Check(m)
			if r.Field == 14 {
				s.assigned[k] = t
			} else {
				s.inSeg[k] = t
			}
		case 16:
			var k string
			var t trigState
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					k = m.String()
				case 2:
					t.count = int(m.Int())
				case 3:
					t.last = m.Int()
				case 4:
					t.deferred = m.Bool()
				}
			}
			r.Check(m)
			s.triggers[k] = t
		case 17:
			var k string
			var win uint64
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					k = m.String()
				case 2:
					win = m.Uint()
				}
			}
			r.Check(m)
			s.counted[k] = uint32(win)
		case 18:
			s.exposed = r.MapEntry(s.exposed)
		case 19:
			c, err := frame.DecodeCount(r.Bytes())
			if err != nil {
				return nil, wire.Join(ErrState, err)
			}
			s.pending = append(s.pending, pending{key: c.Key(), count: c})
		case 20:
			f, err := frame.Decode(r.Bytes())
			if err != nil {
				return nil, wire.Join(ErrState, err)
			}
			s.inFlight = f
		}
	}
	if err := r.Err(); err != nil {
		return nil, wire.Join(ErrState, err)
	}
	if format == 0 || s.seed == "" {
		return nil, wire.Join(ErrState, errors.New("no format or no seed"))
	}
	if format > stateFormat {
		return nil, ErrStateFormat
	}
	return s, nil
}

// validCounterKey accepts the counter names the engine writes: "v", "p", "t", or "p:", "t:", "g:" and a name.
func validCounterKey(k string) bool {
	switch {
	case k == "v" || k == "p" || k == "t":
		return true
	case len(k) > 2 && k[1] == ':' && (k[0] == 'p' || k[0] == 't' || k[0] == 'g'):
		return true
	}
	return false
}
