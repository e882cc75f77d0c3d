package engine

import (
	"math"
	"strconv"
	"strings"

	"github.com/tailor/tailor/shared/rules"
)

// value is an attribute's value: missing, a number, a string or a list of strings.
type value struct {
	kind uint8
	n    float64
	s    string
	l    []string
}

const (
	missing = iota
	number
	text
	list
)

// evaluation holds what one decision needs: the page, the time, segment memberships worked out so far,
// and model probabilities computed on first use.
type evaluation struct {
	e       *Engine
	now     int64
	page    pageInfo
	member  []bool   // by rules.CSegment.Index
	reasons []reason // why each member is in its segment
	models  map[string]float64
}

type pageInfo struct{ category, path string }

// reason records why a visitor is in a segment: the condition that decided, or how else they came in.
// Words are made from it only when a decision is explained, not on every evaluation.
type reason struct {
	node    *rules.Node
	how     uint8
	entered int64
}

const (
	byCondition = iota
	byAssignment
	byTTL
)

// explain appends to dst, in words, why a condition node matched, following segment references. It
// writes into one buffer so that explaining a decision costs one string, not one per part.
func (ev *evaluation) explain(dst []byte, n *rules.Node, depth int) []byte {
	switch {
	case n == nil:
		return append(dst, "no condition"...)
	case n.Op == rules.OpSegment:
		seg := ev.e.rules.SegmentByID[n.Str]
		dst = append(append(append(dst, "segment "...), n.Str...), " ("...)
		return append(ev.explainSegment(dst, seg.Index, depth+1), ')')
	}
	dst = append(append(dst, n.Path...), ": "...)
	if n.Text != "" {
		return append(dst, n.Text...)
	}
	return append(dst, n.Op.String()...)
}

func (ev *evaluation) explainSegment(dst []byte, i, depth int) []byte {
	r := ev.reasons[i]
	switch {
	case r.how == byAssignment:
		return append(dst, "assigned by a preference the visitor chose"...)
	case r.how == byTTL:
		dst = append(dst, "entered at "...)
		return append(strconv.AppendInt(dst, r.entered, 10), " and kept for its TTL"...)
	case depth > rules.MaxSegmentDepth:
		return append(dst, "..."...)
	}
	return ev.explain(dst, r.node, depth)
}

func (ev *evaluation) attr(a rules.Attr) value {
	st := ev.e.st
	num := func(f float64) value { return value{kind: number, n: f} }
	str := func(s string) value {
		if s == "" {
			return value{}
		}
		return value{kind: text, s: s}
	}
	countOf := func(key string) value {
		if c := st.counters[key]; c != nil {
			return num(c.within(ev.now, a.Days))
		}
		return num(0)
	}
	switch a.Kind {
	case rules.AttrVisits, rules.AttrViews, rules.AttrTime, rules.AttrGoals:
		return countOf(a.Counter)
	case rules.AttrJourney:
		return value{kind: list, l: st.journey}
	case rules.AttrJourneyLast:
		if len(st.journey) == 0 {
			return value{}
		}
		return str(st.journey[len(st.journey)-1])
	case rules.AttrPageCategory:
		return str(ev.page.category)
	case rules.AttrPagePath:
		return str(ev.page.path)
	case rules.AttrPref:
		return prefValue(ev.e.pref(a.Key))
	case rules.AttrInterest:
		in, ok := st.interests[a.Key]
		if !ok {
			return value{}
		}
		return num(ev.e.decayed(in, ev.now))
	case rules.AttrModel:
		return num(ev.model(a.Key))
	case rules.AttrDeclared:
		return str(st.declared[a.Key])
	case rules.AttrLang:
		return str(st.lang)
	case rules.AttrTZ:
		if !st.hasCtx {
			return value{}
		}
		return num(float64(st.tz))
	case rules.AttrNow:
		return num(float64(ev.now))
	case rules.AttrFirstSeen:
		if st.firstSeen == 0 {
			return value{}
		}
		return num(float64(st.firstSeen))
	}
	return value{}
}

// pref returns the visitor's choice, or the rule set's default.
func (e *Engine) pref(id string) any {
	if v, ok := e.st.prefs[id]; ok {
		return v
	}
	if e.rules != nil {
		if p := e.rules.Prefs[id]; p != nil && p.Default != nil {
			v, _ := rules.CheckPref(p, p.Default)
			return v
		}
	}
	return nil
}

func prefValue(v any) value {
	switch x := v.(type) {
	case string:
		return value{kind: text, s: x}
	case float64:
		return value{kind: number, n: x}
	case []string:
		return value{kind: list, l: x}
	case bool:
		return value{kind: text, s: strconv.FormatBool(x)}
	}
	return value{}
}

// model returns a model's conversion probability for this visitor now.
func (ev *evaluation) model(id string) float64 {
	if p, ok := ev.models[id]; ok {
		return p
	}
	m := ev.e.rules.ModelByID[id]
	if m == nil {
		return 0
	}
	z := m.Bias
	for _, f := range m.Features {
		v := ev.attr(f.Attr)
		x := v.n
		if v.kind == text {
			x, _ = rules.ParseNumber(v.s)
		} else if v.kind != number {
			x = 0
		}
		z += f.Weight * transform(f.Transform, x)
	}
	p := 1 / (1 + math.Exp(-z))
	if ev.models == nil {
		ev.models = map[string]float64{}
	}
	ev.models[id] = p
	return p
}

