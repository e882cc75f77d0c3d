package analysis

import (
	"fmt"
	"math"
)

// ChiSquare returns Pearson's goodness-of-fit statistic Σ (O − E)² / E of observed counts against expected
// shares (E = share × total). The shares must be non-negative and add up to 1 (within 1e-9); a category with
// a zero share must have no observations, or the statistic is +Inf.
func ChiSquare(observed []uint64, shares []float64) (float64, error) {
	if len(observed) != len(shares) || len(observed) < 2 {
		return 0, fmt.Errorf("%w: %d counts, %d shares", ErrCategories, len(observed), len(shares))
	}
	var total uint64
	var sum float64
	for i, s := range shares {
		if s < 0 || math.IsNaN(s) {
			return 0, fmt.Errorf("%w: share %d is %v", ErrCategories, i, s)
		}
		total += observed[i]
		sum += s
	}
	if math.Abs(sum-1) > 1e-9 {
		return 0, fmt.Errorf("%w: the shares add up to %v, not 1", ErrCategories, sum)
	}
	if total == 0 {
		return 0, ErrNoTrials
	}
	var chi2 float64
	for i, o := range observed {
		e := shares[i] * float64(total)
		d := float64(o) - e
		switch {
		case e > 0:
			chi2 += d * d / e
		case o > 0:
			return math.Inf(1), nil
		}
	}
	return chi2, nil
}

// PValue1 is the upper-tail probability of a chi-square statistic with one degree of freedom. A χ²(1) variable
// is the square of a standard normal one, so P(χ² > c) = P(|Z| > √c) = erfc(√(c/2)).
func PValue1(chi2 float64) float64 {
	if chi2 <= 0 {
		return 1
	}
	return math.Erfc(math.Sqrt(chi2 / 2))
}
