package rules

import (
	"errors"

	"github.com/tailor/tailor/shared/wire"
)

// ErrDecode is returned when compact rule-set bytes do not decode.
var ErrDecode = errors.New("rules: compact form does not decode")

// Field numbers of the compact form. They never change meaning; new fields take new numbers.
const (
	fVersion = iota + 1
	fHash
	fName
	fVisitGap
	fHalfLife
	fJourney
	fWindow
	fK
	fHoldout
	fHoldoutVersion
	fNormalize
	fPreference
	fGoal
	fSegment
	fModel
	fSlot
	fTrigger
)

// Encode returns the compact form of rs. Maps are written in key order, so equal sets encode to equal bytes.
func Encode(rs *RuleSet) []byte {
	var w wire.Writer
	encodeHeader(&w, rs)
	for i := range rs.Preferences {
		w.Message(fPreference, func(w *wire.Writer) { encodePreference(w, &rs.Preferences[i]) })
	}
	for i := range rs.Goals {
		w.Message(fGoal, func(w *wire.Writer) { w.String(1, rs.Goals[i].ID) })
	}
	for i := range rs.Segments {
		w.Message(fSegment, func(w *wire.Writer) { encodeSegment(w, &rs.Segments[i]) })
	}
	for i := range rs.Models {
		w.Message(fModel, func(w *wire.Writer) { encodeModel(w, &rs.Models[i]) })
	}
	for i := range rs.Slots {
		w.Message(fSlot, func(w *wire.Writer) { encodeSlot(w, &rs.Slots[i]) })
	}
	for i := range rs.Triggers {
		w.Message(fTrigger, func(w *wire.Writer) { encodeTrigger(w, &rs.Triggers[i]) })
	}
	return w.Bytes()
}

func encodeHeader(w *wire.Writer, rs *RuleSet) {
	w.Uint(fVersion, rs.Version)
	w.String(fHash, rs.Hash)
	w.String(fName, rs.Name)
	w.Float(fVisitGap, rs.VisitGapMinutes)
	w.Float(fHalfLife, rs.InterestHalfLifeDays)
	w.Int(fJourney, int64(rs.JourneyLength))
	w.Int(fWindow, int64(rs.ReportWindowHours))
	w.Int(fK, int64(rs.K))
	w.Float(fHoldout, rs.Holdout)
	w.Int(fHoldoutVersion, int64(rs.HoldoutVersion))
	w.String(fNormalize, rs.Normalize)
}

// Decode reads the compact form.
func Decode(b []byte) (*RuleSet, error) {
	rs := &RuleSet{}
	r := wire.NewReader(b)
	for r.Next() {
		if decodeHeaderField(r, rs) {
			continue
		}
		switch r.Field {
		case fPreference:
			var p Preference
			decodePreference(r, r.Message(), &p)
			rs.Preferences = append(rs.Preferences, p)
		case fGoal:
			var g Goal
			m := r.Message()
			for m.Next() {
				if m.Field == 1 {
					g.ID = m.String()
				}
			}
			r.Check(m)
			rs.Goals = append(rs.Goals, g)
		case fSegment:
			var s Segment
			decodeSegment(r, r.Message(), &s)
			rs.Segments = append(rs.Segments, s)
		case fModel:
			var m Model
			decodeModel(r, r.Message(), &m)
			rs.Models = append(rs.Models, m)
		case fSlot:
			var s Slot
			decodeSlot(r, r.Message(), &s)
			rs.Slots = append(rs.Slots, s)
		case fTrigger:
			var t Trigger
			decodeTrigger(r, r.Message(), &t)
			rs.Triggers = append(rs.Triggers, t)
		}
	}
	if err := r.Err(); err != nil {
		return nil, wire.Join(ErrDecode, err)
	}
	return rs, nil
}

func decodeHeaderField(r *wire.Reader, rs *RuleSet) bool {
	switch r.Field {
	case fVersion:
		rs.Version = r.Uint()
	case fHash:
		rs.Hash = r.String()
	case fName:
		rs.Name = r.String()
	case fVisitGap:
		rs.VisitGapMinutes = r.Float()
	case fHalfLife:
		rs.InterestHalfLifeDays = r.Float()
	case fJourney:
		rs.JourneyLength = int(r.Int())
	case fWindow:
		rs.ReportWindowHours = int(r.Int())
	case fK:
		rs.K = int(r.Int())
	case fHoldout:
		rs.Holdout = r.Float()
	case fHoldoutVersion:
		rs.HoldoutVersion = int(r.Int())
	case fNormalize:
		rs.Normalize = r.String()
	default:
		return false
	}
	return true
}

