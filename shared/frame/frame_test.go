package frame

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := &Frame{Kind: KindBatch, BatchID: 1<<63 + 5, Counts: []Count{
		{Kind: CountExposure, Slot: "hero", Variant: "sea", Arm: ArmHoldout, Window: 493000, N: 1},
		{Kind: CountSegment, Segment: "sea-lovers", Window: 493000, N: 3}}}
	got, err := Decode(f.Encode(nil))
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
		want string
	}{
		{"no kind", Frame{}, "unknown frame kind 0"},
		{"batch without id", Frame{Kind: KindBatch}, "batch without a batch id"},
		{"empty batch", Frame{Kind: KindBatch, BatchID: 99}, "batch without counts"},
		{"zero value", Frame{Kind: KindBatch, BatchID: 1, Counts: []Count{{Kind: CountSegment, Segment: "s"}}}, "counts[0]: value 0 out of range"},
		{"huge value", Frame{Kind: KindBatch, BatchID: 1, Counts: []Count{{Kind: CountSegment, Segment: "s", N: 1 << 40}}}, "out of range"},
		{"bad arm", Frame{Kind: KindBatch, BatchID: 1, Counts: []Count{{Kind: CountExposure, Slot: "s", N: 1, Arm: 7}}}, "unknown arm 7"},
		{"bad counter", Frame{Kind: KindBatch, BatchID: 1, Counts: []Count{{Kind: 9, N: 1}}}, "unknown counter kind 9"},
		{"full without rules", Frame{Kind: KindFull}, "without rules"},
	}
	for _, tc := range tests {
		_, err := Decode(tc.f.Encode(nil))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Decode([]byte{0x08}); !errors.Is(err, ErrDecode) {
		t.Errorf("truncated frame: %v", err)
	}
}

// FuzzDecode: no frame from the network panics the decoder, and every frame it accepts re-encodes to one
// it accepts again, unchanged.
func FuzzDecode(f *testing.F) {
	f.Add((&Frame{Kind: KindHello, EngineVersion: "tailor-engine/1", Version: 3, Hash: "abc"}).Encode(nil))
	f.Add((&Frame{Kind: KindBatch, BatchID: 9, Counts: []Count{{Kind: CountConversion, Goal: "buy", Slot: "s", Variant: "v", Arm: 1, Window: 1, N: 1}}}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(fr.Encode(nil))
		if err != nil {
			t.Fatalf("re-encoded frame refused: %v", err)
		}
		if !reflect.DeepEqual(fr.Counts, again.Counts) || fr.Kind != again.Kind || fr.BatchID != again.BatchID {
			t.Fatal("frame changed in a round trip")
		}
	})
}
