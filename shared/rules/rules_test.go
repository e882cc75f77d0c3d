package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, s string) *RuleSet {
	t.Helper()
	var rs RuleSet
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return &rs
}

func TestCompileErrorsNameTheirPath(t *testing.T) {
	tests := []struct{ name, rules, want string }{
		{"unknown operator", `{"segments":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d","when":{"all":[{"attr":"visits","op":"gte","value":1},{"attr":"visits","op":"gte ","value":1}]}}]}`,
			`segments[3].when.all[1]: unknown operator "gte "`},
		{"unknown attribute", `{"segments":[{"id":"a","when":{"attr":"vists","op":"gte","value":1}}]}`, `segments[0].when.attr: unknown attribute "vists"`},
		{"window too long", `{"segments":[{"id":"a","when":{"attr":"visits.91d","op":"gte","value":1}}]}`, `window of "visits.91d" must be 1 to 90 days`},
		{"unknown segment", `{"slots":[{"id":"s","default":{"id":"d"},"variants":[{"id":"v","when":{"segment":"nope"}}]}]}`, `slots[0].variants[0].when.segment: unknown segment "nope"`},
		{"self reference", `{"segments":[{"id":"a","when":{"segment":"a"}}]}`, `segments[0].when: segment "a" refers back to itself`},
		{"two forms", `{"segments":[{"id":"a","when":{"segment":"a","attr":"visits","op":"exists"}}]}`, `segments[0].when: a condition needs exactly one of`},
		{"duplicate id", `{"goals":[{"id":"g"},{"id":"g"}]}`, `goals[1].id: duplicate goal id "g"`},
		{"bad share", `{"holdout":1.5}`, `holdout: must be a share between 0 and 1`},
		{"bad time", `{"segments":[{"id":"a","when":{"attr":"now","op":"after","value":"2026-13-01"}}]}`, `segments[0].when.value: not an RFC 3339 time`},
		{"bad semver", `{"segments":[{"id":"a","when":{"attr":"attr.v","op":"semver_gt","value":"1.2"}}]}`, `not a semantic version: "1.2"`},
		{"unknown model", `{"segments":[{"id":"a","when":{"attr":"model.x","op":"gt","value":0.5}}]}`, `unknown model "x"`},
		{"unknown pref", `{"segments":[{"id":"a","when":{"attr":"pref.x","op":"eq","value":"y"}}]}`, `unknown preference "x"`},
		{"bad default", `{"preferences":[{"id":"t","kind":"enum","values":["a"],"default":"b"}]}`, `preferences[0].default: value for "t" must be one of a`},
		{"script attribute", `{"slots":[{"id":"s","default":{"id":"d","attrs":{"onclick":"x()"}}}]}`, `slots[0].default.attrs.onclick: attribute "onclick" is not allowed`},
		{"javascript url", `{"slots":[{"id":"s","default":{"id":"d","attrs":{"href":" JavaScript:x()"}}}]}`, `attribute "href" is not allowed`},
		{"tab inside the scheme", `{"slots":[{"id":"s","default":{"id":"d","attrs":{"href":"java\tscript:x()"}}}]}`, `attribute "href" is not allowed`},
		{"leading control character", `{"slots":[{"id":"s","default":{"id":"d","attrs":{"href":"\u0001javascript:x()"}}}]}`, `attribute "href" is not allowed`},
		{"unknown scheme in a URL", `{"slots":[{"id":"s","default":{"id":"d","attrs":{"src":"blob:x"}}}]}`, `attribute "src" is not allowed`},
		{"markup template", `{"slots":[{"id":"s","default":{"id":"d","template":"<b>"}}]}`, `a template is the id of a <template> element`},
		{"trigger segment", `{"triggers":[{"id":"t","on_enter":"x","action":"a"}]}`, `triggers[0].on_enter: unknown segment "x"`},
		{"model feature", `{"models":[{"id":"m","bias":0,"features":[{"attr":"page.path","weight":1}]}]}`, `models[0].features[0].attr: attribute "page.path" is not a numeric behaviour feature`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(parse(t, tc.rules))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, ok := err.(Problems); !ok {
				t.Fatalf("error is %T, want Problems", err)
			}
		})
	}
}

