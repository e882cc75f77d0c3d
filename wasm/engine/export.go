package engine

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonWriter writes JSON by hand: the engine cannot afford encoding/json. Its methods are not inlined:
// Export calls them at a hundred sites, and each inlined copy would cost download bytes.
type jsonWriter struct {
	b     []byte
	comma bool
}

//go:noinline
func (j *jsonWriter) sep() {
	if j.comma {
		j.b = append(j.b, ',')
	}
	j.comma = true
}

//go:noinline
func (j *jsonWriter) open(c byte) { j.sep(); j.b = append(j.b, c); j.comma = false }

//go:noinline
func (j *jsonWriter) close(c byte) { j.b = append(j.b, c); j.comma = true }

//go:noinline
func (j *jsonWriter) key(k string) { j.str(k); j.b = append(j.b, ':'); j.comma = false }

//go:noinline
func (j *jsonWriter) str(s string) {
	j.sep()
	j.b = append(j.b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			j.b = append(j.b, '\\', byte(r))
		case r < 0x20 || r == utf8.RuneError && size == 1 || r == 0x2028 || r == 0x2029:
			j.b = append(j.b, `\u`...)
			if r == utf8.RuneError {
				r = 0xfffd
			}
			h := strconv.FormatInt(int64(r), 16)
			j.b = append(j.b, strings.Repeat("0", 4-len(h))+h...)
		default:
			j.b = append(j.b, s[i:i+size]...)
		}
		i += size
	}
	j.b = append(j.b, '"')
}

//go:noinline
func (j *jsonWriter) num(f float64) {
	j.sep()
	j.b = strconv.AppendFloat(j.b, f, 'g', -1, 64)
}

//go:noinline
func (j *jsonWriter) boolean(v bool) {
	j.sep()
	j.b = strconv.AppendBool(j.b, v)
}

//go:noinline
func (j *jsonWriter) value(v any) {
	switch x := v.(type) {
	case string:
		j.str(x)
	case float64:
		j.num(x)
	case bool:
		j.boolean(x)
	case []string:
		j.open('[')
		for _, s := range x {
			j.str(s)
		}
		j.close(']')
	default:
		j.sep()
		j.b = append(j.b, "null"...)
	}
}

// PrefsJSON returns the visitor's preferences, with defaults for those not chosen, as a JSON object.
func (e *Engine) PrefsJSON() []byte {
	var j jsonWriter
	j.open('{')
	if e.rules != nil {
		for _, p := range e.rules.Set.Preferences {
			if v := e.pref(p.ID); v != nil {
				j.key(p.ID)
				j.value(v)
			}
		}
	}
	j.close('}')
	return j.b
}

// Export returns everything the engine keeps about the visitor, readable, as JSON. The seed is left out:
// it only buckets the visitor and is worthless outside this device.
func (e *Engine) Export(now int64) []byte {
	st := e.st
	var j jsonWriter
	j.open('{')
	j.key("consent")
	j.boolean(!st.noConsent)
	j.key("first_seen_ms")
	j.num(float64(st.firstSeen))
	j.key("last_active_ms")
	j.num(float64(st.lastActive))
	j.key("preferences")
	j.b = append(j.b, e.PrefsJSON()...)
	j.comma = true
	j.key("declared")
	j.open('{')
	for _, k := range sortedKeys(st.declared) {
		j.key(k)
		j.str(st.declared[k])
	}
	j.close('}')
	j.key("context")
	j.open('{')
	if st.hasCtx {
		j.key("lang")
		j.str(st.lang)
		j.key("tz_offset_minutes")
		j.num(float64(st.tz))
	}
	j.close('}')
	j.key("counters")
	j.open('{')
	names := map[byte]string{'v': "visits", 'p': "views", 't': "seconds", 'g': "goals"}
	for _, k := range sortedKeys(st.counters) {
		name := names[k[0]]
		if len(k) > 2 {
			name += "." + k[2:]
		}
		c := st.counters[k]
		j.key(name)
		j.open('{')
		j.key("total")
		j.num(c.total)
		j.key("last_7_days")
		j.num(c.within(now, 7))
		j.close('}')
	}
	j.close('}')
	j.key("journey")
	j.value(append([]string{}, st.journey...))
	j.key("interests")
	j.open('{')
	for _, k := range sortedKeys(st.interests) {
		j.key(k)
		j.num(e.decayed(st.interests[k], now))
	}
	j.close('}')
	e.exportEvaluation(&j, now)
	j.key("triggers")
	j.open('{')
	for _, k := range sortedKeys(st.triggers) {
		j.key(k)
		j.open('{')
		j.key("times")
		j.num(float64(st.triggers[k].count))
		j.key("last_ms")
		j.num(float64(st.triggers[k].last))
		j.close('}')
	}
	j.close('}')
	j.key("pending_counts")
	j.num(float64(len(st.pending)))
	j.close('}')
	return j.b
}

// exportEvaluation lists the segments the visitor is in now, each with its reason, and each model's
// conversion probability.
func (e *Engine) exportEvaluation(j *jsonWriter, now int64) {
	var ev *evaluation
	if e.rules != nil {
		ev = e.evaluate(now, pageInfo{})
	}
	j.key("segments")
	j.open('[')
	if ev != nil {
		for _, seg := range e.rules.Segments {
			if ev.member[seg.Index] {
				j.open('{')
				j.key("id")
				j.str(seg.ID)
				j.key("reason")
				j.str(string(ev.explainSegment(nil, seg.Index, 0)))
				j.close('}')
			}
		}
	}
	j.close(']')
	j.key("models")
	j.open('{')
	if ev != nil {
		for _, m := range e.rules.Models {
			j.key(m.ID)
			j.num(ev.model(m.ID))
		}
	}
	j.close('}')
}
