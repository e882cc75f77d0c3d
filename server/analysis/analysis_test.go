package analysis

import (
	"errors"
	"math"
	"testing"
)

// Every expected figure below is a published one, written with its source. Where no published figure was
// found, the test computes the value a second, independent way and says so.

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

func TestWilsonPublished(t *testing.T) {
	tests := []struct {
		name      string
		x, n      uint64
		z         float64
		low, high float64
		tol       float64
	}{
		// Newcombe RG (1998a), "Two-sided confidence intervals for the single proportion: comparison of seven
		// methods", Statistics in Medicine 17:857-872, Table I, method 3 (score, no continuity correction):
		// 81/263 -> 0.2553 to 0.3662 (four decimals, so ±5e-5).
		{"Newcombe 1998a 81/263", 81, 263, Z95, 0.2553, 0.3662, 5e-5},
		// "Compute the Wilson score interval", codegolf.stackexchange.com/questions/105389, test cases with
		// z = 1.96 exactly, printed to double precision ("n_s, n_f => lower, upper").
		{"codegolf 0,1", 0, 1, 1.96, 0.0, 0.7934567085261071, 1e-12},
		{"codegolf 1,0", 1, 1, 1.96, 0.20654329147389294, 1.0, 1e-12},
		{"codegolf 1,10", 1, 11, 1.96, 0.016231752262825982, 0.3773646254862038, 1e-12},
		{"codegolf 10,90", 10, 100, 1.96, 0.05522854161313612, 0.1743673043676654, 1e-12},
		{"codegolf 25,75", 25, 100, 1.96, 0.17545094003724265, 0.3430464637007583, 1e-12},
		{"codegolf 50,50", 50, 100, 1.96, 0.40382982859014716, 0.5961701714098528, 1e-12},
		{"codegolf 0,100", 0, 100, 1.96, 0.0, 0.03699480747600191, 1e-12},
		{"codegolf 100,0", 100, 100, 1.96, 0.9630051925239981, 1.0, 1e-12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := Wilson(tt.x, tt.n, tt.z)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "low", iv.Low, tt.low, tt.tol)
			near(t, "high", iv.High, tt.high, tt.tol)
		})
	}
}

func TestDifferencePublished(t *testing.T) {
	// Newcombe RG (1998b), "Interval estimation for the difference between independent proportions:
	// comparison of eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score,
	// no continuity correction), to four decimals. The same figures are checked by the R package propint
	// (m-Py/propint, tests of ci.two.indep.props), whose README prints the first to seven digits with R's
	// qnorm(0.975): 0.05243147 to 0.3338727.
	tests := []struct {
		name           string
		x1, n1, x2, n2 uint64
		low, high, tol float64
	}{
		{"56/70 - 48/80", 56, 70, 48, 80, 0.0524, 0.3339, 5e-5},
		{"56/70 - 48/80, propint digits", 56, 70, 48, 80, 0.05243147, 0.3338727, 5e-8},
		{"9/10 - 3/10", 9, 10, 3, 10, 0.1705, 0.8090, 5e-5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := Difference(tt.x1, tt.n1, tt.x2, tt.n2, Z95)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "low", iv.Low, tt.low, tt.tol)
			near(t, "high", iv.High, tt.high, tt.tol)
		})
	}
}

