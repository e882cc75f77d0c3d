package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tailor/tailor/shared/frame"
)

// Stat is one counter in one report window, as /api/stats reports it. Sum is absent and Suppressed true
// when the sum is under k: a small cell could single out a visitor.
type Stat struct {
	Kind        string `json:"kind"`
	Slot        string `json:"slot,omitempty"`
	Variant     string `json:"variant,omitempty"`
	Goal        string `json:"goal,omitempty"`
	Segment     string `json:"segment,omitempty"`
	Trigger     string `json:"trigger,omitempty"`
	Arm         string `json:"arm,omitempty"`
	Window      uint32 `json:"window"` // start of the report window, Unix hours
	WindowStart string `json:"window_start"`
	Sum         uint64 `json:"sum,omitempty"`
	Suppressed  bool   `json:"suppressed,omitempty"`
}

// Stats is the answer of /api/stats.
type Stats struct {
	K        int    `json:"k"`
	Counters []Stat `json:"counters"`
}

// Stats reads every counter's sum per window with cells under k suppressed.
func (s *Server) Stats() (*Stats, error) {
	sums, err := s.store.Sums()
	if err != nil {
		return nil, err
	}
	k := s.cfg.K
	if live := s.live.Load(); live != nil {
		k = live.k
	}
	out := &Stats{K: k, Counters: make([]Stat, 0, len(sums))}
	for _, sum := range sums {
		st := statOfKey(sum.Key)
		st.Window = sum.Window
		st.WindowStart = time.Unix(int64(sum.Window)*3600, 0).UTC().Format(time.RFC3339)
		if sum.N < uint64(k) {
			st.Suppressed = true
		} else {
			st.Sum = sum.N
		}
		out.Counters = append(out.Counters, st)
	}
	return out, nil
}

// statOfKey splits a frame.Count.Key back into its fields. Ids never hold '|' (rules refuses it).
func statOfKey(key string) Stat {
	parts := strings.Split(key, "|")
	kind, _ := strconv.Atoi(parts[0])
	at := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	switch kind {
	case frame.CountExposure:
		return Stat{Kind: "exposure", Slot: at(1), Variant: at(2), Arm: armName(at(3))}
	case frame.CountConversion:
		return Stat{Kind: "conversion", Goal: at(1), Slot: at(2), Variant: at(3), Arm: armName(at(4))}
	case frame.CountSegment:
		return Stat{Kind: "segment", Segment: at(1)}
	case frame.CountTrigger:
		return Stat{Kind: "trigger", Trigger: at(1)}
	}
	return Stat{Kind: "unknown"}
}

func armName(s string) string {
	switch s {
	case strconv.Itoa(frame.ArmPersonalized):
		return "personalized"
	case strconv.Itoa(frame.ArmHoldout):
		return "holdout"
	}
	return s
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Stats()
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
