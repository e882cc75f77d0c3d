// Package bucket assigns visitors to buckets from a seed that never leaves their device. It uses integers
// only (FNV-1a over the bytes, then a 64-bit finaliser), so Go, wasm and any other runtime agree exactly.
package bucket

import "strconv"

// Buckets is the number of buckets: shares are written in basis points.
const Buckets = 10000

// Salts keep the holdout draw and the variant draw independent of each other.
const (
	SaltHoldout = "holdout"
	SaltVariant = "variant"
)

// Hash64 hashes the parts, separated by a 0x1f byte so that ("ab","c") and ("a","bc") differ.
func Hash64(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for i, p := range parts {
		if i > 0 {
			h ^= 0x1f
			h *= 1099511628211
		}
		for j := 0; j < len(p); j++ {
			h ^= uint64(p[j])
			h *= 1099511628211
		}
	}
	// FNV-1a alone mixes the last bytes poorly; the murmur3 finaliser spreads every bit.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Of returns the visitor's bucket, 0 to Buckets-1, for one draw: salt names the draw, scope what it is
// for (a slot id, or "*" for the whole rule set), version the scope's bucket version.
func Of(seed, salt, scope string, version int) uint32 {
	return uint32(Hash64(seed, salt, scope, strconv.Itoa(version)) % Buckets)
}

// In reports whether the visitor's bucket falls within a share of basis points.
func In(seed, salt, scope string, version int, shareBP uint32) bool {
	return Of(seed, salt, scope, version) < shareBP
}
