package rules

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Limits a rule set must stay within. They bound what one push can cost every visitor's device.
const (
	MaxCondDepth     = 16  // nesting of all/any/not
	MaxSegmentDepth  = 8   // a segment referring to a segment referring to ... this deep
	MaxWindowDays    = 90  // rolling windows and the per-day history the engine keeps
	MaxJourneyLength = 100 // journey entries kept
	MaxIDLength      = 64
	MaxItems         = 1000 // elements in any one list of the rule set
)

// Compiled is a validated rule set, its conditions parsed into trees, ready to evaluate many times.
type Compiled struct {
	Set *RuleSet

	VisitGapMs  int64
	HalfLifeMs  float64
	Journey     int
	WindowMs    int64
	K           int
	HoldoutBP   uint32 // basis points, 0 to 10000
	Lower       bool   // strings are normalised to lower case
	Prefs       map[string]*Preference
	Goals       map[string]bool
	Segments    []*CSegment // ordered so that a segment comes after every segment it refers to
	SegmentByID map[string]*CSegment
	Models      []*CModel
	ModelByID   map[string]*CModel
	Slots       []*CSlot
	SlotByID    map[string]*CSlot
	Triggers    []*Trigger
}

// CSegment is a compiled segment.
type CSegment struct {
	ID    string
	Index int
	When  *Node // nil: entered only by assignment
	TTLMs int64
}

// CModel is a compiled model.
type CModel struct {
	ID       string
	Bias     float64
	Features []CFeature
}

// CFeature is a compiled model feature.
type CFeature struct {
	Attr      Attr
	Transform string
	Weight    float64
}

// CSlot is a compiled slot.
type CSlot struct {
	ID        string
	HoldoutBP uint32
	Bucket    int
	Variants  []CVariant
	Default   *Variant
	Rank      *Rank
}

// CVariant is a compiled variant.
type CVariant struct {
	V         *Variant
	When      *Node
	TrafficBP uint32
}

// Compile validates rs and parses its conditions. It normalises rs in place (times written as RFC 3339
// strings become instants in milliseconds, so the compact form carries instants). On failure the error is
// Problems, every problem with its path.
func Compile(rs *RuleSet) (*Compiled, error) {
	c := &compiler{rs: rs, out: &Compiled{Set: rs}}
	c.compile()
	if len(c.p.list) > 0 {
		return nil, c.p.list
	}
	return c.out, nil
}

type compiler struct {
	rs  *RuleSet
	out *Compiled
	p   problems
	// segment id -> index in rs.Segments, for references and cycle checks
	segIdx map[string]int
}

func (c *compiler) compile() {
	rs, out := c.rs, c.out
	out.VisitGapMs = int64(c.positive("visit_gap_minutes", rs.VisitGapMinutes, 30, 7*24*60) * 60000)
	out.HalfLifeMs = c.positive("interest_half_life_days", rs.InterestHalfLifeDays, 14, 3650) * 86400000
	out.Journey = int(c.positive("journey_length", float64(rs.JourneyLength), 10, MaxJourneyLength))
	out.WindowMs = int64(c.positive("report_window_hours", float64(rs.ReportWindowHours), 24, 24*365)) * 3600000
	out.K = int(c.positive("k", float64(rs.K), 10, 1e6))
	out.HoldoutBP = c.share("holdout", rs.Holdout)
	switch rs.Normalize {
	case "", "none":
	case "lower":
		out.Lower = true
	default:
		c.p.add("normalize", "must be \"none\" or \"lower\", not "+quote(rs.Normalize))
	}
	c.compilePrefs()
	out.Goals = map[string]bool{}
	for i, g := range rs.Goals {
		path := "goals[" + strconv.Itoa(i) + "]"
		if c.id(path, g.ID) && out.Goals[g.ID] {
			c.p.add(path+".id", "duplicate goal id "+quote(g.ID))
		}
		out.Goals[g.ID] = true
	}
	c.compileModels()
	c.compileSegments()
	c.compileSlots()
	c.compileTriggers()
	c.checkLen("preferences", len(rs.Preferences))
	c.checkLen("goals", len(rs.Goals))
	c.checkLen("segments", len(rs.Segments))
	c.checkLen("models", len(rs.Models))
	c.checkLen("slots", len(rs.Slots))
	c.checkLen("triggers", len(rs.Triggers))
}

