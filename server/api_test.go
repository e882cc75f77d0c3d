package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/web"
)

func TestAPIAuth(t *testing.T) {
	r := startServer(t, Config{})
	paths := []struct{ method, path string }{
		{"GET", "/api/rules"}, {"POST", "/api/rules"}, {"GET", "/api/rules/versions"},
		{"POST", "/api/rules/rollback"}, {"POST", "/api/validate"}, {"GET", "/api/stats"}, {"GET", "/api/nothing"},
	}
	for _, p := range paths {
		for _, token := range []string{"", "wrong", testToken + "x", strings.ToUpper(testToken)} {
			code, body := r.apiAs(t, token, p.method, p.path, demoJSON)
			if code != http.StatusUnauthorized || body != "" {
				t.Errorf("%s %s with token %q: %d %q", p.method, p.path, token, code, body)
			}
		}
	}
	if code, _ := r.api(t, "GET", "/api/stats", ""); code != http.StatusOK {
		t.Errorf("with the token: %d", code)
	}
}

func TestAPIWithoutConfiguredTokenRefusesAll(t *testing.T) {
	s := newTestServer(t, Config{})
	s.cfg.Token = "" // a server started without a token: even an empty bearer must not pass
	s.routes()
	w := get(s, "/api/stats", "Authorization", "Bearer ")
	if w.Code != http.StatusUnauthorized {
		t.Errorf("status %d", w.Code)
	}
}

func TestAPIPushInvalidKeepsLive(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	bad := `{"slots":[{"id":"hero","default":{"id":"a","attrs":{"onclick":"x()"}}}],"segments":[{"id":"s","when":{"attr":"visits","op":"zz","value":1}}]}`
	code, body := r.api(t, "POST", "/api/rules", bad)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d %s", code, body)
	}
	var e struct {
		Errors []struct{ Path, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, p := range e.Errors {
		paths[p.Path] = p.Message != ""
	}
	for _, want := range []string{"slots[0].default.attrs.onclick", "segments[0].when"} {
		if !paths[want] {
			t.Errorf("no error at %s in %s", want, body)
		}
	}
	if code, body := r.api(t, "GET", "/api/rules", ""); code != 200 || !strings.Contains(body, `"version": 1`) || !strings.Contains(body, "Welcome back") {
		t.Errorf("live set after a refused push: %d %s", code, body)
	}
}

func TestAPIRulesErrors(t *testing.T) {
	r := startServer(t, Config{})
	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"unknown field", `{"name":"x","slotz":[]}`, 400, "slotz"},
		{"not json", `{"name":`, 400, "does not decode"},
		{"trailing data", `{"name":"x"} {}`, 400, "after the rule set"},
		{"empty", ``, 400, "empty"},
		{"wrong type", `{"slots":"hero"}`, 400, "does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/rules", "/api/validate"} {
				code, body := r.api(t, "POST", path, tt.body)
				if code != tt.code || !strings.Contains(body, tt.want) || !strings.Contains(body, `"errors"`) {
					t.Errorf("%s: %d %s", path, code, body)
				}
			}
		})
	}
	if code, body := r.api(t, "POST", "/api/validate", demoJSON); code != 200 {
		t.Errorf("validate a good set: %d %s", code, body)
	}
	if code, _ := r.api(t, "GET", "/api/rules", ""); code != http.StatusNotFound {
		t.Errorf("live before any push: %d", code)
	}
}

func TestAPIVersionsAndRollback(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	r.push(t, strings.Replace(demoJSON, "Welcome back", "Hi", 1))
	if code, body := r.api(t, "POST", "/api/rules", strings.Replace(demoJSON, "Welcome back", "Hi", 1)); code != 200 || !strings.Contains(body, `"changed": false`) {
		t.Errorf("pushing the live rules again: %d %s", code, body)
	}
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello})
	c.expect(frame.KindFull)
	code, body := r.api(t, "POST", "/api/rules/rollback", `{"version":1}`)
	if code != http.StatusCreated || !strings.Contains(body, `"version": 3`) || !strings.Contains(body, `"rolled_back_from": 1`) {
		t.Fatalf("rollback: %d %s", code, body)
	}
	if f := c.expect(frame.KindDelta); f.Version != 3 {
		t.Errorf("pushed version %d", f.Version)
	}
	if code, body := r.api(t, "GET", "/api/rules", ""); !strings.Contains(body, "Welcome back") {
		t.Errorf("live after rollback: %d %s", code, body)
	}
	code, body = r.api(t, "GET", "/api/rules/versions", "")
	var vs struct {
		Versions []struct {
			Version uint64
			Live    bool
		}
	}
	json.Unmarshal([]byte(body), &vs)
	if code != 200 || len(vs.Versions) != 3 || !vs.Versions[2].Live {
		t.Errorf("versions: %d %s", code, body)
	}
	for _, bad := range []struct {
		body string
		code int
	}{{`{"version":9}`, 404}, {`{"version":0}`, 400}, {`{"v":1}`, 400}, {`nope`, 400}} {
		if code, body := r.api(t, "POST", "/api/rules/rollback", bad.body); code != bad.code {
			t.Errorf("rollback %s: %d %s", bad.body, code, body)
		}
	}
}

