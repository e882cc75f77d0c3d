// Package store keeps what the Tailor server must not lose: the rule-set versions operators pushed, the
// sums of the counts browsers sent, and the ids of the batches already counted.
//
// Store is the interface the server uses; Bolt is the embedded implementation (one bbolt file). A store
// shared by several servers (Redis) would implement the same interface.
package store

import "time"

// Version is one rule-set version.
type Version struct {
	Number  uint64    `json:"version"`
	Hash    string    `json:"hash"` // rules.ContentHash of Compact
	Created time.Time `json:"created"`
	// From is the version this one re-publishes after a rollback; 0 for a push.
	From uint64 `json:"from,omitempty"`
	// JSON is the rule set as the operator pushed it.
	JSON []byte `json:"json"`
	// Compact is rules.Encode of the set with Version = Number and Hash set: what browsers receive.
	Compact []byte `json:"compact"`
}

// Add is one increment of a batch: N added to counter Key in report window Window (Unix hours).
type Add struct {
	Key    string
	Window uint32
	N      uint64
}

// Sum is the total of a counter in one report window.
type Sum struct {
	Key    string
	Window uint32
	N      uint64
}

// Store keeps versions and counts durably. Its methods are safe for concurrent use.
type Store interface {
	// AppendVersion stores v; v.Number must be one more than the latest version (1 for the first), else
	// ErrVersionConflict. It returns once v is durable.
	AppendVersion(v *Version) error
	// Version returns version n, or ErrNotFound.
	Version(n uint64) (*Version, error)
	// Versions returns every version, oldest first.
	Versions() ([]*Version, error)
	// AddBatch adds a batch's increments and remembers its id, in one durable step. When the id was stored
	// already it adds nothing and reports dup.
	AddBatch(id uint64, adds []Add) (dup bool, err error)
	// Sums returns every counter's total per window, by key then window.
	Sums() ([]Sum, error)
	// PruneBatches forgets the ids of batches counted before t and says how many it forgot.
	PruneBatches(t time.Time) (int, error)
	// Close releases the store.
	Close() error
}