func encodePreference(w *wire.Writer, p *Preference) {
	w.String(1, p.ID)
	w.String(2, p.Group)
	w.String(3, p.Kind)
	for _, v := range p.Values {
		w.StringAlways(4, v)
	}
	w.Float(5, p.Min)
	w.Float(6, p.Max)
	w.Float(7, p.Step)
	if p.Default != nil {
		w.Message(8, func(w *wire.Writer) { encodeValue(w, p.Default) })
	}
	w.String(9, p.Role)
	for _, a := range p.Assign {
		w.Message(10, func(w *wire.Writer) {
			w.StringAlways(1, a.Value)
			w.String(2, a.Segment)
			w.Float(3, a.TTLHours)
		})
	}
}

func decodePreference(parent, r *wire.Reader, p *Preference) {
	for r.Next() {
		switch r.Field {
		case 1:
			p.ID = r.String()
		case 2:
			p.Group = r.String()
		case 3:
			p.Kind = r.String()
		case 4:
			p.Values = append(p.Values, r.String())
		case 5:
			p.Min = r.Float()
		case 6:
			p.Max = r.Float()
		case 7:
			p.Step = r.Float()
		case 8:
			p.Default = decodeValue(r, r.Message())
		case 9:
			p.Role = r.String()
		case 10:
			var a Assignment
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					a.Value = m.String()
				case 2:
					a.Segment = m.String()
				case 3:
					a.TTLHours = m.Float()
				}
			}
			r.Check(m)
			p.Assign = append(p.Assign, a)
		}
	}
	parent.Check(r)
}

func encodeSegment(w *wire.Writer, s *Segment) {
	w.String(1, s.ID)
	if s.When != nil {
		w.Message(2, func(w *wire.Writer) { encodeCond(w, s.When) })
	}
	w.Float(3, s.TTLHours)
}

func decodeSegment(parent, r *wire.Reader, s *Segment) {
	for r.Next() {
		switch r.Field {
		case 1:
			s.ID = r.String()
		case 2:
			s.When = &Cond{}
			decodeCond(r, r.Message(), s.When, 0)
		case 3:
			s.TTLHours = r.Float()
		}
	}
	parent.Check(r)
}

func encodeCond(w *wire.Writer, c *Cond) {
	for i := range c.All {
		w.Message(1, func(w *wire.Writer) { encodeCond(w, &c.All[i]) })
	}
	for i := range c.Any {
		w.Message(2, func(w *wire.Writer) { encodeCond(w, &c.Any[i]) })
	}
	if c.Not != nil {
		w.Message(3, func(w *wire.Writer) { encodeCond(w, c.Not) })
	}
	w.String(4, c.Segment)
	w.String(5, c.Attr)
	w.String(6, c.Op)
	if c.Value != nil {
		w.Message(7, func(w *wire.Writer) { encodeValue(w, c.Value) })
	}
	// An empty "all" and an empty "any" differ; mark which list form this is.
	switch {
	case c.All != nil:
		w.Uint(8, 1)
	case c.Any != nil:
		w.Uint(8, 2)
	}
}

// maxDecodeDepth bounds nesting in bytes from outside, so a hostile blob cannot exhaust the stack.
const maxDecodeDepth = 64

var errTooDeep = errors.New("rules: conditions nested too deeply")

func decodeCond(parent, r *wire.Reader, c *Cond, depth int) {
	if depth > maxDecodeDepth {
		parent.Fail(errTooDeep)
		return
	}
	for r.Next() {
		switch r.Field {
		case 1:
			c.All = append(c.All, Cond{})
			decodeCond(r, r.Message(), &c.All[len(c.All)-1], depth+1)
		case 2:
			c.Any = append(c.Any, Cond{})
			decodeCond(r, r.Message(), &c.Any[len(c.Any)-1], depth+1)
		case 3:
			c.Not = &Cond{}
			decodeCond(r, r.Message(), c.Not, depth+1)
		case 4:
			c.Segment = r.String()
		case 5:
			c.Attr = r.String()
		case 6:
			c.Op = r.String()
		case 7:
			c.Value = decodeValue(r, r.Message())
		case 8:
			switch r.Uint() {
			case 1:
				if c.All == nil {
					c.All = []Cond{}
				}
			case 2:
				if c.Any == nil {
					c.Any = []Cond{}
				}
			}
		}
	}
	parent.Check(r)
}

// Value kinds in the compact form.
const (
	valString = 1
	valNumber = 2
	valBool   = 3
	valList   = 4
)

func encodeValue(w *wire.Writer, v any) {
	switch x := v.(type) {
	case string:
		w.Uint(1, valString)
		w.String(2, x)
	case float64:
		w.Uint(1, valNumber)
		w.Float(3, x)
	case int:
		w.Uint(1, valNumber)
		w.Float(3, float64(x))
	case bool:
		w.Uint(1, valBool)
		w.Bool(4, x)
	case []string:
		w.Uint(1, valList)
		for _, e := range x {
			w.Message(5, func(w *wire.Writer) { encodeValue(w, e) })
		}
	case []any:
		w.Uint(1, valList)
		for _, e := range x {
			w.Message(5, func(w *wire.Writer) { encodeValue(w, e) })
		}
	}
}

