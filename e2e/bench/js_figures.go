package bench

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// JSDecide times deciding every slot of the 20-slot, 50-segment workload in Node: tailor.wasm through
// tailor.js's shim against the GrowthBook JavaScript SDK over the same conditions and attributes.
//
// How they are equivalent: each segment's condition is written as a GrowthBook condition (the same
// operators: $gte, $gt, $in, $and, $or, $vgte; a path glob as the $regex it means; a segment reference
// inlined), each slot as a feature whose force rules are its variants in order with the default as
// defaultValue, so "first matching variant wins" is GrowthBook's "first matching rule wins". GrowthBook has
// no behaviour store, so its attributes are what the engine computed from the same history (read from the
// native engine's export); slot holdouts are off because the two SDKs hash visitors differently. The run
// fails unless both choose the same variant for every slot.
func JSDecide(c Config) ([]Row, error) {
	w := NewWorkload(20, 50)
	for i := range w.Rules.Slots {
		w.Rules.Slots[i].Holdout = 0
	}
	compact := w.Compact()
	nat := NewNative()
	if err := nat.LoadRules(compact); err != nil {
		return nil, err
	}
	restore := abi.Restore{Seed: "bench-visitor", Now: w.Events[0].Now}
	if err := nat.Restore(restore); err != nil {
		return nil, err
	}
	in := map[string]any{"rules": b64(compact), "restore": b64(restore.Encode()), "page": b64(w.Page.Encode())}
	var events []string
	for _, ev := range w.Events {
		if err := nat.Event(ev); err != nil {
			return nil, err
		}
		events = append(events, b64(ev.Encode()))
	}
	in["events"] = events
	attrs, err := growthBookAttributes(nat, w)
	if err != nil {
		return nil, err
	}
	in["attributes"] = attrs
	in["features"] = growthBookFeatures(w.Rules)
	in["budget"] = map[string]any{"min": 200, "max": 200000, "ms": 2000}
	if c.Short {
		in["budget"] = map[string]any{"min": 3, "max": 100, "ms": 50}
	}
	dir, err := os.MkdirTemp("", "tailor-js")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	wasmPath := filepath.Join(dir, "tailor.wasm")
	in["wasm"] = wasmPath
	if err := os.WriteFile(wasmPath, c.Wasm, 0o644); err != nil {
		return nil, err
	}
	inPath := filepath.Join(dir, "input.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(inPath, b, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", filepath.Join(c.Root, "e2e", "bench", "decide.cjs"), inPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: node decide.cjs (run `cd e2e && npm ci` first): %w", err)
	}
	var res struct {
		TailorUs     float64           `json:"tailor_us"`
		GrowthbookUs float64           `json:"growthbook_us"`
		Tailor       map[string]string `json:"tailor"`
		Growthbook   map[string]string `json:"growthbook"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("bench: decide.cjs output: %w", err)
	}
	want, err := nat.Decide(w.Page)
	if err != nil {
		return nil, err
	}
	for _, d := range want.Decisions {
		if res.Tailor[d.Slot] != d.Variant || res.Growthbook[d.Slot] != d.Variant {
			return nil, fmt.Errorf("bench: slot %s: native engine %q, wasm in Node %q, GrowthBook %q: the comparison is not like for like",
				d.Slot, d.Variant, res.Tailor[d.Slot], res.Growthbook[d.Slot])
		}
	}
	return []Row{{Figure: "decide 20 slots / 50 segments, Node (V8)", Tailor: res.TailorUs, Comparison: res.GrowthbookUs, Unit: "µs",
		Against: "GrowthBook JS SDK, same conditions and attributes, same choices"}}, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var notWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

func gbName(parts ...string) string { return notWord.ReplaceAllString(strings.Join(parts, "_"), "_") }

// growthBookAttributes are the values the engine's conditions read, as the native engine computed them.
func growthBookAttributes(nat Native, w *Workload) (map[string]any, error) {
	var x struct {
		Counters  map[string]struct{ Total, Last7Days float64 } `json:"counters"`
		Interests map[string]float64
		Models    map[string]float64
		Journey   []string
		Context   struct{ Lang string }
		Declared  map[string]string
	}
	b, err := nat.Export(w.Page.Now)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, err
	}
	attrs := map[string]any{"lang": x.Context.Lang, "path": w.Page.Path, "journey": x.Journey,
		"app": x.Declared["app"], "model_buy": x.Models["buy"], "visits_30d": x.Counters["visits"].Total}
	for _, cat := range categories {
		// Every event of the workload falls within the last 7 days, so the all-time count is the window's.
		attrs[gbName("views", cat, "7d")] = x.Counters["views."+cat].Total
		if v, ok := x.Interests[cat]; ok {
			attrs[gbName("interest", cat)] = v
		}
	}
	return attrs, nil
}

// growthBookFeatures writes each slot as a GrowthBook feature over the same conditions.
func growthBookFeatures(rs *rules.RuleSet) map[string]any {
	segs := map[string]*rules.Cond{}
	for i := range rs.Segments {
		segs[rs.Segments[i].ID] = rs.Segments[i].When
	}
	features := map[string]any{}
	for _, s := range rs.Slots {
		var ruleList []any
		for _, v := range s.Variants {
			ruleList = append(ruleList, map[string]any{"condition": gbCond(v.When, segs), "force": v.ID})
		}
		features[s.ID] = map[string]any{"defaultValue": s.Default.ID, "rules": ruleList}
	}
	return features
}

// gbCond translates the conditions the workload uses; it panics on any other, so a workload change cannot
// silently make the comparison unequal.
func gbCond(c *rules.Cond, segs map[string]*rules.Cond) map[string]any {
	switch {
	case c.Segment != "":
		return gbCond(segs[c.Segment], segs)
	case c.All != nil || c.Any != nil:
		op, list := "$and", c.All
		if c.Any != nil {
			op, list = "$or", c.Any
		}
		var out []any
		for i := range list {
			out = append(out, gbCond(&list[i], segs))
		}
		return map[string]any{op: out}
	}
	a, _ := rules.ParseAttr(c.Attr)
	switch {
	case a.Kind == rules.AttrViews && a.Days == 7 && c.Op == "gte":
		return map[string]any{gbName("views", a.Key, "7d"): map[string]any{"$gte": c.Value}}
	case a.Kind == rules.AttrVisits && c.Op == "gte":
		return map[string]any{"visits_30d": map[string]any{"$gte": c.Value}}
	case a.Kind == rules.AttrLang && c.Op == "in":
		return map[string]any{"lang": map[string]any{"$in": c.Value}}
	case a.Kind == rules.AttrPagePath && c.Op == "glob":
		prefix := strings.TrimSuffix(c.Value.(string), "**")
		return map[string]any{"path": map[string]any{"$regex": "^" + regexp.QuoteMeta(prefix) + ".*$"}}
	case a.Kind == rules.AttrPref && c.Op == "has_any":
		return map[string]any{a.Key: map[string]any{"$in": c.Value}}
	case a.Kind == rules.AttrJourney && c.Op == "contains":
		return map[string]any{"journey": map[string]any{"$elemMatch": map[string]any{"$eq": c.Value}}}
	case a.Kind == rules.AttrDeclared && c.Op == "semver_gte":
		return map[string]any{a.Key: map[string]any{"$vgte": c.Value}}
	case a.Kind == rules.AttrModel && c.Op == "gt":
		return map[string]any{"model_" + a.Key: map[string]any{"$gt": c.Value}}
	case a.Kind == rules.AttrInterest && c.Op == "gt":
		return map[string]any{gbName("interest", a.Key): map[string]any{"$gt": c.Value}}
	}
	panic("bench: no GrowthBook form for " + c.Attr + " " + c.Op + " " + strconv.Quote(fmt.Sprint(c.Value)))
}