func TestAPIStatsSuppressesUnderK(t *testing.T) {
	r := startServer(t, Config{K: 10})
	r.push(t, demoJSON)
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 1, Counts: []frame.Count{
		exposure("hero", "welcome", 9), exposure("hero", "welcome-back", 10),
	}})
	c.expect(frame.KindAck)
	code, body := r.api(t, "GET", "/api/stats", "")
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	if strings.Contains(body, `"sum": 9`) {
		t.Errorf("a cell under k shows its number: %s", body)
	}
	got := map[string]Stat{}
	for _, s := range st.Counters {
		got[s.Variant] = s
	}
	if !got["welcome"].Suppressed || got["welcome"].Sum != 0 || got["welcome-back"].Sum != 10 || got["welcome-back"].Arm != "personalized" {
		t.Errorf("stats %+v", st)
	}
	// A live set with a larger k raises the threshold; a smaller one cannot lower the server's floor.
	r.push(t, strings.Replace(demoJSON, `"name": "test",`, `"name": "test", "k": 11,`, 1))
	if st, _ := r.Stats(); st.K != 11 {
		t.Errorf("k %d, want 11", st.K)
	}
	r.push(t, strings.Replace(demoJSON, `"name": "test",`, `"name": "test", "k": 2,`, 1))
	if st, _ := r.Stats(); st.K != 10 {
		t.Errorf("k %d, want 10", st.K)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	r := startServer(t, Config{})
	r.push(t, demoJSON)
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello})
	c.expect(frame.KindFull)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 5, Counts: []frame.Count{exposure("hero", "welcome", 1)}})
	c.expect(frame.KindAck)
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 6, Counts: []frame.Count{exposure("x", "y", 1)}})
	c.expect(frame.KindRefused)
	if code, body := r.apiAs(t, "", "GET", "/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
	code, body := r.apiAs(t, "", "GET", "/metrics", "")
	for _, want := range []string{"tailor_connections 1\n", "tailor_pushes_total 1\n", "tailor_batches_accepted_total 1\n", "tailor_batches_refused_total 1\n", "# TYPE tailor_slow_client_closes_total counter\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if code != 200 || strings.Contains(body, "tailor_pushed_bytes_total 0\n") {
		t.Errorf("metrics %d:\n%s", code, body)
	}
}

func TestDemoAndRestartKeepState(t *testing.T) {
	dir := t.TempDir()
	r := startServer(t, Config{DataDir: dir, Demo: true, DemoRules: []byte(demoJSON)})
	c := r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello})
	full := c.expect(frame.KindFull)
	if full.Version != 1 {
		t.Fatalf("demo version %d", full.Version)
	}
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 77, Counts: []frame.Count{exposure("hero", "welcome", 12)}})
	c.expect(frame.KindAck)
	c.ws.CloseNow()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = startServer(t, Config{DataDir: dir, Demo: true, DemoRules: []byte(demoJSON)})
	c = r.dial(t)
	c.send(&frame.Frame{Kind: frame.KindHello, Version: 1, Hash: full.Hash})
	c.expect(frame.KindUpToDate) // the demo is not pushed again over a stored set
	c.send(&frame.Frame{Kind: frame.KindBatch, BatchID: 77, Counts: []frame.Count{exposure("hero", "welcome", 12)}})
	c.expect(frame.KindAck)
	st, _ := r.Stats()
	if len(st.Counters) != 1 || st.Counters[0].Sum != 12 {
		t.Errorf("after restart: %+v", st.Counters)
	}
}

func TestEmbeddedDemoRulesValidate(t *testing.T) {
	if _, err := ParseRules(web.DemoRules); err != nil {
		t.Fatal(err)
	}
}
