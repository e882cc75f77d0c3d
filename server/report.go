package server

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tailor/tailor/server/analysis"
	"github.com/tailor/tailor/shared/rules"
)

// Count is one published number: N, or Suppressed when it is under k (or must be hidden so that a
// published total cannot reveal one that is). A suppressed count carries no number at all, not even a 0.
type Count struct {
	N          *uint64 `json:"n,omitempty"`
	Suppressed bool    `json:"suppressed,omitempty"`
}

func shownCount(n uint64) Count { return Count{N: &n} }

var hiddenCount = Count{Suppressed: true}

// Report is the answer of /api/report: what the dashboard charts, from the stored sums only.
type Report struct {
	K         int    `json:"k"`
	Version   uint64 `json:"version,omitempty"` // the live rule set's
	Generated string `json:"generated"`
	// Slots are those of the live set first, in its order, then slots only older versions had.
	Slots    []SlotReport   `json:"slots"`
	Segments []SeriesReport `json:"segments"`
	Triggers []SeriesReport `json:"triggers"`
}

// SlotReport is a slot's exposures and conversions over every report window, per variant and arm, with the
// statistics of package analysis.
type SlotReport struct {
	Slot string `json:"slot"`
	Live bool   `json:"live"`
	// HoldoutShare is the share of visitors the live set holds out of this slot: the set's holdout plus the
	// slot's own among the rest (the two are bucketed independently).
	HoldoutShare float64         `json:"holdout_share"`
	Variants     []VariantReport `json:"variants"`
	Exposures    ArmCounts       `json:"exposures"`
	SRM          *analysis.SRM   `json:"srm,omitempty"`
	SRMNote      string          `json:"srm_note,omitempty"` // why there is no SRM check
	Goals        []GoalReport    `json:"goals"`
}

// ArmCounts is a count per arm.
type ArmCounts struct {
	Personalized Count `json:"personalized"`
	Holdout      Count `json:"holdout"`
}

// VariantReport is one variant in one arm.
type VariantReport struct {
	Variant     string                    `json:"variant"`
	Arm         string                    `json:"arm"`
	Exposures   Count                     `json:"exposures"`
	Conversions map[string]Count          `json:"conversions"`     // by goal
	Rates       map[string]*analysis.Rate `json:"rates,omitempty"` // by goal, where both counts are shown
}

// GoalReport is what personalization changed for one goal of a slot.
type GoalReport struct {
	Goal         string         `json:"goal"`
	Conversions  ArmCounts      `json:"conversions"`
	Personalized *analysis.Rate `json:"personalized,omitempty"`
	Holdout      *analysis.Rate `json:"holdout,omitempty"`
	Uplift       *UpliftReport  `json:"uplift,omitempty"`
	Note         string         `json:"note,omitempty"` // why a rate or the uplift is missing
}

// UpliftReport is the personalized rate minus the holdout rate, with its 95% Newcombe interval, and that
// difference over the holdout rate (absent when the holdout rate is 0).
type UpliftReport struct {
	Absolute float64           `json:"absolute"`
	CI       analysis.Interval `json:"ci"`
	Relative *float64          `json:"relative,omitempty"`
}

// SeriesReport is a segment's entries or a trigger's fires per report window.
type SeriesReport struct {
	ID      string        `json:"id"`
	Live    bool          `json:"live"`
	Windows []WindowCount `json:"windows"`
	// ReportedTotal adds up the windows shown; SuppressedWindows says how many are not in it.
	ReportedTotal     uint64 `json:"reported_total"`
	SuppressedWindows int    `json:"suppressed_windows"`
}

// WindowCount is a count in one report window.
type WindowCount struct {
	Window      uint32 `json:"window"` // Unix hours
	WindowStart string `json:"window_start"`
	Count
}

// sums gathered by slot: exposures[variant][arm] and conversions[goal][variant][arm].
type slotSums struct {
	exposures   map[string]map[string]uint64
	conversions map[string]map[string]map[string]uint64
}

var arms = []string{"personalized", "holdout"}

