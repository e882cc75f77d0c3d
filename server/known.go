package server

import (
	"strconv"
	"sync"

	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
)

// Bounds on a count's report window, in hours from now: a browser may report late (it was offline) but a
// window far in the past or any in the future is junk that would only grow the store.
const (
	maxWindowAgeHours   = 400 * 24 // a year-long window, reported a month late
	maxWindowAheadHours = 24       // clocks that run fast
)

// known is the union of the ids of every rule-set version the server holds: a browser may still count
// against an older set than the live one. Counts for anything else are refused, so nobody can grow the
// store with ids of their own.
type known struct {
	mu       sync.RWMutex
	variants map[string]map[string]bool // slot -> its variant ids, the default included
	goals    map[string]bool
	segments map[string]bool
	triggers map[string]bool
	windows  map[int]bool // report window lengths in hours
}

func newKnown() *known {
	return &known{
		variants: map[string]map[string]bool{},
		goals:    map[string]bool{},
		segments: map[string]bool{},
		triggers: map[string]bool{},
		windows:  map[int]bool{},
	}
}

func (k *known) add(rs *rules.RuleSet) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range rs.Slots {
		vs := k.variants[s.ID]
		if vs == nil {
			vs = map[string]bool{}
			k.variants[s.ID] = vs
		}
		vs[s.Default.ID] = true
		for _, v := range s.Variants {
			vs[v.ID] = true
		}
	}
	for _, g := range rs.Goals {
		k.goals[g.ID] = true
	}
	for _, s := range rs.Segments {
		k.segments[s.ID] = true
	}
	for _, t := range rs.Triggers {
		k.triggers[t.ID] = true
	}
	h := rs.ReportWindowHours
	if h <= 0 {
		h = 24
	}
	k.windows[h] = true
}

// check returns why a count is refused, or "" when every id it names is known and its window plausible.
// frame.Decode has already bounded its kind, arm and value.
func (k *known) check(c *frame.Count, nowHour int64) string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	switch c.Kind {
	case frame.CountExposure, frame.CountConversion:
		vs, ok := k.variants[c.Slot]
		if !ok {
			return "unknown slot " + strconv.Quote(c.Slot)
		}
		if !vs[c.Variant] {
			return "unknown variant " + strconv.Quote(c.Variant) + " of slot " + strconv.Quote(c.Slot)
		}
		if c.Kind == frame.CountConversion && !k.goals[c.Goal] {
			return "unknown goal " + strconv.Quote(c.Goal)
		}
	case frame.CountSegment:
		if !k.segments[c.Segment] {
			return "unknown segment " + strconv.Quote(c.Segment)
		}
	case frame.CountTrigger:
		if !k.triggers[c.Trigger] {
			return "unknown trigger " + strconv.Quote(c.Trigger)
		}
	}
	w := int64(c.Window)
	if w > nowHour+maxWindowAheadHours || w < nowHour-maxWindowAgeHours {
		return "window " + strconv.FormatInt(w, 10) + " is not near now"
	}
	for h := range k.windows {
		if w%int64(h) == 0 {
			return ""
		}
	}
	return "window " + strconv.FormatInt(w, 10) + " does not start a report window"
}
