package e2e

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/tailor/tailor/e2e/host"
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// session is one row of online_shoppers_intention.csv: what a visitor did in one visit, and whether it
// ended in a purchase.
type session struct {
	views     [3]float64 // administrative, informational, product pages
	seconds   [3]float64
	pageValue float64 // the shop's value of the pages seen, which the site knows and passes as an attribute
	returning bool
	bought    bool
}

var pageKinds = [3]string{"admin", "info", "product"}

func loadSessions(t testing.TB) []session {
	f, err := os.Open("testdata/online_shoppers_intention.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q", s)
		}
		return v
	}
	var out []session
	for _, r := range rows[1:] {
		out = append(out, session{
			views:     [3]float64{num(r[0]), num(r[2]), num(r[4])},
			seconds:   [3]float64{num(r[1]), num(r[3]), num(r[5])},
			pageValue: num(r[8]), returning: r[15] == "Returning_Visitor", bought: r[17] == "TRUE",
		})
	}
	return out
}

// features are the model's inputs, as the engine sees them: behaviour it kept, transformed.
var features = []rules.Feature{
	{Attr: "views.admin", Transform: rules.TransformLog1p}, {Attr: "views.info", Transform: rules.TransformLog1p},
	{Attr: "views.product", Transform: rules.TransformLog1p}, {Attr: "time.admin", Transform: rules.TransformLog1p},
	{Attr: "time.info", Transform: rules.TransformLog1p}, {Attr: "time.product", Transform: rules.TransformLog1p},
	{Attr: "attr.page_value", Transform: rules.TransformLog1p}, {Attr: "attr.returning", Transform: rules.TransformNone},
}

func (s session) x() []float64 {
	ret := 0.0
	if s.returning {
		ret = 1
	}
	return []float64{math.Log1p(s.views[0]), math.Log1p(s.views[1]), math.Log1p(s.views[2]),
		math.Log1p(s.seconds[0]), math.Log1p(s.seconds[1]), math.Log1p(s.seconds[2]), math.Log1p(s.pageValue), ret}
}

// fitLogistic fits weights by Newton's method (iteratively reweighted least squares), with a small ridge
// so the system stays well posed. Plain textbook logistic regression: nothing the server could not do
// with the sums it is allowed to keep.
func fitLogistic(train []session) (bias float64, w []float64) {
	k := len(features) + 1
	beta := make([]float64, k)
	for iter := 0; iter < 25; iter++ {
		grad := make([]float64, k)
		hess := make([][]float64, k)
		for i := range hess {
			hess[i] = make([]float64, k)
			hess[i][i] = 1e-6
		}
		for _, s := range train {
			x := append([]float64{1}, s.x()...)
			z := 0.0
			for i := range x {
				z += beta[i] * x[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if s.bought {
				y = 1
			}
			for i := range x {
				grad[i] += (y - p) * x[i]
				for j := range x {
					hess[i][j] += p * (1 - p) * x[i] * x[j]
				}
			}
		}
		step := solve(hess, grad)
		for i := range beta {
			beta[i] += step[i]
		}
	}
	return beta[0], beta[1:]
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p], b[c], b[p] = a[p], a[c], b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x
}

// auc is the area under the ROC curve: the chance that a random buyer scores above a random non-buyer.
func auc(scores []float64, bought []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ties share their average rank
		for k := i; k < j; k++ {
			if bought[idx[k]] {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := float64(len(scores)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// replay feeds one session to an engine as the page views and visible time a browser would report, and
// returns the model's probability as the engine exports it.
func replay(t testing.TB, e *host.Engine, s session, now int64) float64 {
	if err := e.Forget("shop-visitor", now); err != nil {
		t.Fatal(err)
	}
	declare := func(name, value string) {
		if err := e.Event(abi.Event{Kind: abi.EventDeclare, Now: now, Name: name, Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	declare("page_value", strconv.FormatFloat(s.pageValue, 'g', -1, 64))
	if s.returning {
		declare("returning", "1")
	}
	for k, cat := range pageKinds {
		n := int(s.views[k])
		for v := 0; v < n; v++ {
			now += 1000
			if err := e.Event(abi.Event{Kind: abi.EventPageView, Now: now, Category: cat}); err != nil {
				t.Fatal(err)
			}
		}
		if secs := s.seconds[k]; secs > 0 {
			if err := e.Event(abi.Event{Kind: abi.EventTime, Now: now, Category: cat, Seconds: secs}); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := e.Export(now)
	if err != nil {
		t.Fatal(err)
	}
	var x struct{ Models map[string]float64 }
	if err := json.Unmarshal(out, &x); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out)
	}
	return x.Models["buy"]
}

// The conversion model on real sessions: fitted on 80% of them, put in a rule set, and run on the device
// for the other 20%. The engine's probabilities must equal the native computation to 1e-9.
func TestShopSessionsAUC(t *testing.T) {
	sessions := loadSessions(t)
	var train, test []session
	for i, s := range sessions {
		if i%5 == 0 {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	bias, w := fitLogistic(train)
	model := rules.Model{ID: "buy", Bias: bias}
	for i, f := range features {
		f.Weight = w[i]
		model.Features = append(model.Features, f)
	}
	rs := rules.RuleSet{Models: []rules.Model{model}, Goals: []rules.Goal{{ID: "purchase"}},
		Segments: []rules.Segment{{ID: "hot", When: &rules.Cond{Attr: "model.buy", Op: "gte", Value: 0.7}}}}
	if _, err := rules.Compile(&rs); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	if err := e.LoadRules(rules.Encode(&rs)); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(abi.Restore{Seed: "shop", Now: 1}); err != nil {
		t.Fatal(err)
	}
	var engineP, nativeP []float64
	var bought []bool
	worst := 0.0
	for i, s := range test {
		p := replay(t, e, s, int64(i)*86400000)
		z := bias
		for j, x := range s.x() {
			z += w[j] * x
		}
		q := 1 / (1 + math.Exp(-z))
		worst = math.Max(worst, math.Abs(p-q))
		engineP, nativeP, bought = append(engineP, p), append(nativeP, q), append(bought, s.bought)
	}
	if worst > 1e-9 {
		t.Errorf("engine and native probabilities differ by up to %g", worst)
	}
	a, an := auc(engineP, bought), auc(nativeP, bought)
	t.Logf("held-out sessions %d, AUC on the device %.4f (native %.4f); largest difference %.2g", len(test), a, an, worst)
	// A model that ranks no better than chance would be a broken pipeline, whatever the data.
	if a < 0.8 {
		t.Errorf("AUC %.4f: the model does not rank buyers above the rest", a)
	}
}

func TestAUCKnownValues(t *testing.T) {
	if got := auc([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}); got != 0.75 {
		t.Errorf("auc = %v, want 0.75", got)
	}
	if got := auc([]float64{0.5, 0.5}, []bool{false, true}); got != 0.5 {
		t.Errorf("ties: auc = %v, want 0.5", got)
	}
}
