package store

import "errors"

var (
	// ErrNotFound is returned by Version for a version the store does not hold.
	ErrNotFound = errors.New("store: not found")
	// ErrVersionConflict is returned by AppendVersion when the version number is not the next one (another
	// writer appended first).
	ErrVersionConflict = errors.New("store: version is not the next one")
	// ErrCorrupt is returned when stored bytes do not decode.
	ErrCorrupt = errors.New("store: corrupt record")
)
