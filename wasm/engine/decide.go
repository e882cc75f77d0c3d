package engine

import (
	"errors"
	"slices"
	"strings"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/bucket"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
	"github.com/tailor/tailor/shared/wire"
)

// Decide decides every slot the page asks for (every slot of the rule set with p.All), fires the triggers
// of segments the visitor has just entered, and queues the counts. Only slots decided count exposures.
func (e *Engine) Decide(p abi.Page) (abi.Decisions, error) {
	var out abi.Decisions
	if e.rules == nil {
		return out, ErrNoRules
	}
	if e.st.seed == "" {
		return out, wire.Join(ErrEvent, errors.New("no seed: call restore first"))
	}
	if err := checkPage(p); err != nil {
		return out, err
	}
	ev := e.segments(p.Now, pageInfo{category: p.Category, path: p.Path}, &out)
	requests := p.Slots
	if p.All {
		requests = make([]abi.SlotRequest, 0, len(e.rules.Slots))
		for _, s := range e.rules.Slots {
			requests = append(requests, abi.SlotRequest{Slot: s.ID})
		}
	}
	out.Decisions = make([]abi.Decision, 0, len(requests))
	for _, req := range requests {
		slot := e.rules.SlotByID[req.Slot]
		if slot == nil {
			// A page may carry slots a newer or older rule set does not know: it keeps its own content.
			continue
		}
		d := ev.decideSlot(slot, req.Items)
		e.expose(slot.ID, d.Variant, d.Arm)
		e.count(p.Now, frame.Count{Kind: frame.CountExposure, Slot: slot.ID, Variant: d.Variant, Arm: uint8(d.Arm)})
		out.Decisions = append(out.Decisions, d)
	}
	return out, nil
}

// checkPage bounds what a page may pass, so a hostile page cannot make one decision arbitrarily slow.
func checkPage(p abi.Page) error {
	if err := checkName("page category", p.Category); err != nil {
		return err
	}
	if len(p.Path) > 2048 {
		return wire.Join(ErrEvent, errors.New("page path longer than 2048 bytes"))
	}
	if len(p.Slots) > rules.MaxItems {
		return wire.Join(ErrEvent, errors.New("more than 1000 slots on a page"))
	}
	for _, s := range p.Slots {
		if len(s.Items) > rules.MaxItems {
			return wire.Join(ErrEvent, errors.New("slot "+s.Slot+" offers more than 1000 items"))
		}
	}
	return nil
}

// evaluate works out the visitor's segments in dependency order, changing nothing.
func (e *Engine) evaluate(now int64, page pageInfo) *evaluation {
	n := len(e.rules.Segments)
	ev := &evaluation{e: e, now: now, page: page, member: make([]bool, n), reasons: make([]reason, n)}
	for _, seg := range e.rules.Segments {
		ev.member[seg.Index], ev.reasons[seg.Index] = ev.memberOf(seg)
	}
	return ev
}

func (ev *evaluation) memberOf(seg *rules.CSegment) (bool, reason) {
	st := ev.e.st
	if until, ok := st.assigned[seg.ID]; ok && (until == 0 || ev.now < until) {
		return true, reason{how: byAssignment}
	}
	if entered, ok := st.inSeg[seg.ID]; ok && seg.TTLMs > 0 && ev.now < entered+seg.TTLMs {
		return true, reason{how: byTTL, entered: entered}
	}
	if seg.When == nil {
		return false, reason{}
	}
	m, n := ev.eval(seg.When)
	return m, reason{node: n}
}

// segments evaluates the visitor's segments, records entries and exits and fires the triggers of
// segments just entered. A segment whose TTL ran out while its condition still holds is entered anew.
func (e *Engine) segments(now int64, page pageInfo, out *abi.Decisions) *evaluation {
	st := e.st
	ev := e.evaluate(now, page)
	// Triggers waiting for their parameters are rare: look for them only when there are some.
	deferred := false
	for _, ts := range st.triggers {
		deferred = deferred || ts.deferred
	}
	for _, seg := range e.rules.Segments {
		if until, ok := st.assigned[seg.ID]; ok && until != 0 && now >= until {
			delete(st.assigned, seg.ID)
		}
		entered, was := st.inSeg[seg.ID]
		if was && seg.TTLMs > 0 && now >= entered+seg.TTLMs {
			was = false
		}
		in := ev.member[seg.Index]
		switch {
		case in && !was:
			st.inSeg[seg.ID] = now
			e.count(now, frame.Count{Kind: frame.CountSegment, Segment: seg.ID})
			e.fire(seg.ID, now, false, out)
		case in:
			if deferred {
				e.fire(seg.ID, now, true, out)
			}
		default:
			delete(st.inSeg, seg.ID)
			e.undefer(seg.ID)
		}
		if in {
			out.Segments = append(out.Segments, seg.ID)
		}
	}
	return ev
}

