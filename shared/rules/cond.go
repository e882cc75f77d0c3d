package rules

import (
	"math"
	"strconv"
	"strings"
)

// Op is a compiled condition's operator.
type Op uint8

// Operators of compiled conditions.
const (
	OpAll Op = iota
	OpAny
	OpNot
	OpSegment
	OpExists
	OpEq
	OpNe
	OpLt
	OpLte
	OpGt
	OpGte
	OpBetween
	OpIn
	OpPrefix
	OpSuffix
	OpContains
	OpGlob
	OpHasAny
	OpHasAll
	OpSemverEq
	OpSemverLt
	OpSemverLte
	OpSemverGt
	OpSemverGte
	OpBefore
	OpAfter
)

var opNames = map[string]Op{
	"exists": OpExists, "eq": OpEq, "ne": OpNe, "lt": OpLt, "lte": OpLte, "gt": OpGt, "gte": OpGte,
	"between": OpBetween, "in": OpIn, "prefix": OpPrefix, "suffix": OpSuffix, "contains": OpContains,
	"glob": OpGlob, "has_any": OpHasAny, "has_all": OpHasAll, "semver_eq": OpSemverEq, "semver_lt": OpSemverLt,
	"semver_lte": OpSemverLte, "semver_gt": OpSemverGt, "semver_gte": OpSemverGte, "before": OpBefore,
	"after": OpAfter,
}

const maxGlobStars = 6

// Node is a compiled condition.
type Node struct {
	Op   Op
	Kids []*Node
	Attr Attr
	// Str is the operand as a normalised string (a segment id for OpSegment); Num its number when IsNum.
	Str   string
	Num   float64
	IsNum bool
	Hi    float64 // upper bound of between
	// List holds the operands of in, has_any and has_all, normalised; Nums their numbers (NaN if none).
	List []string
	Nums []float64
	Ver  *Semver
	// Path is where the condition stands in the rule set, and Text the condition as the operator wrote
	// it: together they explain a decision.
	Path string
	Text string
}

// String is the operator's name as rule sets write it.
func (op Op) String() string {
	for name, o := range opNames {
		if o == op {
			return name
		}
	}
	return [...]string{OpAll: "all", OpAny: "any", OpNot: "not", OpSegment: "segment"}[min(op, OpSegment)]
}

// AttrKind says what an attribute reads.
type AttrKind uint8

// Attribute kinds.
const (
	AttrVisits AttrKind = iota + 1
	AttrViews
	AttrTime
	AttrGoals
	AttrJourney
	AttrJourneyLast
	AttrPageCategory
	AttrPagePath
	AttrPref
	AttrInterest
	AttrModel
	AttrDeclared
	AttrLang
	AttrTZ
	AttrNow
	AttrFirstSeen
)

// Attr is a parsed attribute name.
type Attr struct {
	Kind AttrKind
	Key  string // category, preference, goal, model or declared name
	Days int    // rolling window in days; 0 for all time
	Name string // as written
	// Counter names the engine's counter a count attribute reads ("v", "p", "p:CAT", "t", "t:CAT",
	// "g:GOAL"), made once here rather than on every evaluation.
	Counter string
}

func (a Attr) numeric() bool {
	switch a.Kind {
	case AttrVisits, AttrViews, AttrTime, AttrGoals, AttrInterest, AttrModel, AttrDeclared, AttrTZ:
		return true
	}
	return false
}

