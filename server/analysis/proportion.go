// Package analysis holds the statistics the operator dashboard shows, computed from stored sums only: the
// server never has anything else (no visitor, no event), so every formula here takes counts.
//
//   - Wilson: a 95% interval for one conversion rate (Wilson 1927), good at small counts and rates near 0.
//   - Difference: the interval for a difference of two independent rates, Newcombe's hybrid score method
//     (method 10 of Newcombe 1998), built from the two Wilson intervals.
//   - ChiSquare and SampleRatio: Pearson's goodness-of-fit test of the observed split between arms against
//     the configured holdout share, the sample-ratio-mismatch check.
//
// Standard library only, so the formulas stay small enough to read against their papers.
package analysis

import (
	"fmt"
	"math"
)

// Z95 is the standard normal quantile for a two-sided 95% interval, Φ⁻¹(0.975). Papers that round it to
// 1.96 agree with it to four decimals on their worked examples.
const Z95 = 1.959963984540054

// Interval is a confidence interval [Low, High].
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Wilson returns the Wilson score interval for x successes in n trials at normal quantile z:
//
//	(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),  p = x/n
//
// It returns ErrNoTrials for n = 0 and ErrTooManySuccesses for x > n.
func Wilson(x, n uint64, z float64) (Interval, error) {
	if n == 0 {
		return Interval{}, ErrNoTrials
	}
	if x > n {
		return Interval{}, fmt.Errorf("%w: %d of %d", ErrTooManySuccesses, x, n)
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	iv := Interval{Low: center - half, High: center + half}
	// At x = 0 and x = n the bound is exactly 0 or 1; rounding would leave it a hair outside [0, 1].
	if x == 0 {
		iv.Low = 0
	}
	if x == n {
		iv.High = 1
	}
	return iv, nil
}

// Difference returns the 95%-style interval (at quantile z) for p1 − p2, with p1 = x1/n1 and p2 = x2/n2 from
// independent samples, by Newcombe's hybrid score method (1998, method 10). With [l1, u1] and [l2, u2] the
// Wilson intervals of p1 and p2, and d = p1 − p2:
//
//	low  = d − √((p1 − l1)² + (u2 − p2)²)
//	high = d + √((u1 − p1)² + (p2 − l2)²)
//
// Each bound combines the two sides of the Wilson intervals that push d that way, so the interval is
// asymmetric where a rate is near 0 or 1, as it should be, and never leaves [−1, 1].
func Difference(x1, n1, x2, n2 uint64, z float64) (Interval, error) {
	w1, err := Wilson(x1, n1, z)
	if err != nil {
		return Interval{}, fmt.Errorf("first sample: %w", err)
	}
	w2, err := Wilson(x2, n2, z)
	if err != nil {
		return Interval{}, fmt.Errorf("second sample: %w", err)
	}
	p1 := float64(x1) / float64(n1)
	p2 := float64(x2) / float64(n2)
	d := p1 - p2
	return Interval{
		Low:  d - math.Hypot(p1-w1.Low, w2.High-p2),
		High: d + math.Hypot(w1.High-p1, p2-w2.Low),
	}, nil
}