// fire runs the triggers of a segment the visitor has just entered (retry false), or, while they stay in
// it, those whose parameters could not be filled when they entered (retry true), within their caps.
func (e *Engine) fire(segment string, now int64, retry bool, out *abi.Decisions) {
	for _, t := range e.rules.Triggers {
		ts := e.st.triggers[t.ID]
		if t.OnEnter != segment || retry && !ts.deferred {
			continue
		}
		if t.Max > 0 && ts.count >= t.Max {
			continue
		}
		if t.EveryHours > 0 && ts.count > 0 && now-ts.last < int64(t.EveryHours*3600000) {
			continue
		}
		params, ok := e.fillParams(t.Params)
		if !ok {
			// Nothing to fill it with yet (no car model viewed, say): try again while they stay.
			ts.deferred = true
			e.st.triggers[t.ID] = ts
			continue
		}
		e.st.triggers[t.ID] = trigState{count: ts.count + 1, last: now}
		e.count(now, frame.Count{Kind: frame.CountTrigger, Trigger: t.ID})
		out.Actions = append(out.Actions, abi.Action{Trigger: t.ID, Action: t.Action, Params: params})
	}
}

// undefer forgets the triggers of a segment the visitor left that were waiting for their parameters.
func (e *Engine) undefer(segment string) {
	for _, t := range e.rules.Triggers {
		if ts := e.st.triggers[t.ID]; t.OnEnter == segment && ts.deferred {
			ts.deferred = false
			e.st.triggers[t.ID] = ts
		}
	}
}

// fillParams fills "{top_view:PREFIX}" parameters from the visitor's page views.
func (e *Engine) fillParams(in map[string]string) (map[string]string, bool) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if prefix, ok := strings.CutPrefix(v, "{top_view:"); ok && strings.HasSuffix(prefix, "}") {
			prefix = strings.TrimSuffix(prefix, "}")
			best, bestN := "", 0.0
			for _, key := range sortedKeys(e.st.counters) {
				cat, ok := strings.CutPrefix(key, "p:"+prefix)
				if n := e.st.counters[key].total; ok && cat != "" && n > bestN {
					best, bestN = cat, n
				}
			}
			if best == "" {
				return nil, false
			}
			v = best
		}
		out[k] = v
	}
	return out, true
}

// decideSlot chooses what one slot shows.
func (ev *evaluation) decideSlot(slot *rules.CSlot, items []abi.Item) abi.Decision {
	c, seed := ev.e.rules, ev.e.st.seed
	d := abi.Decision{Slot: slot.ID, Arm: frame.ArmPersonalized}
	show := func(v *rules.Variant, reason, path string) {
		d.Variant, d.Template, d.Text, d.Attrs, d.Reason, d.Path = v.ID, v.Template, v.Text, v.Attrs, reason, path
	}
	switch {
	case c.HoldoutBP > 0 && bucket.In(seed, bucket.SaltHoldout, "*", c.Set.HoldoutVersion, c.HoldoutBP):
		d.Arm = frame.ArmHoldout
		show(slot.Default, "in the rule set's holdout group: everyone there sees the default", "holdout")
	case slot.HoldoutBP > 0 && bucket.In(seed, bucket.SaltHoldout, slot.ID, slot.Bucket, slot.HoldoutBP):
		d.Arm = frame.ArmHoldout
		show(slot.Default, "in this slot's holdout group: it sees the default", "slots."+slot.ID+".holdout")
	default:
		show(slot.Default, "no variant matched", "")
		for i := range slot.Variants {
			v := &slot.Variants[i]
			var why *rules.Node
			if v.When != nil {
				m, w := ev.eval(v.When)
				if !m {
					continue
				}
				why = w
			}
			if v.TrafficBP < bucket.Buckets && !bucket.In(seed, bucket.SaltVariant, slot.ID+"|"+v.V.ID, slot.Bucket, v.TrafficBP) {
				continue
			}
			path := "slots." + slot.ID + ".variants." + v.V.ID
			if why != nil {
				path = why.Path
			}
			ev.e.scratch = ev.explain(append(ev.e.scratch[:0], "matched "...), why, 0)
			show(v.V, string(ev.e.scratch), path)
			break
		}
	}
	if slot.Rank != nil {
		// A ranked slot with variants ranks under its variants only: its default is what everyone sees,
		// in the page's order. A ranked slot without variants ranks for every visitor it personalizes.
		personalize := d.Arm == frame.ArmPersonalized && (len(slot.Variants) == 0 || d.Variant != slot.Default.ID)
		d.Items = ev.rank(slot, items, personalize, &d)
	}
	return d
}

