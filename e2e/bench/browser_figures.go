package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// Chromium times the first decision in headless Chromium, first and repeat visits, against the page's own
// first contentful paint in the same visits, and reports whether the page was ever hidden.
func Chromium(c Config) ([]Row, error) {
	visits := 7
	if c.Short {
		visits = 1
	}
	cmd := exec.Command("node", filepath.Join(c.Root, "e2e", "bench", "chromium.cjs"), strconv.Itoa(visits))
	cmd.Env = append(os.Environ(), "TAILOR_BIN="+c.Bin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: node chromium.cjs (needs `cd e2e && npm ci` and Debian's chromium): %w", err)
	}
	type visit struct {
		Shown  float64  `json:"shown"`
		FCP    *float64 `json:"fcp"`
		Hidden bool     `json:"hidden"`
	}
	var res struct{ Cold, Repeat []visit }
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("bench: chromium.cjs output: %w", err)
	}
	row := func(name string, vs []visit) Row {
		var shown, fcp []float64
		hidden := false
		for _, v := range vs {
			shown = append(shown, v.Shown)
			if v.FCP != nil {
				fcp = append(fcp, *v.FCP)
			}
			hidden = hidden || v.Hidden
		}
		note := "page never hidden"
		if hidden {
			note = "PAGE HIDDEN while waiting"
		}
		return Row{Figure: name, Tailor: median(shown), Comparison: median(fcp), Unit: "ms",
			Against: "the page's first contentful paint", Note: fmt.Sprintf("median of %d; %s", len(vs), note)}
	}
	return []Row{row("slot shows its decision in Chromium, first visit", res.Cold),
		row("slot shows its decision in Chromium, repeat visit", res.Repeat)}, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
