package rules

import (
	"encoding/json"
	"testing"
)

// FuzzCompact: bytes from the network never panic the decoder or the compiler, and a set that decodes
// encodes to bytes that decode to the same set.
func FuzzCompact(f *testing.F) {
	var rs RuleSet
	if err := json.Unmarshal([]byte(sample), &rs); err != nil {
		f.Fatal(err)
	}
	f.Add(Encode(&rs))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := Decode(b)
		if err != nil {
			return
		}
		again := Encode(rs)
		rs2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded set does not decode: %v", err)
		}
		if string(Encode(rs2)) != string(again) {
			t.Fatal("encoding is not stable")
		}
		Compile(rs2)
	})
}

// FuzzDelta: a delta from the network never panics Apply.
func FuzzDelta(f *testing.F) {
	var rs RuleSet
	json.Unmarshal([]byte(sample), &rs)
	from := Encode(&rs)
	rs.Segments = rs.Segments[1:]
	rs.Holdout = 0.3
	delta, _ := Diff(from, Encode(&rs))
	f.Add(from, delta)
	f.Fuzz(func(t *testing.T, from, delta []byte) {
		Apply(from, delta)
		ContentHash(from)
	})
}