// rank orders candidate items: hidden categories never shown (the visitor's own choice, so in the holdout
// too), followed ones first, then by interest; the holdout keeps the page's order.
func (ev *evaluation) rank(slot *rules.CSlot, items []abi.Item, personalize bool, d *abi.Decision) []string {
	hidden, followed := map[string]bool{}, map[string]bool{}
	for id, p := range ev.e.rules.Prefs {
		list, _ := ev.e.pref(id).([]string)
		for _, cat := range list {
			switch p.Role {
			case rules.RoleHide:
				hidden[cat] = true
			case rules.RoleFollow:
				followed[cat] = true
			}
		}
	}
	type scored struct {
		id     string
		follow bool
		score  float64
	}
	var list []scored
	best := 0.0
	anyFollow := false
outer:
	for _, it := range items {
		s := scored{id: it.ID}
		for _, cat := range it.Categories {
			if hidden[cat] {
				continue outer
			}
			s.follow = s.follow || followed[cat]
			if in, ok := ev.e.st.interests[cat]; ok {
				s.score += ev.e.decayed(in, ev.now)
			}
		}
		best = max(best, s.score)
		anyFollow = anyFollow || s.follow
		list = append(list, s)
	}
	personalize = personalize && (anyFollow || best > 0 && best >= slot.Rank.MinScore)
	if personalize {
		slices.SortStableFunc(list, func(a, b scored) int {
			switch {
			case a.follow != b.follow:
				if a.follow {
					return -1
				}
				return 1
			case a.score > b.score:
				return -1
			case a.score < b.score:
				return 1
			}
			return 0
		})
		if d.Path == "" {
			// The variant stays the default's id: the arm, not the variant, tells ranked from unranked.
			d.Reason, d.Path = "ranked by the visitor's interests and followed topics", "slots."+slot.ID+".rank"
		}
	}
	if slot.Rank.Limit > 0 && len(list) > slot.Rank.Limit {
		list = list[:slot.Rank.Limit]
	}
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.id
	}
	return ids
}

// expose records a slot's last exposure ("variant|arm"), so that goals count against it.
func (e *Engine) expose(slot, variant string, arm int) {
	cur := e.st.exposed[slot]
	armDigit := byte('0' + arm)
	if len(cur) == len(variant)+2 && cur[:len(variant)] == variant && cur[len(cur)-1] == armDigit {
		return
	}
	e.st.exposed[slot] = variant + "|" + string(armDigit)
}

// maxPending bounds the counts waiting to be sent.
const maxPending = 4 * frame.MaxCounts

// count queues a counter increment, at most once per counter per report window, for ids of the rule set.
func (e *Engine) count(now int64, c frame.Count) {
	if e.st.noConsent || e.rules == nil {
		return
	}
	windowMs := e.rules.WindowMs
	c.Window = uint32(floorDiv(now, windowMs) * windowMs / 3600000)
	c.N = 1
	// Most calls find the counter already counted this window: look it up without allocating a key.
	e.scratch = c.AppendKey(e.scratch[:0])
	if w, ok := e.st.counted[string(e.scratch)]; ok && w == c.Window {
		return
	}
	key := string(e.scratch)
	e.st.counted[key] = c.Window
	e.st.pending = append(e.st.pending, pending{key: key, count: c})
	// A device offline for months must not grow without bound: the oldest unsent counts go first.
	if over := len(e.st.pending) - maxPending; over > 0 {
		e.st.pending = append(e.st.pending[:0], e.st.pending[over:]...)
	}
}
