package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tailor/tailor/server/analysis"
	"github.com/tailor/tailor/shared/frame"
)

// reportJSON is demoJSON with half the visitors held out of the slot, so both arms fill quickly.
var reportJSON = strings.Replace(demoJSON, `"slots": [{"id": "hero",`, `"slots": [{"id": "hero", "holdout": 0.5,`, 1)

func armCount(kind uint8, goal, variant string, arm uint8, win uint32, n uint64) frame.Count {
	return frame.Count{Kind: kind, Goal: goal, Slot: "hero", Variant: variant, Arm: arm, Window: win, N: n}
}

func (r *running) report(t *testing.T) (*Report, string) {
	t.Helper()
	code, body := r.api(t, "GET", "/api/report", "")
	var rep Report
	if err := json.Unmarshal([]byte(body), &rep); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/report: %d %v %s", code, err, body)
	}
	return &rep, body
}

func TestDashboardRoutesNeedTheToken(t *testing.T) {
	static := testStatic()
	static["dashboard/index.html"] = &fstest.MapFile{Data: []byte("<!doctype html><title>dashboard</title>")}
	r := startServer(t, Config{Static: static})
	r.push(t, demoJSON)
	for _, path := range []string{"/api/report", "/api/rules/history"} {
		for _, token := range []string{"", "wrong", testToken + "x", strings.ToUpper(testToken)} {
			if code, body := r.apiAs(t, token, "GET", path, ""); code != http.StatusUnauthorized || body != "" {
				t.Errorf("GET %s with token %q: %d %q", path, token, code, body)
			}
		}
		if code, body := r.api(t, "GET", path, ""); code != http.StatusOK {
			t.Errorf("GET %s with the token: %d %s", path, code, body)
		}
	}
	// The page itself is public, and served with a policy that allows its own scripts only and no framing.
	resp, err := http.Get(r.url + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/dashboard/" || !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /dashboard: %d at %s, CSP %q", resp.StatusCode, resp.Request.URL.Path, csp)
	}
}

func TestReportSuppressesUnderKAndComputesUplift(t *testing.T) {
	r := startServer(t, Config{K: 10})
	r.push(t, reportJSON)
	w := window()
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1, Counts: []frame.Count{
		armCount(frame.CountExposure, "", "welcome", frame.ArmPersonalized, w, 30),
		armCount(frame.CountExposure, "", "welcome-back", frame.ArmPersonalized, w, 4),
		armCount(frame.CountExposure, "", "welcome", frame.ArmHoldout, w, 20),
		armCount(frame.CountConversion, "signup", "welcome", frame.ArmPersonalized, w, 12),
		armCount(frame.CountConversion, "signup", "welcome-back", frame.ArmPersonalized, w, 3),
		armCount(frame.CountConversion, "signup", "welcome", frame.ArmHoldout, w, 5),
		{Kind: frame.CountSegment, Segment: "returning", Window: w - 24, N: 12},
		{Kind: frame.CountSegment, Segment: "returning", Window: w, N: 3},
		{Kind: frame.CountTrigger, Trigger: "offer", Window: w, N: 2},
	}})
	c.expect(frame.KindAck)

	rep, body := r.report(t)
	// No number under k anywhere in the JSON, and none a published total would give away: totals leave out
	// the counts /api/stats hides (welcome-back's 4), so the personalized total is welcome's 30 alone.
	for _, n := range []string{"4", "3", "5", "2", "34"} {
		if regexp.MustCompile(`"n": ` + n + `\b`).MatchString(body) {
			t.Errorf("the report shows a count of %s: %s", n, body)
		}
	}
	if rep.K != 10 || rep.Version != 1 || len(rep.Slots) != 1 {
		t.Fatalf("report %+v", rep)
	}
	hero := rep.Slots[0]
	if !hero.Live || hero.HoldoutShare != 0.5 || *hero.Exposures.Personalized.N != 30 || *hero.Exposures.Holdout.N != 20 {
		t.Errorf("hero %+v", hero)
	}
	for _, v := range hero.Variants {
		wantShown := v.Variant == "welcome"
		if (v.Exposures.N != nil) != wantShown || v.Exposures.Suppressed == wantShown {
			t.Errorf("variant %s/%s exposures %+v", v.Variant, v.Arm, v.Exposures)
		}
	}
	// 30 against 20 at a 50% holdout: χ² = 5²/25 + 5²/25 = 2, p ≈ 0.157, no mismatch.
	if hero.SRM == nil || hero.SRM.Mismatch || hero.SRM.ChiSquare != 2 {
		t.Errorf("srm %+v %q", hero.SRM, hero.SRMNote)
	}
	g := hero.Goals[0]
	if g.Goal != "signup" || g.Uplift != nil || g.Holdout != nil || g.Personalized == nil || !g.Conversions.Holdout.Suppressed ||
		!strings.Contains(g.Note, "holdout arm") {
		t.Errorf("goal before enough holdout conversions: %+v", g)
	}
	seg := rep.Segments[0]
	if seg.ID != "returning" || len(seg.Windows) != 2 || *seg.Windows[0].N != 12 || !seg.Windows[1].Suppressed ||
		seg.ReportedTotal != 12 || seg.SuppressedWindows != 1 {
		t.Errorf("segment %+v", seg)
	}
	if tr := rep.Triggers[0]; tr.ID != "offer" || !tr.Windows[0].Suppressed || tr.ReportedTotal != 0 {
		t.Errorf("trigger %+v", tr)
	}

	// Once the holdout arm holds k conversions, both rates and the uplift appear, as package analysis has them.
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 2, Counts: []frame.Count{
		armCount(frame.CountConversion, "signup", "welcome", frame.ArmHoldout, w, 5),
	}})
	c.expect(frame.KindAck)
	rep, _ = r.report(t)
	g = rep.Slots[0].Goals[0]
	want, _ := analysis.Compare(12, 30, 10, 20)
	if g.Uplift == nil || g.Uplift.Absolute != want.Absolute || g.Uplift.CI != want.AbsoluteCI || *g.Uplift.Relative != *want.Relative ||
		*g.Holdout != want.Holdout || *g.Personalized != want.Personalized || g.Note != "" {
		t.Errorf("goal %+v, uplift %+v, want %+v", g, g.Uplift, want)
	}
}