// ParseAttr parses an attribute name (see the package doc) or says what is wrong with it.
func ParseAttr(name string) (Attr, string) {
	a := Attr{Name: name}
	head, rest, _ := strings.Cut(name, ".")
	bad := func() (Attr, string) { return Attr{}, "unknown attribute " + quote(name) }
	counter := func(kind AttrKind, needKey bool) (Attr, string) {
		a.Kind = kind
		// A trailing ".<N>d" is a rolling window.
		if i := strings.LastIndexByte(rest, '.'); i >= 0 || rest != "" {
			last := rest[i+1:]
			if n, ok := windowDays(last); ok {
				if n < 1 || n > MaxWindowDays {
					return Attr{}, "window of " + quote(name) + " must be 1 to " + strconv.Itoa(MaxWindowDays) + " days"
				}
				a.Days = n
				if i < 0 {
					rest = ""
				} else {
					rest = rest[:i]
				}
			}
		}
		a.Key = rest
		if needKey && a.Key == "" {
			return bad()
		}
		a.Counter = string("vptg"[kind-AttrVisits])
		if a.Key != "" {
			a.Counter += ":" + a.Key
		}
		if kind == AttrTime && a.Days > 0 {
			return Attr{}, "time has no rolling window: " + quote(name)
		}
		return a, ""
	}
	switch head {
	case "visits":
		at, msg := counter(AttrVisits, false)
		if msg == "" && at.Key != "" {
			return bad()
		}
		return at, msg
	case "views":
		return counter(AttrViews, false)
	case "time":
		return counter(AttrTime, false)
	case "goals":
		return counter(AttrGoals, true)
	}
	fixed := map[string]AttrKind{
		"journey": AttrJourney, "journey.last": AttrJourneyLast, "page.category": AttrPageCategory,
		"page.path": AttrPagePath, "ctx.lang": AttrLang, "ctx.tz": AttrTZ, "now": AttrNow, "first_seen": AttrFirstSeen,
	}
	if k, ok := fixed[name]; ok {
		a.Kind = k
		return a, ""
	}
	keyed := map[string]AttrKind{"pref": AttrPref, "interest": AttrInterest, "model": AttrModel, "attr": AttrDeclared}
	if k, ok := keyed[head]; ok && rest != "" {
		a.Kind, a.Key = k, rest
		return a, ""
	}
	return bad()
}