func decodeValue(parent, r *wire.Reader) any {
	kind := uint64(0)
	var s string
	var n float64
	var b bool
	var list []any
	for r.Next() {
		switch r.Field {
		case 1:
			kind = r.Uint()
		case 2:
			s = r.String()
		case 3:
			n = r.Float()
		case 4:
			b = r.Bool()
		case 5:
			// Lists hold scalars only: one level, so no recursion to bound.
			list = append(list, decodeScalar(r, r.Message()))
		}
	}
	parent.Check(r)
	switch kind {
	case valString:
		return s
	case valNumber:
		return n
	case valBool:
		return b
	case valList:
		if list == nil {
			list = []any{}
		}
		return list
	}
	return nil
}

func decodeScalar(parent, r *wire.Reader) any {
	v := decodeValue(parent, r)
	if _, ok := v.([]any); ok {
		return nil
	}
	return v
}

func encodeModel(w *wire.Writer, m *Model) {
	w.String(1, m.ID)
	w.Float(2, m.Bias)
	for _, f := range m.Features {
		w.Message(3, func(w *wire.Writer) {
			w.String(1, f.Attr)
			w.String(2, f.Transform)
			w.Float(3, f.Weight)
		})
	}
}

func decodeModel(parent, r *wire.Reader, m *Model) {
	for r.Next() {
		switch r.Field {
		case 1:
			m.ID = r.String()
		case 2:
			m.Bias = r.Float()
		case 3:
			var f Feature
			fr := r.Message()
			for fr.Next() {
				switch fr.Field {
				case 1:
					f.Attr = fr.String()
				case 2:
					f.Transform = fr.String()
				case 3:
					f.Weight = fr.Float()
				}
			}
			r.Check(fr)
			m.Features = append(m.Features, f)
		}
	}
	parent.Check(r)
}

func encodeSlot(w *wire.Writer, s *Slot) {
	w.String(1, s.ID)
	w.Float(2, s.Holdout)
	w.Int(3, int64(s.BucketVersion))
	for i := range s.Variants {
		w.Message(4, func(w *wire.Writer) { encodeVariant(w, &s.Variants[i]) })
	}
	w.Message(5, func(w *wire.Writer) { encodeVariant(w, &s.Default) })
	if s.Rank != nil {
		w.Message(6, func(w *wire.Writer) {
			w.Int(1, int64(s.Rank.Limit))
			w.Float(2, s.Rank.MinScore)
		})
	}
}

func decodeSlot(parent, r *wire.Reader, s *Slot) {
	for r.Next() {
		switch r.Field {
		case 1:
			s.ID = r.String()
		case 2:
			s.Holdout = r.Float()
		case 3:
			s.BucketVersion = int(r.Int())
		case 4:
			s.Variants = append(s.Variants, Variant{})
			decodeVariant(r, r.Message(), &s.Variants[len(s.Variants)-1])
		case 5:
			decodeVariant(r, r.Message(), &s.Default)
		case 6:
			s.Rank = &Rank{}
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					s.Rank.Limit = int(m.Int())
				case 2:
					s.Rank.MinScore = m.Float()
				}
			}
			r.Check(m)
		}
	}
	parent.Check(r)
}

func encodeVariant(w *wire.Writer, v *Variant) {
	w.String(1, v.ID)
	if v.When != nil {
		w.Message(2, func(w *wire.Writer) { encodeCond(w, v.When) })
	}
	w.Float(3, v.Traffic)
	w.String(4, v.Template)
	w.String(5, v.Text)
	w.StringMap(6, v.Attrs)
}

func decodeVariant(parent, r *wire.Reader, v *Variant) {
	for r.Next() {
		switch r.Field {
		case 1:
			v.ID = r.String()
		case 2:
			v.When = &Cond{}
			decodeCond(r, r.Message(), v.When, 0)
		case 3:
			v.Traffic = r.Float()
		case 4:
			v.Template = r.String()
		case 5:
			v.Text = r.String()
		case 6:
			v.Attrs = r.MapEntry(v.Attrs)
		}
	}
	parent.Check(r)
}

func encodeTrigger(w *wire.Writer, t *Trigger) {
	w.String(1, t.ID)
	w.String(2, t.OnEnter)
	w.String(3, t.Action)
	w.StringMap(4, t.Params)
	w.Float(5, t.EveryHours)
	w.Int(6, int64(t.Max))
}

func decodeTrigger(parent, r *wire.Reader, t *Trigger) {
	for r.Next() {
		switch r.Field {
		case 1:
			t.ID = r.String()
		case 2:
			t.OnEnter = r.String()
		case 3:
			t.Action = r.String()
		case 4:
			t.Params = r.MapEntry(t.Params)
		case 5:
			t.EveryHours = r.Float()
		case 6:
			t.Max = int(r.Int())
		}
	}
	parent.Check(r)
}
