// Package bench measures Tailor beside what it is compared with, in one run on one machine: these machines
// are shared and noisy, so ratios hold where absolute times drift. `make bench` prints the table
// (e2e/cmd/bench); `make test` runs a short version only to prove every figure still runs.
package bench

import (
	"strconv"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// Workload is a generated rule set and a visitor's history to decide it over. The same workload feeds
// every engine compared, so they decide the same conditions over the same attributes.
type Workload struct {
	Rules  *rules.RuleSet
	Events []abi.Event
	Page   abi.Page
}

var categories = []string{"car/yaris", "car/corolla", "car/rav4", "news", "deals", "home", "help", "blog/travel"}

// NewWorkload makes a rule set of slots slots and segments segments whose conditions mix the operators a
// real set uses (counts in rolling windows, strings, sets, versions, preferences, segment references), and a
// history of 40 page views with their visible time.
func NewWorkload(slots, segments int) *Workload {
	rs := &rules.RuleSet{Name: "bench",
		Preferences: []rules.Preference{{ID: "theme", Kind: rules.KindEnum, Values: []string{"light", "dark"}, Default: "light"},
			{ID: "topics", Kind: rules.KindSet, Values: []string{"news", "deals", "blog/travel"}}},
		Goals: []rules.Goal{{ID: "buy"}},
		Models: []rules.Model{{ID: "buy", Bias: -2, Features: []rules.Feature{
			{Attr: "views.7d", Transform: rules.TransformLog1p, Weight: 0.6}, {Attr: "time", Transform: rules.TransformLog1p, Weight: 0.2}}}},
	}
	for i := 0; i < segments; i++ {
		id := "seg" + strconv.Itoa(i)
		cat := categories[i%len(categories)]
		var c rules.Cond
		switch i % 6 {
		case 0:
			c = rules.Cond{Attr: "views." + cat + ".7d", Op: "gte", Value: float64(1 + i%4)}
		case 1:
			c = rules.Cond{All: []rules.Cond{{Attr: "ctx.lang", Op: "in", Value: []any{"fr", "de", "en"}}, {Attr: "visits.30d", Op: "gte", Value: 2.0}}}
		case 2:
			c = rules.Cond{Attr: "page.path", Op: "glob", Value: "/" + cat + "/**"}
		case 3:
			c = rules.Cond{Any: []rules.Cond{{Attr: "pref.topics", Op: "has_any", Value: []any{"news", "deals"}}, {Attr: "journey", Op: "contains", Value: cat}}}
		case 4:
			c = rules.Cond{Attr: "attr.app", Op: "semver_gte", Value: "2." + strconv.Itoa(i%5) + ".0"}
		case 5:
			if i > 5 {
				c = rules.Cond{All: []rules.Cond{{Segment: "seg" + strconv.Itoa(i-5)}, {Attr: "model.buy", Op: "gt", Value: 0.3}}}
			} else {
				c = rules.Cond{Attr: "interest." + cat, Op: "gt", Value: 1.5}
			}
		}
		rs.Segments = append(rs.Segments, rules.Segment{ID: id, When: &c})
	}
	for i := 0; i < slots; i++ {
		s := rules.Slot{ID: "slot" + strconv.Itoa(i), Holdout: 0.1, Default: rules.Variant{ID: "default", Text: "Default"}}
		for v := 0; v < 3; v++ {
			seg := "seg" + strconv.Itoa((i*3+v*7)%segments)
			s.Variants = append(s.Variants, rules.Variant{ID: "v" + strconv.Itoa(v),
				When: &rules.Cond{Segment: seg}, Template: "tpl-" + strconv.Itoa(v)})
		}
		rs.Slots = append(rs.Slots, s)
	}
	w := &Workload{Rules: rs}
	now := int64(1780000000000)
	for i := 0; i < 40; i++ {
		now += 45000
		cat := categories[(i*5)%len(categories)]
		w.Events = append(w.Events, abi.Event{Kind: abi.EventPageView, Now: now, Category: cat, Path: "/" + cat + "/" + strconv.Itoa(i)},
			abi.Event{Kind: abi.EventTime, Now: now + 30000, Category: cat, Seconds: 30})
	}
	w.Events = append(w.Events, abi.Event{Kind: abi.EventContext, Now: now, Lang: "fr", TZ: 60},
		abi.Event{Kind: abi.EventDeclare, Now: now, Name: "app", Value: "2.3.1"})
	w.Page = abi.Page{Now: now + 60000, Category: "car/yaris", Path: "/car/yaris/offers", All: true}
	return w
}

// Compact is the workload's rule set in the form the engine loads.
func (w *Workload) Compact() []byte {
	if _, err := rules.Compile(w.Rules); err != nil {
		panic("bench: generated rule set does not compile: " + err.Error())
	}
	return rules.Encode(w.Rules)
}