func windowDays(s string) (int, bool) {
	if len(s) < 2 || s[len(s)-1] != 'd' {
		return 0, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	return n, err == nil
}

// cond compiles one condition at path.
func (c *compiler) cond(path string, in *Cond, depth int) *Node {
	if depth >= MaxCondDepth {
		c.p.add(path, "conditions nested more than "+strconv.Itoa(MaxCondDepth)+" deep")
		return &Node{Op: OpAll, Path: path}
	}
	forms := 0
	for _, set := range []bool{in.All != nil, in.Any != nil, in.Not != nil, in.Segment != "", in.Attr != "" || in.Op != ""} {
		if set {
			forms++
		}
	}
	if forms != 1 {
		c.p.add(path, "a condition needs exactly one of all, any, not, segment or attr+op")
		return &Node{Op: OpAll, Path: path}
	}
	n := &Node{Path: path}
	switch {
	case in.All != nil || in.Any != nil:
		list, name := in.All, ".all"
		n.Op = OpAll
		if in.Any != nil {
			list, name, n.Op = in.Any, ".any", OpAny
		}
		if len(list) > MaxItems {
			c.p.add(path+name, "more than "+strconv.Itoa(MaxItems)+" conditions")
		}
		for i := range list {
			n.Kids = append(n.Kids, c.cond(path+name+"["+strconv.Itoa(i)+"]", &list[i], depth+1))
		}
	case in.Not != nil:
		n.Op = OpNot
		n.Kids = []*Node{c.cond(path+".not", in.Not, depth+1)}
	case in.Segment != "":
		n.Op, n.Str = OpSegment, in.Segment
		if _, ok := c.segIdx[in.Segment]; !ok {
			c.p.add(path+".segment", "unknown segment "+quote(in.Segment))
		}
	default:
		c.comparison(path, in, n)
	}
	return n
}

func (c *compiler) comparison(path string, in *Cond, n *Node) {
	a, msg := ParseAttr(in.Attr)
	if msg != "" {
		c.p.add(path+".attr", msg)
	}
	c.checkAttrRef(path+".attr", a)
	n.Attr = a
	op, ok := opNames[in.Op]
	if !ok {
		c.p.add(path, "unknown operator "+quote(in.Op))
		return
	}
	n.Op = op
	n.Text = in.Attr + " " + in.Op
	if in.Value != nil {
		n.Text += " " + valueText(in.Value)
	}
	vp := path + ".value"
	switch op {
	case OpExists:
		if in.Value != nil {
			c.p.add(vp, "exists takes no value")
		}
	case OpEq, OpNe, OpLt, OpLte, OpGt, OpGte:
		if !c.scalar(vp, in.Value, n) {
			return
		}
	case OpPrefix, OpSuffix, OpContains, OpGlob:
		s, ok := in.Value.(string)
		if !ok {
			c.p.add(vp, in.Op+" needs a string")
			return
		}
		// Each * multiplies the work of a match: a few are all a path pattern needs.
		if op == OpGlob && strings.Count(s, "*") > maxGlobStars {
			c.p.add(vp, "a glob with more than "+strconv.Itoa(maxGlobStars)+" stars")
			return
		}
		n.Str = c.norm(s)
	case OpBetween:
		list, ok := in.Value.([]any)
		if !ok || len(list) != 2 {
			c.p.add(vp, "between needs a list of two numbers [low, high]")
			return
		}
		lo, ok1 := list[0].(float64)
		hi, ok2 := list[1].(float64)
		if !ok1 || !ok2 || !finite(lo) || !finite(hi) || lo > hi {
			c.p.add(vp, "between needs two finite numbers, low first")
			return
		}
		n.Num, n.Hi, n.IsNum = lo, hi, true
	case OpIn, OpHasAny, OpHasAll:
		list, ok := in.Value.([]any)
		if !ok {
			if ss, ok2 := in.Value.([]string); ok2 {
				for _, s := range ss {
					list = append(list, s)
				}
			} else {
				c.p.add(vp, in.Op+" needs a list")
				return
			}
		}
		for i, e := range list {
			var tmp Node
			if !c.scalar(vp+"["+strconv.Itoa(i)+"]", e, &tmp) {
				return
			}
			n.List = append(n.List, tmp.Str)
			if tmp.IsNum {
				n.Nums = append(n.Nums, tmp.Num)
			} else {
				n.Nums = append(n.Nums, math.NaN())
			}
		}
	case OpSemverEq, OpSemverLt, OpSemverLte, OpSemverGt, OpSemverGte:
		s, _ := in.Value.(string)
		v, ok := ParseSemver(s)
		if !ok {
			c.p.add(vp, "not a semantic version: "+quote(s))
			return
		}
		n.Ver = &v
	case OpBefore, OpAfter:
		switch x := in.Value.(type) {
		case float64:
			n.Num = x
		case string:
			ms, ok := ParseTime(x)
			if !ok {
				c.p.add(vp, "not an RFC 3339 time: "+quote(x))
				return
			}
			n.Num = float64(ms)
			in.Value = n.Num // the compact form carries the instant
		default:
			c.p.add(vp, in.Op+" needs a time such as \"2026-12-24T18:00:00+01:00\"")
			return
		}
		n.IsNum = true
		if a.Kind != 0 && a.Kind != AttrNow && a.Kind != AttrFirstSeen && a.Kind != AttrDeclared {
			c.p.add(path+".attr", in.Op+" compares instants: use now, first_seen or a declared attribute")
		}
	}
}

// valueText writes an operand for people: strings quoted, lists in brackets.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case float64:
		return fmtNum(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueText(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}

// scalar reads a string, number or boolean operand into n.Str (normalised) and n.Num.
func (c *compiler) scalar(path string, v any, n *Node) bool {
	switch x := v.(type) {
	case string:
		n.Str = c.norm(x)
		n.Num, n.IsNum = ParseNumber(x)
	case float64:
		if !finite(x) {
			c.p.add(path, "must be a finite number")
			return false
		}
		n.Str, n.Num, n.IsNum = fmtNum(x), x, true
	case bool:
		n.Str = strconv.FormatBool(x)
	default:
		c.p.add(path, "needs a string, a number or a boolean")
		return false
	}
	return true
}

func (c *compiler) norm(s string) string {
	if c.out.Lower {
		return Normalize(s)
	}
	return s
}

// Normalize is the "lower" normalisation: spaces trimmed, letters in lower case.
func Normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ParseNumber reports whether s is a finite decimal number, and which.
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	// Only plain decimal numbers: "0x10", "inf" and "1_000" are strings.
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= '0' && b <= '9' || b == '.' || b == '-' || b == '+' || b == 'e' || b == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(f) {
		return 0, false
	}
	return f, true
}