func (c *compiler) checkLen(path string, n int) {
	if n > MaxItems {
		c.p.add(path, "more than "+strconv.Itoa(MaxItems)+" entries")
	}
}

// positive checks an optional setting: zero means def, otherwise it must be in (0, max].
func (c *compiler) positive(path string, v, def, max float64) float64 {
	if v == 0 {
		return def
	}
	if !(v > 0 && v <= max) {
		c.p.add(path, "must be greater than 0 and at most "+fmtNum(max)+", not "+fmtNum(v))
		return def
	}
	return v
}

// share checks a share in [0, 1] and turns it into integer basis points, so every runtime buckets alike.
func (c *compiler) share(path string, v float64) uint32 {
	if !(v >= 0 && v <= 1) {
		c.p.add(path, "must be a share between 0 and 1, not "+fmtNum(v))
		return 0
	}
	return uint32(math.Round(v * 10000))
}

func (c *compiler) id(path, id string) bool {
	switch {
	case id == "":
		c.p.add(path+".id", "missing id")
		return false
	case len(id) > MaxIDLength:
		c.p.add(path+".id", "id longer than "+strconv.Itoa(MaxIDLength)+" bytes")
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f || id[i] == '|' {
			c.p.add(path+".id", "id "+quote(id)+" holds a control character or '|'")
			return false
		}
	}
	return true
}

func (c *compiler) compilePrefs() {
	c.out.Prefs = map[string]*Preference{}
	for i := range c.rs.Preferences {
		p := &c.rs.Preferences[i]
		path := "preferences[" + strconv.Itoa(i) + "]"
		if c.id(path, p.ID) {
			if c.out.Prefs[p.ID] != nil {
				c.p.add(path+".id", "duplicate preference id "+quote(p.ID))
			}
			c.out.Prefs[p.ID] = p
		}
		switch p.Kind {
		case KindEnum, KindSet:
			if len(p.Values) == 0 {
				c.p.add(path+".values", "a "+p.Kind+" preference needs values")
			}
			seen := map[string]bool{}
			for j, v := range p.Values {
				if seen[v] {
					c.p.add(path+".values["+strconv.Itoa(j)+"]", "duplicate value "+quote(v))
				}
				seen[v] = true
			}
		case KindNumber:
			if !(p.Min < p.Max) || math.IsInf(p.Min, 0) || math.IsInf(p.Max, 0) {
				c.p.add(path, "a number preference needs min < max")
			}
			if p.Step < 0 || math.IsNaN(p.Step) {
				c.p.add(path+".step", "must not be negative")
			}
		case KindBool:
		default:
			c.p.add(path+".kind", "unknown kind "+quote(p.Kind)+" (enum, number, set or bool)")
		}
		switch p.Role {
		case "":
		case RoleFollow, RoleHide:
			if p.Kind != KindSet {
				c.p.add(path+".role", "role "+quote(p.Role)+" needs a set preference")
			}
		default:
			c.p.add(path+".role", "unknown role "+quote(p.Role)+" (follow or hide)")
		}
		if p.Default != nil {
			if _, err := CheckPref(p, p.Default); err != "" {
				c.p.add(path+".default", err)
			}
		}
	}
	// Assignments refer to segments; check them once segments are known.
}

