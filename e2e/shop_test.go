package e2e

import (
	"math"
	"sort"
	"testing"

	"github.com/tailor/tailor/e2e/bench"
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// fitLogistic fits weights by Newton's method (iteratively reweighted least squares), with a small ridge
// so the system stays well posed. Plain textbook logistic regression: nothing the server could not do
// with the sums it is allowed to keep.
func fitLogistic(train []bench.Session) (bias float64, w []float64) {
	k := len(bench.Features) + 1
	beta := make([]float64, k)
	for iter := 0; iter < 25; iter++ {
		grad := make([]float64, k)
		hess := make([][]float64, k)
		for i := range hess {
			hess[i] = make([]float64, k)
			hess[i][i] = 1e-6
		}
		for _, s := range train {
			x := append([]float64{1}, s.X()...)
			z := 0.0
			for i := range x {
				z += beta[i] * x[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if s.Bought {
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

// The conversion model on real sessions: fitted on 80% of them, put in a rule set, and run on the device
// for the other 20%. The engine's probabilities must equal the native computation to 1e-9.
func TestShopSessionsAUC(t *testing.T) {
	sessions, err := bench.LoadSessions("testdata/online_shoppers_intention.csv")
	if err != nil {
		t.Fatal(err)
	}
	var train, test []bench.Session
	for i, s := range sessions {
		if i%5 == 0 {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	bias, w := fitLogistic(train)
	rs := bench.ShopRules(bias, w)
	if _, err := rules.Compile(rs); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	if err := e.LoadRules(rules.Encode(rs)); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(abi.Restore{Seed: "shop", Now: 1}); err != nil {
		t.Fatal(err)
	}
	var engineP, nativeP []float64
	var bought []bool
	worst := 0.0
	for i, s := range test {
		p, err := bench.Replay(e, s, int64(i)*86400000)
		if err != nil {
			t.Fatal(err)
		}
		z := bias
		for j, x := range s.X() {
			z += w[j] * x
		}
		q := 1 / (1 + math.Exp(-z))
		worst = math.Max(worst, math.Abs(p-q))
		engineP, nativeP, bought = append(engineP, p), append(nativeP, q), append(bought, s.Bought)
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
