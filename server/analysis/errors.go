package analysis

import "errors"

var (
	// ErrNoTrials is returned for a proportion over zero trials: no rate, and so no interval, exists.
	ErrNoTrials = errors.New("analysis: no trials")
	// ErrTooManySuccesses is returned when a count of successes exceeds its trials. With Tailor's counts this
	// happens when conversions were counted in a report window other than the exposure's.
	ErrTooManySuccesses = errors.New("analysis: more successes than trials")
	// ErrShare is returned for an expected share outside the open interval (0, 1): a goodness-of-fit test
	// against a share of 0 or 1 has an expected count of zero and no statistic.
	ErrShare = errors.New("analysis: expected share must be strictly between 0 and 1")
	// ErrCategories is returned by ChiSquare for observed counts and expected shares of different lengths,
	// fewer than two categories, or shares that are negative or do not add up to 1.
	ErrCategories = errors.New("analysis: observed counts and expected shares do not match")
)