// CheckPref checks a value a visitor chose for p and returns it in its canonical form (a string, a float64,
// a sorted []string or a bool), or a message saying what is wrong.
func CheckPref(p *Preference, v any) (any, string) {
	switch p.Kind {
	case KindEnum:
		s, ok := v.(string)
		if !ok || !contains(p.Values, s) {
			return nil, "value for " + quote(p.ID) + " must be one of " + strings.Join(p.Values, ", ")
		}
		return s, ""
	case KindNumber:
		n, ok := v.(float64)
		if !ok || !(n >= p.Min && n <= p.Max) {
			return nil, "value for " + quote(p.ID) + " must be a number from " + fmtNum(p.Min) + " to " + fmtNum(p.Max)
		}
		if p.Step > 0 {
			k := (n - p.Min) / p.Step
			if math.Abs(k-math.Round(k)) > 1e-9 {
				return nil, "value for " + quote(p.ID) + " must be a multiple of " + fmtNum(p.Step) + " from " + fmtNum(p.Min)
			}
		}
		return n, ""
	case KindSet:
		var list []string
		switch x := v.(type) {
		case []string:
			list = append(list, x...)
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, "value for " + quote(p.ID) + " must be a list of strings"
				}
				list = append(list, s)
			}
		default:
			return nil, "value for " + quote(p.ID) + " must be a list"
		}
		sort.Strings(list)
		out := list[:0]
		for i, s := range list {
			if !contains(p.Values, s) {
				return nil, "value " + quote(s) + " is not offered for " + quote(p.ID)
			}
			if i == 0 || list[i-1] != s {
				out = append(out, s)
			}
		}
		return out, ""
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, "value for " + quote(p.ID) + " must be true or false"
		}
		return b, ""
	}
	return nil, "preference " + quote(p.ID) + " has an unknown kind"
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (c *compiler) compileModels() {
	c.out.ModelByID = map[string]*CModel{}
	for i, m := range c.rs.Models {
		path := "models[" + strconv.Itoa(i) + "]"
		cm := &CModel{ID: m.ID, Bias: m.Bias}
		if c.id(path, m.ID) && c.out.ModelByID[m.ID] != nil {
			c.p.add(path+".id", "duplicate model id "+quote(m.ID))
		}
		if !finite(m.Bias) {
			c.p.add(path+".bias", "must be a finite number")
		}
		for j, f := range m.Features {
			fp := path + ".features[" + strconv.Itoa(j) + "]"
			a, msg := ParseAttr(f.Attr)
			if msg == "" && (a.Kind == AttrModel || !a.numeric()) {
				msg = "attribute " + quote(f.Attr) + " is not a numeric behaviour feature"
			}
			if msg != "" {
				c.p.add(fp+".attr", msg)
			}
			switch f.Transform {
			case "", TransformNone, TransformLog1p, TransformSqrt, TransformBool:
			default:
				c.p.add(fp+".transform", "unknown transform "+quote(f.Transform)+" (none, log1p, sqrt or bool)")
			}
			if !finite(f.Weight) {
				c.p.add(fp+".weight", "must be a finite number")
			}
			c.checkAttrRef(fp+".attr", a)
			cm.Features = append(cm.Features, CFeature{Attr: a, Transform: f.Transform, Weight: f.Weight})
		}
		c.out.Models = append(c.out.Models, cm)
		c.out.ModelByID[m.ID] = cm
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// checkAttrRef checks that an attribute names something the rule set defines.
func (c *compiler) checkAttrRef(path string, a Attr) {
	switch a.Kind {
	case AttrPref:
		if c.out.Prefs[a.Key] == nil {
			c.p.add(path, "unknown preference "+quote(a.Key))
		}
	case AttrGoals:
		if !c.out.Goals[a.Key] {
			c.p.add(path, "unknown goal "+quote(a.Key))
		}
	case AttrModel:
		if c.out.ModelByID[a.Key] == nil {
			c.p.add(path, "unknown model "+quote(a.Key))
		}
	}
}

func (c *compiler) compileSegments() {
	rs, out := c.rs, c.out
	c.segIdx = map[string]int{}
	for i, s := range rs.Segments {
		path := "segments[" + strconv.Itoa(i) + "]"
		if c.id(path, s.ID) {
			if _, dup := c.segIdx[s.ID]; dup {
				c.p.add(path+".id", "duplicate segment id "+quote(s.ID))
				continue
			}
			c.segIdx[s.ID] = i
		}
	}
	compiled := make([]*CSegment, len(rs.Segments))
	for i := range rs.Segments {
		s := &rs.Segments[i]
		path := "segments[" + strconv.Itoa(i) + "]"
		cs := &CSegment{ID: s.ID, TTLMs: int64(c.nonNegative(path+".ttl_hours", s.TTLHours) * 3600000)}
		if s.When != nil {
			cs.When = c.cond(path+".when", s.When, 0)
		}
		compiled[i] = cs
	}
	// Order segments so each comes after those it refers to; refuse cycles and chains that are too deep.
	state := make([]int8, len(rs.Segments)) // 0 new, 1 being visited, 2 done
	depth := make([]int, len(rs.Segments))
	cyclic := make([]bool, len(rs.Segments))
	var visit func(i int) int
	visit = func(i int) int {
		switch state[i] {
		case 1:
			cyclic[i] = true
			return 0
		case 2:
			return depth[i]
		}
		state[i] = 1
		d := 0
		for _, ref := range segmentRefs(compiled[i].When, nil) {
			if j, ok := c.segIdx[ref]; ok {
				d = max(d, visit(j)+1)
			}
		}
		state[i], depth[i] = 2, d
		compiled[i].Index = len(out.Segments)
		out.Segments = append(out.Segments, compiled[i])
		return d
	}
	for i := range rs.Segments {
		visit(i)
	}
	for i := range rs.Segments {
		path := "segments[" + strconv.Itoa(i) + "].when"
		if cyclic[i] {
			c.p.add(path, "segment "+quote(rs.Segments[i].ID)+" refers back to itself through segment references")
		} else if depth[i] > MaxSegmentDepth {
			c.p.add(path, "segment references nested "+strconv.Itoa(depth[i])+" deep, more than "+strconv.Itoa(MaxSegmentDepth))
		}
	}
	out.SegmentByID = map[string]*CSegment{}
	for _, s := range out.Segments {
		out.SegmentByID[s.ID] = s
	}
	for i := range rs.Preferences {
		for j, a := range rs.Preferences[i].Assign {
			path := "preferences[" + strconv.Itoa(i) + "].assign[" + strconv.Itoa(j) + "]"
			if _, ok := c.segIdx[a.Segment]; !ok {
				c.p.add(path+".segment", "unknown segment "+quote(a.Segment))
			}
			c.nonNegative(path+".ttl_hours", a.TTLHours)
			p := &rs.Preferences[i]
			if p.Kind != KindBool && !contains(p.Values, a.Value) {
				c.p.add(path+".value", "value "+quote(a.Value)+" is not offered")
			}
		}
	}
}

func (c *compiler) nonNegative(path string, v float64) float64 {
	if !(v >= 0 && v < 1e7) {
		c.p.add(path, "must be a number of hours from 0 to 10000000")
		return 0
	}
	return v
}

func segmentRefs(n *Node, acc []string) []string {
	if n == nil {
		return acc
	}
	if n.Op == OpSegment {
		acc = append(acc, n.Str)
	}
	for _, k := range n.Kids {
		acc = segmentRefs(k, acc)
	}
	return acc
}

func (c *compiler) compileSlots() {
	c.out.SlotByID = map[string]*CSlot{}
	for i := range c.rs.Slots {
		s := &c.rs.Slots[i]
		path := "slots[" + strconv.Itoa(i) + "]"
		cs := &CSlot{ID: s.ID, HoldoutBP: c.share(path+".holdout", s.Holdout), Bucket: s.BucketVersion, Default: &s.Default, Rank: s.Rank}
		if c.id(path, s.ID) && c.out.SlotByID[s.ID] != nil {
			c.p.add(path+".id", "duplicate slot id "+quote(s.ID))
		}
		ids := map[string]bool{}
		c.variant(path+".default", &s.Default, ids)
		if s.Default.When != nil {
			c.p.add(path+".default.when", "the default has no condition")
		}
		for j := range s.Variants {
			v := &s.Variants[j]
			vp := path + ".variants[" + strconv.Itoa(j) + "]"
			c.variant(vp, v, ids)
			cv := CVariant{V: v, TrafficBP: 10000}
			if v.Traffic != 0 {
				cv.TrafficBP = c.share(vp+".traffic", v.Traffic)
			}
			if v.When != nil {
				cv.When = c.cond(vp+".when", v.When, 0)
			}
			cs.Variants = append(cs.Variants, cv)
		}
		if s.Rank != nil && (s.Rank.Limit < 0 || s.Rank.Limit > MaxItems) {
			c.p.add(path+".rank.limit", "must be from 0 to "+strconv.Itoa(MaxItems))
		}
		c.out.Slots = append(c.out.Slots, cs)
		c.out.SlotByID[s.ID] = cs
	}
}

func (c *compiler) variant(path string, v *Variant, ids map[string]bool) {
	if c.id(path, v.ID) {
		if ids[v.ID] {
			c.p.add(path+".id", "duplicate variant id "+quote(v.ID))
		}
		ids[v.ID] = true
	}
	for k, val := range v.Attrs {
		if !safeAttr(k, val) {
			c.p.add(path+".attrs."+k, "attribute "+quote(k)+" is not allowed (no event handlers, style or script URLs)")
		}
	}
	if strings.ContainsAny(v.Template, "<>\"") {
		c.p.add(path+".template", "a template is the id of a <template> element, not markup")
	}
}

// safeAttr keeps rule sets free of code (DESIGN.md, decision 5): no on* handlers, no style or srcdoc, no
// control characters at all (browsers drop tabs and newlines inside a URL, so "java\tscript:" would run),
// no javascript:, data: or vbscript: value, and in attributes that hold URLs only http, https, mailto and
// tel schemes or relative URLs. web/static/tailor.js checks cached decisions the same way.
func safeAttr(k, v string) bool {
	lk := strings.ToLower(k)
	if lk == "" || strings.HasPrefix(lk, "on") || lk == "style" || lk == "srcdoc" || strings.ContainsAny(lk, " <>\"'=/") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false
		}
	}
	lv := strings.ToLower(strings.Trim(v, " "))
	scheme := ""
	if i := strings.IndexByte(lv, ':'); i > 0 && strings.IndexAny(lv[:i], "/?#") < 0 {
		scheme = lv[:i]
	}
	switch scheme {
	case "javascript", "data", "vbscript":
		return false
	case "", "http", "https", "mailto", "tel":
		return true
	}
	return !urlAttrs[lk]
}

// urlAttrs are the attributes whose values a browser follows or loads as URLs.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"srcset": true, "cite": true, "data": true, "background": true, "ping": true, "xlink:href": true, "manifest": true}

func (c *compiler) compileTriggers() {
	seen := map[string]bool{}
	for i := range c.rs.Triggers {
		t := &c.rs.Triggers[i]
		path := "triggers[" + strconv.Itoa(i) + "]"
		if c.id(path, t.ID) && seen[t.ID] {
			c.p.add(path+".id", "duplicate trigger id "+quote(t.ID))
		}
		seen[t.ID] = true
		if _, ok := c.segIdx[t.OnEnter]; !ok {
			c.p.add(path+".on_enter", "unknown segment "+quote(t.OnEnter))
		}
		if t.Action == "" {
			c.p.add(path+".action", "missing action")
		}
		if !(t.EveryHours >= 0 && t.EveryHours < 1e6) {
			c.p.add(path+".every_hours", "must be from 0 to 1000000")
		}
		if t.Max < 0 {
			c.p.add(path+".max", "must not be negative")
		}
		c.out.Triggers = append(c.out.Triggers, t)
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