func TestReportSlotsOutsideTheLiveSet(t *testing.T) {
	r := startServer(t, Config{K: 1})
	r.push(t, reportJSON)
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1, Counts: []frame.Count{
		armCount(frame.CountExposure, "", "welcome", frame.ArmPersonalized, window(), 3),
	}})
	c.expect(frame.KindAck)
	// The next set drops the slot: its counts stay in the report, without an SRM check.
	r.push(t, strings.Replace(reportJSON, `"id": "hero"`, `"id": "banner"`, 1))
	rep, _ := r.report(t)
	var ids []string
	for _, s := range rep.Slots {
		ids = append(ids, s.Slot)
	}
	if !slices.Equal(ids, []string{"banner", "hero"}) || rep.Slots[1].Live || rep.Slots[1].SRM != nil ||
		!strings.Contains(rep.Slots[1].SRMNote, "not in the live rule set") {
		t.Errorf("slots %v: %+v", ids, rep.Slots)
	}
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name       string
		cells      []uint64
		totalShown bool
		want       []bool
	}{
		{"all at least k", []uint64{10, 12, 30}, true, []bool{true, true, true}},
		{"one small cell hides the next smallest", []uint64{4, 30, 12}, true, []bool{false, true, false}},
		{"small cells together hold k", []uint64{6, 5, 30}, true, []bool{false, false, true}},
		{"without a total only k applies", []uint64{4, 30, 12}, false, []bool{false, true, true}},
		{"zeros hide nothing", []uint64{0, 30}, true, []bool{false, true}},
		{"everything hidden if need be", []uint64{2, 10}, true, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := publish(tt.cells, 10, tt.totalShown); !slices.Equal(got, tt.want) {
				t.Errorf("publish(%v) = %v, want %v", tt.cells, got, tt.want)
			}
		})
	}
}

func TestHistoryNamesWhatChanged(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	r.push(t, strings.Replace(strings.Replace(demoJSON, "Welcome back", "Hi", 1), `"name": "test",`, `"name": "test", "k": 12,`, 1))
	r.push(t, strings.Replace(demoJSON, `"goals": [{"id": "signup"}]`, `"goals": [{"id": "purchase"}]`, 1))
	if code, body := r.api(t, "POST", "/api/rules/rollback", `{"version": 1}`); code != http.StatusCreated {
		t.Fatalf("rollback: %d %s", code, body)
	}
	code, body := r.api(t, "GET", "/api/rules/history", "")
	var h History
	if err := json.Unmarshal([]byte(body), &h); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	got := map[uint64][]Change{}
	for _, v := range h.Versions {
		got[v.Version] = v.Changes
	}
	want := map[uint64][]Change{
		1: {{"goals", "signup", "added"}, {"segments", "returning", "added"}, {"slots", "hero", "added"}, {"triggers", "offer", "added"}},
		2: {{"settings", "k", "changed"}, {"slots", "hero", "changed"}},
		3: {{"settings", "k", "changed"}, {"goals", "purchase", "added"}, {"goals", "signup", "removed"}, {"slots", "hero", "changed"}},
		4: {{"goals", "signup", "added"}, {"goals", "purchase", "removed"}},
	}
	if h.Versions[0].Version != 4 || !h.Versions[0].Live || h.Versions[0].From != 1 {
		t.Errorf("newest first, live, rolled back from 1: %+v", h.Versions[0].versionInfo)
	}
	for n, w := range want {
		if !slices.Equal(got[n], w) {
			t.Errorf("version %d changes %v, want %v", n, got[n], w)
		}
	}
}

// A total must not give away a window /api/stats hides: with one window of 30 and one of 3 (k = 10),
// /api/stats shows 30 and hides 3, so the report's total is 30, not 33.
func TestReportTotalsLeaveOutWindowsStatsHide(t *testing.T) {
	r := startServer(t, Config{K: 10})
	r.push(t, reportJSON)
	w := window()
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1, Counts: []frame.Count{
		armCount(frame.CountExposure, "", "welcome", frame.ArmHoldout, w-24, 30),
		armCount(frame.CountExposure, "", "welcome", frame.ArmHoldout, w, 3),
	}})
	c.expect(frame.KindAck)
	rep, body := r.report(t)
	if n := rep.Slots[0].Exposures.Holdout.N; n == nil || *n != 30 {
		t.Errorf("holdout exposures %v, want 30: %s", n, body)
	}
	if strings.Contains(body, `"n": 33`) {
		t.Errorf("the report's total reveals the hidden window: %s", body)
	}
}