// Report reads the stored sums and builds the dashboard's report. Numbers under k are never in it: see
// publish for the rule that also keeps published totals from revealing them.
func (s *Server) Report() (*Report, error) {
	sums, err := s.store.Sums()
	if err != nil {
		return nil, err
	}
	k := s.cfg.K
	rep := &Report{Generated: time.Now().UTC().Format(time.RFC3339), Slots: []SlotReport{}, Segments: []SeriesReport{}, Triggers: []SeriesReport{}}
	var rs *rules.RuleSet
	if live := s.live.Load(); live != nil {
		k = live.k
		rep.Version = live.v.Number
		if rs, err = rules.Decode(live.v.Compact); err != nil {
			return nil, fmt.Errorf("server: live version %d does not decode: %w", live.v.Number, err)
		}
	}
	rep.K = k
	slots := map[string]*slotSums{}
	segments := map[string]map[uint32]uint64{}
	triggers := map[string]map[uint32]uint64{}
	for _, sum := range sums {
		st := statOfKey(sum.Key)
		// /api/stats publishes each counter per window, suppressing windows under k. A total here that
		// included such a window would give it away by subtraction, so totals take only the windows
		// /api/stats shows; a counter seen only in hidden windows still appears, as suppressed.
		n := sum.N
		if n < uint64(k) {
			n = 0
		}
		switch st.Kind {
		case "exposure":
			ss := slotOf(slots, st.Slot)
			nested(ss.exposures, st.Variant)[st.Arm] += n
		case "conversion":
			ss := slotOf(slots, st.Slot)
			if ss.conversions[st.Goal] == nil {
				ss.conversions[st.Goal] = map[string]map[string]uint64{}
			}
			nested(ss.conversions[st.Goal], st.Variant)[st.Arm] += n
		case "segment":
			seriesOf(segments, st.Segment)[sum.Window] += sum.N
		case "trigger":
			seriesOf(triggers, st.Trigger)[sum.Window] += sum.N
		}
	}
	var liveSlots, liveSegments, liveTriggers []string
	var liveGoals []string
	share := map[string]float64{}
	if rs != nil {
		for _, sl := range rs.Slots {
			liveSlots = append(liveSlots, sl.ID)
			share[sl.ID] = rs.Holdout + (1-rs.Holdout)*sl.Holdout
		}
		for _, sg := range rs.Segments {
			liveSegments = append(liveSegments, sg.ID)
		}
		for _, t := range rs.Triggers {
			liveTriggers = append(liveTriggers, t.ID)
		}
		for _, g := range rs.Goals {
			liveGoals = append(liveGoals, g.ID)
		}
	}
	kk := uint64(k)
	for _, id := range ordered(liveSlots, slots) {
		ss := slots[id]
		if ss == nil {
			ss = &slotSums{exposures: map[string]map[string]uint64{}, conversions: map[string]map[string]map[string]uint64{}}
		}
		sh, live := share[id]
		rep.Slots = append(rep.Slots, slotReport(id, live, sh, ss, liveGoals, kk))
	}
	for _, id := range ordered(liveSegments, segments) {
		rep.Segments = append(rep.Segments, seriesReport(id, slices.Contains(liveSegments, id), segments[id], kk))
	}
	for _, id := range ordered(liveTriggers, triggers) {
		rep.Triggers = append(rep.Triggers, seriesReport(id, slices.Contains(liveTriggers, id), triggers[id], kk))
	}
	return rep, nil
}

func slotOf(m map[string]*slotSums, id string) *slotSums {
	if m[id] == nil {
		m[id] = &slotSums{exposures: map[string]map[string]uint64{}, conversions: map[string]map[string]map[string]uint64{}}
	}
	return m[id]
}

func nested(m map[string]map[string]uint64, key string) map[string]uint64 {
	if m[key] == nil {
		m[key] = map[string]uint64{}
	}
	return m[key]
}

func seriesOf(m map[string]map[uint32]uint64, id string) map[uint32]uint64 {
	if m[id] == nil {
		m[id] = map[uint32]uint64{}
	}
	return m[id]
}

