package analysis

import (
	"errors"
	"fmt"
)

// SRMThreshold: a sample-ratio mismatch is flagged when the goodness-of-fit p-value is under it. It is much
// stricter than 0.05 because the check runs on every slot at every refresh, and a false alarm tells the
// operator to distrust a slot's results.
const SRMThreshold = 0.001

// Rate is a conversion rate with its 95% Wilson interval.
type Rate struct {
	N    uint64   `json:"n"` // exposures
	X    uint64   `json:"x"` // conversions
	Rate float64  `json:"rate"`
	CI   Interval `json:"ci"`
}

// NewRate returns x/n with its 95% Wilson interval.
func NewRate(x, n uint64) (Rate, error) {
	ci, err := Wilson(x, n, Z95)
	if err != nil {
		return Rate{}, err
	}
	return Rate{N: n, X: x, Rate: float64(x) / float64(n), CI: ci}, nil
}

// Uplift is what personalization changed: the personalized arm's rate against the holdout arm's.
type Uplift struct {
	Personalized Rate `json:"personalized"`
	Holdout      Rate `json:"holdout"`
	// Absolute is the difference of the rates, personalized minus holdout, with its 95% Newcombe interval.
	Absolute   float64  `json:"absolute"`
	AbsoluteCI Interval `json:"absolute_ci"`
	// Relative is Absolute over the holdout rate; nil when the holdout rate is 0 and the ratio has no value.
	Relative *float64 `json:"relative,omitempty"`
}

// Compare returns the uplift of the personalized arm (xp of np) over the holdout arm (xh of nh).
func Compare(xp, np, xh, nh uint64) (Uplift, error) {
	p, err := NewRate(xp, np)
	if err != nil {
		return Uplift{}, fmt.Errorf("personalized arm: %w", err)
	}
	h, err := NewRate(xh, nh)
	if err != nil {
		return Uplift{}, fmt.Errorf("holdout arm: %w", err)
	}
	ci, err := Difference(xp, np, xh, nh, Z95)
	if err != nil {
		return Uplift{}, err // both rates exist, so this cannot happen; kept so a change cannot hide one
	}
	u := Uplift{Personalized: p, Holdout: h, Absolute: p.Rate - h.Rate, AbsoluteCI: ci}
	if h.Rate > 0 {
		rel := u.Absolute / h.Rate
		u.Relative = &rel
	}
	return u, nil
}

// SRM is the sample-ratio-mismatch check of a slot: did the arms get the share of exposures the rule set
// asked for? A mismatch means the assignment or the counting is broken (a cached page, a bot, a bucketing
// bug), and the slot's uplift cannot be trusted whatever its interval says.
type SRM struct {
	HoldoutShare  float64 `json:"holdout_share"`  // configured
	ObservedShare float64 `json:"observed_share"` // holdout exposures over all exposures
	ChiSquare     float64 `json:"chi_square"`
	P             float64 `json:"p"`
	Mismatch      bool    `json:"mismatch"` // P < SRMThreshold
}

// SampleRatio tests personalized and holdout exposure counts against the configured holdout share with
// Pearson's goodness of fit (one degree of freedom). It returns ErrShare when the share is not strictly
// between 0 and 1 (no holdout, or nothing but holdout: there is no split to test) and ErrNoTrials when both
// counts are zero.
func SampleRatio(personalized, holdout uint64, holdoutShare float64) (SRM, error) {
	if !(holdoutShare > 0 && holdoutShare < 1) {
		return SRM{}, fmt.Errorf("%w: %v", ErrShare, holdoutShare)
	}
	chi2, err := ChiSquare([]uint64{personalized, holdout}, []float64{1 - holdoutShare, holdoutShare})
	if errors.Is(err, ErrNoTrials) {
		return SRM{}, fmt.Errorf("%w: no exposures in either arm", ErrNoTrials)
	}
	if err != nil {
		return SRM{}, err
	}
	p := PValue1(chi2)
	return SRM{
		HoldoutShare:  holdoutShare,
		ObservedShare: float64(holdout) / float64(personalized+holdout),
		ChiSquare:     chi2,
		P:             p,
		Mismatch:      p < SRMThreshold,
	}, nil
}