func TestSafeAttributesPass(t *testing.T) {
	rs := parse(t, `{"slots":[{"id":"s","default":{"id":"d","attrs":{"href":"https://example.com/a?b#c","src":"/img/a.png",
		"title":"note: plain text","alt":"Crete","data-offer":"sea","rel":"mailto:x"}}}]}`)
	if _, err := Compile(rs); err != nil {
		t.Fatal(err)
	}
}

func TestNestingLimits(t *testing.T) {
	cond := `{"attr":"visits","op":"exists"}`
	for i := 0; i < MaxCondDepth+1; i++ {
		cond = `{"not":` + cond + `}`
	}
	if _, err := Compile(parse(t, `{"segments":[{"id":"a","when":`+cond+`}]}`)); err == nil || !strings.Contains(err.Error(), "nested more than 16 deep") {
		t.Errorf("deep conditions: %v", err)
	}
	// A chain of segment references one longer than allowed.
	segs := `{"id":"s0","when":{"attr":"visits","op":"exists"}}`
	for i := 1; i <= MaxSegmentDepth+1; i++ {
		segs += `,{"id":"s` + itoa(i) + `","when":{"segment":"s` + itoa(i-1) + `"}}`
	}
	if _, err := Compile(parse(t, `{"segments":[`+segs+`]}`)); err == nil || !strings.Contains(err.Error(), "nested 9 deep") {
		t.Errorf("deep segment chain: %v", err)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// ParseTime exists because the engine cannot afford package time; the tests can, so it is the reference.
func TestParseTime(t *testing.T) {
	for _, in := range []string{"1970-01-01T00:00:00Z", "2026-03-01T11:00:00+01:00", "2026-03-01T10:00:00-09:30",
		"2026-03-01T10:00:00.250Z", "2024-02-29T00:00:00Z", "1969-12-31T23:59:59Z", "2400-12-31T23:59:59Z"} {
		ref, err := time.Parse(time.RFC3339, in)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := ParseTime(in); !ok || got != ref.UnixMilli() {
			t.Errorf("ParseTime(%q) = %d, %v; want %d", in, got, ok, ref.UnixMilli())
		}
	}
	// Without an offset a time is UTC; a date alone is midnight UTC.
	if got, _ := ParseTime("2026-03-01T10:00:00"); got != 1772359200000 {
		t.Errorf("a time without offset is not UTC: %d", got)
	}
	if got, _ := ParseTime("2024-02-29"); got != 1709164800000 {
		t.Errorf("a date alone: %d", got)
	}
	for _, bad := range []string{"2023-02-29", "2026-03-01T10:00:00+1:00", "2026-03-01T25:00:00Z", "", "2026-3-1",
		"2026-03-01T10:00:00.Z", "2026-03-01T10:00:00Zjunk"} {
		if _, ok := ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

// The precedence example of semver 2.0, section 11, in order.
func TestSemverPrecedence(t *testing.T) {
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "v2.0.0+build.1", "2.1.0", "2.1.1", "10.0.0"}
	for i := 0; i+1 < len(order); i++ {
		a, ok1 := ParseSemver(order[i])
		b, ok2 := ParseSemver(order[i+1])
		if !ok1 || !ok2 || CompareSemver(a, b) != -1 || CompareSemver(b, a) != 1 {
			t.Errorf("%s < %s does not hold", order[i], order[i+1])
		}
	}
	for _, bad := range []string{"1.0", "01.0.0", "1.0.0-01", "1.0.0-", "a.b.c", "1.0.0+", ""} {
		if _, ok := ParseSemver(bad); ok {
			t.Errorf("%q parsed as a version", bad)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/blog/*", "/blog/post", true},
		{"/blog/*", "/blog/2026/post", false},
		{"/blog/**", "/blog/2026/post", true},
		{"/a/**/b", "/a/b", true},
		{"/a/**/b", "/a/x/y/b", true},
		{"/a/**/b", "/a/x/y/c", false},
		{"*.html", "index.html", true},
		{"/p/*/edit", "/p/42/edit", true},
		{"/p/*/edit", "/p/42/view", false},
		{"", "", true},
	}
	for _, tc := range tests {
		if got := Glob(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
}

const sample = `{"name":"s","holdout":0.1,"normalize":"lower",
 "preferences":[{"id":"theme","group":"display","kind":"enum","values":["light","dark"],"default":"light"},
   {"id":"topics","kind":"set","values":["a","b"],"default":["b"],"role":"follow"},
   {"id":"where","kind":"enum","values":["sea","hills"],"assign":[{"value":"sea","segment":"sea","ttl_hours":168}]}],
 "goals":[{"id":"buy"}],
 "models":[{"id":"m","bias":-1.5,"features":[{"attr":"views.7d","transform":"log1p","weight":0.8}]}],
 "segments":[{"id":"sea"},{"id":"hot","when":{"any":[{"attr":"model.m","op":"gte","value":0.7},{"not":{"all":[]}}]},"ttl_hours":2},
   {"id":"t","when":{"attr":"now","op":"before","value":"2027-01-01T00:00:00+01:00"}}],
 "slots":[{"id":"hero","holdout":0.2,"bucket_version":3,"default":{"id":"d","text":"Hi"},
   "variants":[{"id":"v","when":{"segment":"hot"},"traffic":0.5,"template":"tpl","attrs":{"href":"/x","alt":"y"}}]},
   {"id":"recs","rank":{"limit":3,"min_score":0.5},"default":{"id":"latest"}}],
 "triggers":[{"id":"pop","on_enter":"hot","action":"popin","params":{"model":"{top_view:car/}"},"every_hours":24,"max":3}]}`

func TestCompactRoundTrip(t *testing.T) {
	rs := parse(t, sample)
	if _, err := Compile(rs); err != nil {
		t.Fatal(err)
	}
	b := Encode(rs)
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rs, back) {
		t.Errorf("round trip changed the set:\n%+v\n%+v", rs, back)
	}
	if string(Encode(back)) != string(b) {
		t.Error("encoding is not deterministic")
	}
	// The time was turned into an instant when compiled.
	if v, ok := back.Segments[2].When.Value.(float64); !ok || v != 1798758000000 {
		t.Errorf("time operand %v, want the instant 1798758000000", back.Segments[2].When.Value)
	}
}

func TestDeltaOneSegmentOfHundred(t *testing.T) {
	var segs []string
	for i := 0; i < 100; i++ {
		segs = append(segs, `{"id":"seg`+strings.Repeat("x", i%7)+string(rune('A'+i%26))+itoa(i%10)+`-`+strings.Repeat("y", i/26)+`","when":{"all":[{"attr":"views.cat`+itoa(i%10)+`.7d","op":"gte","value":3},{"attr":"ctx.lang","op":"in","value":["fr","de","en"]}]}}`)
	}
	old := parse(t, `{"segments":[`+strings.Join(segs, ",")+`]}`)
	old.Version = 1
	segs[42] = strings.Replace(segs[42], `"value":3`, `"value":4`, 1)
	next := parse(t, `{"segments":[`+strings.Join(segs, ",")+`],"holdout":0.05}`)
	next.Version = 2
	from, to := Encode(old), Encode(next)
	delta, ok := Diff(from, to)
	if !ok {
		t.Fatal("no delta")
	}
	got, err := Apply(from, delta)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(to) || ContentHash(got) != ContentHash(to) {
		t.Fatal("applying the delta does not give the new set")
	}
	if len(delta)*10 > len(to) {
		t.Errorf("delta is %d bytes for a %d-byte set: not a small fraction", len(delta), len(to))
	}
	t.Logf("full %d B, delta %d B", len(to), len(delta))
	// Reordering is not a delta: send the full set.
	segs[0], segs[1] = segs[1], segs[0]
	moved := Encode(parse(t, `{"segments":[`+strings.Join(segs, ",")+`]}`))
	if _, ok := Diff(from, moved); ok {
		t.Error("a reordering was sent as a delta")
	}
	if _, err := Apply(from, []byte{0x12, 0x02, 0x08, 0x63}); err == nil {
		t.Error("a delta for an unknown collection applied")
	}
}