// ordered returns the live ids in their order, then the ids only the sums hold, sorted.
func ordered[V any](live []string, seen map[string]V) []string {
	out := slices.Clone(live)
	var rest []string
	for id := range seen {
		if !slices.Contains(live, id) {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// publish decides which of cells may be shown when their total is shown too. A cell under k is hidden
// (primary suppression). Then, since total minus the shown cells is the sum of the hidden ones, hidden
// cells that add up to less than k would give that small sum away, and a single hidden cell its exact
// count: the smallest shown cells are hidden as well until the hidden ones hold at least k together
// (secondary suppression). With totalShown false only the first rule applies.
func publish(cells []uint64, k uint64, totalShown bool) []bool {
	shown := make([]bool, len(cells))
	var hidden uint64
	for i, n := range cells {
		shown[i] = n >= k
		if !shown[i] {
			hidden += n
		}
	}
	for totalShown && hidden > 0 && hidden < k {
		smallest := -1
		for i, n := range cells {
			if shown[i] && (smallest < 0 || n < cells[smallest]) {
				smallest = i
			}
		}
		if smallest < 0 {
			break
		}
		shown[smallest] = false
		hidden += cells[smallest]
	}
	return shown
}

func countIf(n uint64, shown bool) Count {
	if shown {
		return shownCount(n)
	}
	return hiddenCount
}

// variantArm names one cell of a slot.
type variantArm struct{ variant, arm string }

func (ss *slotSums) cells() []variantArm {
	var out []variantArm
	add := func(v, a string) {
		if !slices.Contains(out, variantArm{v, a}) {
			out = append(out, variantArm{v, a})
		}
	}
	for v, byArm := range ss.exposures {
		for a := range byArm {
			add(v, a)
		}
	}
	for _, byVariant := range ss.conversions {
		for v, byArm := range byVariant {
			for a := range byArm {
				add(v, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].arm != out[j].arm {
			return out[i].arm > out[j].arm // personalized before holdout
		}
		return out[i].variant < out[j].variant
	})
	return out
}

// publishArm applies publish to the cells of one arm (values picked by get) under the arm's total, and
// returns the arm's total, whether it is shown, and each cell's Count.
func publishArm(cells []variantArm, arm string, get func(variantArm) uint64, k uint64) (uint64, bool, map[variantArm]Count) {
	var idx []variantArm
	var vals []uint64
	var total uint64
	for _, c := range cells {
		if c.arm == arm {
			idx = append(idx, c)
			vals = append(vals, get(c))
			total += get(c)
		}
	}
	out := map[variantArm]Count{}
	for i, ok := range publish(vals, k, total >= k) {
		out[idx[i]] = countIf(vals[i], ok)
	}
	return total, total >= k, out
}

func slotReport(id string, live bool, share float64, ss *slotSums, liveGoals []string, k uint64) SlotReport {
	sr := SlotReport{Slot: id, Live: live, HoldoutShare: share, Variants: []VariantReport{}, Goals: []GoalReport{}}
	cells := ss.cells()
	expOf := func(c variantArm) uint64 { return ss.exposures[c.variant][c.arm] }
	expTotal := map[string]uint64{}
	expShown := map[string]bool{}
	expCell := map[variantArm]Count{}
	for _, a := range arms {
		t, ok, byCell := publishArm(cells, a, expOf, k)
		expTotal[a], expShown[a] = t, ok
		for c, n := range byCell {
			expCell[c] = n
		}
	}
	sr.Exposures = ArmCounts{countIf(expTotal["personalized"], expShown["personalized"]), countIf(expTotal["holdout"], expShown["holdout"])}
	sr.SRM, sr.SRMNote = srmOf(live, share, expTotal, expShown)
	for _, c := range cells {
		sr.Variants = append(sr.Variants, VariantReport{Variant: c.variant, Arm: c.arm, Exposures: expCell[c], Conversions: map[string]Count{}})
	}
	for _, goal := range ordered(liveGoals, ss.conversions) {
		convOf := func(c variantArm) uint64 { return ss.conversions[goal][c.variant][c.arm] }
		gr := GoalReport{Goal: goal}
		total := map[string]uint64{}
		shown := map[string]bool{}
		for _, a := range arms {
			t, ok, byCell := publishArm(cells, a, convOf, k)
			total[a], shown[a] = t, ok
			for i, c := range cells {
				if n, ok := byCell[c]; ok {
					vr := &sr.Variants[i]
					vr.Conversions[goal] = n
					if n.N != nil && vr.Exposures.N != nil {
						if r, err := analysis.NewRate(*n.N, *vr.Exposures.N); err == nil {
							if vr.Rates == nil {
								vr.Rates = map[string]*analysis.Rate{}
							}
							vr.Rates[goal] = &r
						}
					}
				}
			}
		}
		gr.Conversions = ArmCounts{countIf(total["personalized"], shown["personalized"]), countIf(total["holdout"], shown["holdout"])}
		goalStats(&gr, total, shown, expTotal, expShown)
		sr.Goals = append(sr.Goals, gr)
	}
	return sr
}

// goalStats fills in the arms' rates and the uplift from the counts that are shown; a rate over a hidden
// count would give the count away.
func goalStats(gr *GoalReport, conv map[string]uint64, convShown map[string]bool, exp map[string]uint64, expShown map[string]bool) {
	var notes []string
	rate := func(arm string) *analysis.Rate {
		if !convShown[arm] || !expShown[arm] {
			notes = append(notes, "fewer than k exposures or conversions in the "+arm+" arm")
			return nil
		}
		r, err := analysis.NewRate(conv[arm], exp[arm])
		if err != nil {
			notes = append(notes, arm+" arm: "+rateProblem(err))
			return nil
		}
		return &r
	}
	gr.Personalized, gr.Holdout = rate("personalized"), rate("holdout")
	if gr.Personalized != nil && gr.Holdout != nil {
		if u, err := analysis.Compare(conv["personalized"], exp["personalized"], conv["holdout"], exp["holdout"]); err == nil {
			gr.Uplift = &UpliftReport{Absolute: u.Absolute, CI: u.AbsoluteCI, Relative: u.Relative}
		}
	}
	if len(notes) > 0 {
		gr.Note = "no uplift: " + joinNotes(notes)
	}
}

func rateProblem(err error) string {
	if errors.Is(err, analysis.ErrTooManySuccesses) {
		// The engine counts a conversion in the window it happens in, which may be after the exposure's.
		return "more conversions than exposures (conversions counted in a later report window than their exposure)"
	}
	return err.Error()
}

func joinNotes(ns []string) string {
	out := ns[0]
	for _, n := range ns[1:] {
		out += "; " + n
	}
	return out
}

// srmOf runs the sample-ratio check on a slot's arm totals when it means something.
func srmOf(live bool, share float64, total map[string]uint64, shown map[string]bool) (*analysis.SRM, string) {
	switch {
	case !live:
		return nil, "not in the live rule set: no configured holdout share to test against"
	case share <= 0:
		return nil, "the live rule set holds no visitor out of this slot"
	case !shown["personalized"] || !shown["holdout"]:
		// The observed split would give a hidden arm's count away.
		return nil, "fewer than k exposures in an arm"
	}
	srm, err := analysis.SampleRatio(total["personalized"], total["holdout"], share)
	if err != nil {
		return nil, err.Error()
	}
	return &srm, ""
}

func seriesReport(id string, live bool, byWindow map[uint32]uint64, k uint64) SeriesReport {
	sr := SeriesReport{ID: id, Live: live, Windows: []WindowCount{}}
	ws := make([]uint32, 0, len(byWindow))
	for w := range byWindow {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	for _, w := range ws {
		n := byWindow[w]
		wc := WindowCount{Window: w, WindowStart: time.Unix(int64(w)*3600, 0).UTC().Format(time.RFC3339), Count: countIf(n, n >= k)}
		if n >= k {
			sr.ReportedTotal += n
		} else {
			sr.SuppressedWindows++
		}
		sr.Windows = append(sr.Windows, wc)
	}
	return sr
}