func TestChiSquarePublished(t *testing.T) {
	tests := []struct {
		name      string
		observed  []uint64
		shares    []float64
		chi2, tol float64
	}{
		// r-statistics.co, "Chi-Square Goodness-of-Fit Test in R": 58 heads, 42 tails against a fair coin,
		// X-squared = 2.56.
		{"58/42 against 1:1", []uint64{58, 42}, []float64{0.5, 0.5}, 2.56, 1e-12},
		// environmentalcomputing.net, "Goodness of fit tests": 60 women, 40 men against 1:1, (60-50)²/50 +
		// (40-50)²/50 = 4.
		{"60/40 against 1:1", []uint64{60, 40}, []float64{0.5, 0.5}, 4, 1e-12},
		// Mendel's F2 seed colour as worked on partnerperformance.uonbi.ac.ke/preguntia/14549048: 5920 yellow,
		// 2103 green against 3:1, χ² = 1.57 + 4.72 = 6.29 (two decimals).
		{"5920/2103 against 3:1", []uint64{5920, 2103}, []float64{0.75, 0.25}, 6.29, 5e-3},
		// Four categories: statulator.com's goodness-of-fit help prints χ² = 3.14 for births per quarter 110,
		// 95, 88, 107 against equal shares, but its own terms add up to (10² + 5² + 12² + 7²) / 100 = 3.18, the
		// value checked here (computed by hand, not taken from the page).
		{"four categories by hand", []uint64{110, 95, 88, 107}, []float64{0.25, 0.25, 0.25, 0.25}, 3.18, 1e-12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChiSquare(tt.observed, tt.shares)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "chi2", got, tt.chi2, tt.tol)
		})
	}
}

func TestPValue1Published(t *testing.T) {
	tests := []struct {
		name         string
		chi2, p, tol float64
	}{
		// r-statistics.co (as above): X-squared = 2.56, p = 0.11.
		{"coin 58/42", 2.56, 0.11, 5e-3},
		// R's prop.test output quoted in the Cross Validated question "How does one calculate the p value for a
		// two-tailed chi-square test with degree freedom of 1?": X-squared = 0.22922, df = 1, p-value = 0.6321.
		{"prop.test", 0.22922, 0.6321, 5e-5},
		// The critical values of χ² with one degree of freedom in every table (e.g. mun.ca biology, "The
		// single-classification Chi-square test"): 3.84 at p = 0.05 and 6.635 at p = 0.01.
		{"critical 0.05", 3.841459, 0.05, 1e-6},
		{"critical 0.01", 6.634897, 0.01, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			near(t, "p", PValue1(tt.chi2), tt.p, tt.tol)
		})
	}
}

// upperTailByQuadrature is P(χ²(1) > c) computed without erfc: 2·∫ φ(z) dz from √c to √c + 40 by composite
// Simpson's rule on the standard normal density. It is the second, independent way for figures that have
// no published p-value.
func upperTailByQuadrature(c float64) float64 {
	a, b := math.Sqrt(c), math.Sqrt(c)+40
	const steps = 200000
	h := (b - a) / steps
	phi := func(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
	sum := phi(a) + phi(b)
	for i := 1; i < steps; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * phi(a+float64(i)*h)
	}
	return 2 * sum * h / 3
}

func TestPValue1AgreesWithQuadrature(t *testing.T) {
	// No published p-value was found for Mendel's 6.29 (above) or for the SRM threshold; both ways must agree.
	for _, c := range []float64{0.01, 0.5, 2.56, 6.29, 10.8275662, 25, 60} {
		near(t, "p", PValue1(c), upperTailByQuadrature(c), 1e-9*PValue1(c)+1e-15)
	}
	// 10.828 is the tabled χ²(1) critical value at p = 0.001, the SRM threshold.
	near(t, "p at 10.8276", PValue1(10.8275662), SRMThreshold, 1e-8)
}

