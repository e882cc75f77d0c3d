package server

import "errors"

var (
	// ErrRulesJSON is returned by ParseRules for bytes that do not decode into a rule set: not JSON, a field
	// of the wrong type, an unknown field, or trailing data. The API answers it with 400.
	ErrRulesJSON = errors.New("server: rule set does not decode")
	// ErrNoVersion is returned by Rollback for a version the store does not hold. The API answers it with 404.
	ErrNoVersion = errors.New("server: no such rule-set version")
	// ErrShuttingDown is returned by Push and Rollback once the server has begun to shut down.
	ErrShuttingDown = errors.New("server: shutting down")
)