func transform(t string, x float64) float64 {
	switch t {
	case rules.TransformLog1p:
		return math.Log1p(math.Max(x, 0))
	case rules.TransformSqrt:
		return math.Sqrt(math.Max(x, 0))
	case rules.TransformBool:
		if x != 0 {
			return 1
		}
		return 0
	}
	return x
}

// eval evaluates a compiled condition. When it matches, it returns the node that decided.
func (ev *evaluation) eval(n *rules.Node) (bool, *rules.Node) {
	switch n.Op {
	case rules.OpAll:
		decided := n
		for _, k := range n.Kids {
			m, w := ev.eval(k)
			if !m {
				return false, nil
			}
			if len(n.Kids) == 1 {
				decided = w
			}
		}
		return true, decided
	case rules.OpAny:
		for _, k := range n.Kids {
			if m, w := ev.eval(k); m {
				return true, w
			}
		}
		return false, nil
	case rules.OpNot:
		m, _ := ev.eval(n.Kids[0])
		return !m, n
	case rules.OpSegment:
		seg := ev.e.rules.SegmentByID[n.Str]
		return seg != nil && ev.member[seg.Index], n
	}
	v := ev.attr(n.Attr)
	if ev.e.rules.Lower {
		v.s = rules.Normalize(v.s)
		if v.kind == list {
			l := make([]string, len(v.l))
			for i, s := range v.l {
				l[i] = rules.Normalize(s)
			}
			v.l = l
		}
	}
	return compare(n, v), n
}

// numberOf reports a value's number: a number, or a string that parses as a finite number.
func numberOf(v value) (float64, bool) {
	switch v.kind {
	case number:
		return v.n, true
	case text:
		return rules.ParseNumber(v.s)
	}
	return 0, false
}

func stringOf(v value) string {
	if v.kind == number {
		return strconv.FormatFloat(v.n, 'g', -1, 64)
	}
	return v.s
}

// equal compares a scalar value with an operand: as numbers when both are numbers, else as strings.
func equal(v value, s string, num float64, isNum bool) bool {
	if x, ok := numberOf(v); ok && isNum {
		return x == num
	}
	return stringOf(v) == s
}

// compare applies a comparison to an attribute value (semantics in package rules).
func compare(n *rules.Node, v value) bool {
	if v.kind == missing {
		return false
	}
	switch n.Op {
	case rules.OpExists:
		return true
	case rules.OpEq, rules.OpNe:
		if v.kind == list {
			return false
		}
		return equal(v, n.Str, n.Num, n.IsNum) == (n.Op == rules.OpEq)
	case rules.OpLt, rules.OpLte, rules.OpGt, rules.OpGte, rules.OpBetween:
		x, ok := numberOf(v)
		if !ok || !n.IsNum {
			return false
		}
		switch n.Op {
		case rules.OpLt:
			return x < n.Num
		case rules.OpLte:
			return x <= n.Num
		case rules.OpGt:
			return x > n.Num
		case rules.OpGte:
			return x >= n.Num
		}
		return x >= n.Num && x <= n.Hi
	case rules.OpIn, rules.OpHasAny:
		for _, e := range elements(v) {
			for i, s := range n.List {
				if equal(e, s, n.Nums[i], !math.IsNaN(n.Nums[i])) {
					return true
				}
			}
		}
		return false
	case rules.OpHasAll:
		els := elements(v)
	next:
		for i, s := range n.List {
			for _, e := range els {
				if equal(e, s, n.Nums[i], !math.IsNaN(n.Nums[i])) {
					continue next
				}
			}
			return false
		}
		return true
	case rules.OpContains:
		if v.kind == list {
			for _, e := range v.l {
				if e == n.Str {
					return true
				}
			}
			return false
		}
		return strings.Contains(stringOf(v), n.Str)
	case rules.OpPrefix:
		return v.kind != list && strings.HasPrefix(stringOf(v), n.Str)
	case rules.OpSuffix:
		return v.kind != list && strings.HasSuffix(stringOf(v), n.Str)
	case rules.OpGlob:
		return v.kind != list && rules.Glob(n.Str, stringOf(v))
	case rules.OpSemverEq, rules.OpSemverLt, rules.OpSemverLte, rules.OpSemverGt, rules.OpSemverGte:
		if v.kind != text {
			return false
		}
		sv, ok := rules.ParseSemver(v.s)
		if !ok {
			return false
		}
		c := rules.CompareSemver(sv, *n.Ver)
		switch n.Op {
		case rules.OpSemverEq:
			return c == 0
		case rules.OpSemverLt:
			return c < 0
		case rules.OpSemverLte:
			return c <= 0
		case rules.OpSemverGt:
			return c > 0
		}
		return c >= 0
	case rules.OpBefore, rules.OpAfter:
		t, ok := instantOf(v)
		if !ok {
			return false
		}
		if n.Op == rules.OpBefore {
			return t < n.Num
		}
		return t > n.Num
	}
	return false
}

func instantOf(v value) (float64, bool) {
	switch v.kind {
	case number:
		return v.n, true
	case text:
		ms, ok := rules.ParseTime(v.s)
		return float64(ms), ok
	}
	return 0, false
}

// elements treats a scalar as a list of one.
func elements(v value) []value {
	if v.kind != list {
		return []value{v}
	}
	out := make([]value, len(v.l))
	for i, s := range v.l {
		out[i] = value{kind: text, s: s}
	}
	return out
}