func TestSampleRatio(t *testing.T) {
	// A 10% holdout that got 10% of 10 000 exposures: no mismatch, p = 1.
	s, err := SampleRatio(9000, 1000, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mismatch || s.ChiSquare != 0 || s.P != 1 || s.ObservedShare != 0.1 {
		t.Errorf("exact split: %+v", s)
	}
	// 9000 against 1200 of 10 200: expected 9180 and 1020, χ² = 180²/9180 + 180²/1020, far past the threshold.
	s, err = SampleRatio(9000, 1200, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "chi2", s.ChiSquare, 180.0*180/9180+180.0*180/1020, 1e-9)
	if !s.Mismatch || s.P >= SRMThreshold {
		t.Errorf("9000/1200 at 10%%: %+v", s)
	}
	// The 60/40 split of 100 against 1:1 (χ² = 4, p ≈ 0.0455) is unlikely but no mismatch at 0.001.
	s, _ = SampleRatio(60, 40, 0.5)
	if s.Mismatch {
		t.Errorf("60/40 flagged: %+v", s)
	}
	for _, share := range []float64{0, 1, -0.1, math.NaN()} {
		if _, err := SampleRatio(10, 10, share); !errors.Is(err, ErrShare) {
			t.Errorf("share %v: %v", share, err)
		}
	}
	if _, err := SampleRatio(0, 0, 0.1); !errors.Is(err, ErrNoTrials) {
		t.Errorf("no exposures: %v", err)
	}
}

func TestCompare(t *testing.T) {
	// Newcombe's first example read as personalized 56/70 against holdout 48/80.
	u, err := Compare(56, 70, 48, 80)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "absolute", u.Absolute, 0.2, 1e-12)
	near(t, "ci low", u.AbsoluteCI.Low, 0.0524, 5e-5)
	near(t, "ci high", u.AbsoluteCI.High, 0.3339, 5e-5)
	if u.Relative == nil {
		t.Fatal("no relative uplift")
	}
	near(t, "relative", *u.Relative, 0.2/0.6, 1e-12)
	// Each arm's interval is its own Wilson interval.
	w, _ := Wilson(48, 80, Z95)
	if u.Holdout.CI != w || u.Holdout.N != 80 || u.Holdout.X != 48 {
		t.Errorf("holdout %+v, want interval %+v", u.Holdout, w)
	}
	// A holdout without conversions: the relative uplift has no value, the absolute one does.
	u, err = Compare(5, 50, 0, 50)
	if err != nil || u.Relative != nil || u.Absolute != 0.1 {
		t.Errorf("zero holdout rate: %+v, %v", u, err)
	}
}

func TestErrorsNameWhatWasWrong(t *testing.T) {
	if _, err := Wilson(0, 0, Z95); !errors.Is(err, ErrNoTrials) {
		t.Errorf("0 of 0: %v", err)
	}
	if _, err := Wilson(3, 2, Z95); !errors.Is(err, ErrTooManySuccesses) || err.Error() != "analysis: more successes than trials: 3 of 2" {
		t.Errorf("3 of 2: %v", err)
	}
	if _, err := Compare(1, 10, 3, 2); !errors.Is(err, ErrTooManySuccesses) || err.Error()[:12] != "holdout arm:" {
		t.Errorf("holdout 3 of 2: %v", err)
	}
	if _, err := ChiSquare([]uint64{1, 2}, []float64{0.5}); !errors.Is(err, ErrCategories) {
		t.Errorf("lengths: %v", err)
	}
	if _, err := ChiSquare([]uint64{1, 2}, []float64{0.5, 0.6}); !errors.Is(err, ErrCategories) {
		t.Errorf("sum: %v", err)
	}
	if got, _ := ChiSquare([]uint64{1, 2}, []float64{1, 0}); !math.IsInf(got, 1) {
		t.Errorf("observation in a zero-share category: %v", got)
	}
}

func TestIntervalsStayInRange(t *testing.T) {
	// Bounds at the edges are exact, never a rounding error outside [0, 1] or [-1, 1].
	for n := uint64(1); n <= 60; n++ {
		for x := uint64(0); x <= n; x++ {
			w, err := Wilson(x, n, Z95)
			p := float64(x) / float64(n)
			if err != nil || w.Low < 0 || w.High > 1 || w.Low > p || w.High < p {
				t.Fatalf("Wilson(%d, %d) = %+v, %v", x, n, w, err)
			}
			d, err := Difference(x, n, n-x, n, Z95)
			diff := p - float64(n-x)/float64(n)
			if err != nil || d.Low < -1-1e-12 || d.High > 1+1e-12 || d.Low > diff || d.High < diff {
				t.Fatalf("Difference(%d/%d - %d/%d) = %+v, %v", x, n, n-x, n, d, err)
			}
		}
	}
}
