package bucket

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"testing"
)

// The FNV-1a part is the published algorithm: check it against the standard library's.
func TestHashIsFNV1aThenMixed(t *testing.T) {
	for _, s := range []string{"", "a", "seed-1", "visitor-ä"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		want := fmix64(h.Sum64())
		if got := Hash64(s); got != want {
			t.Errorf("Hash64(%q) = %x, want %x", s, got, want)
		}
	}
	if Hash64("ab", "c") == Hash64("a", "bc") {
		t.Error("parts are not separated")
	}
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Over 100,000 synthetic seeds the shares land where they should: a chi-square goodness-of-fit test on
// ten equal bins (9 degrees of freedom, critical value 27.88 at p = 0.001), and a 10% holdout within
// its own bound (1 degree of freedom, 10.83 at p = 0.001).
func TestSharesOver100kSeeds(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed prefix %d", seed)
	const n = 100000
	var bins [10]int
	holdout := 0
	for i := 0; i < n; i++ {
		s := strconv.FormatUint(seed, 36) + "-" + strconv.Itoa(i)
		bins[Of(s, SaltVariant, "hero|v", 0)/1000]++
		if In(s, SaltHoldout, "hero", 0, 1000) {
			holdout++
		}
	}
	chi := 0.0
	for _, o := range bins {
		d := float64(o) - n/10
		chi += d * d / (n / 10)
	}
	if chi > 27.88 {
		t.Errorf("variant buckets are not uniform: chi-square %.2f over 10 bins %v", chi, bins)
	}
	e1, e0 := float64(n)*0.1, float64(n)*0.9
	d := float64(holdout) - e1
	if c := d*d/e1 + d*d/e0; c > 10.83 {
		t.Errorf("10%% holdout took %d of %d: chi-square %.2f", holdout, n, c)
	}
}

// Holdout and variant draws are independent: being in the holdout says nothing about the variant bucket.
func TestSaltsIndependent(t *testing.T) {
	const n = 40000
	var table [2][2]float64
	for i := 0; i < n; i++ {
		s := "v" + strconv.Itoa(i)
		a, b := 0, 0
		if In(s, SaltHoldout, "hero", 0, 5000) {
			a = 1
		}
		if In(s, SaltVariant, "hero", 0, 5000) {
			b = 1
		}
		table[a][b]++
	}
	chi := 0.0
	for a := 0; a < 2; a++ {
		for b := 0; b < 2; b++ {
			e := (table[a][0] + table[a][1]) * (table[0][b] + table[1][b]) / n
			chi += (table[a][b] - e) * (table[a][b] - e) / e
		}
	}
	if chi > 10.83 {
		t.Errorf("holdout and variant draws are dependent: chi-square %.2f, table %v", chi, table)
	}
}
