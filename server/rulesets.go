package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	json "github.com/goccy/go-json"

	"github.com/tailor/tailor/server/store"
	"github.com/tailor/tailor/shared/rules"
)

// MaxRulesJSON bounds a pushed rule set's JSON. rules.MaxItems already bounds what a set may hold; this stops
// a body from costing memory before that check runs.
const MaxRulesJSON = 4 << 20

// ParseRules decodes an operator's rule-set JSON (unknown fields refused) and validates it with the same
// code the engine runs. A set that does not decode returns an error wrapping ErrRulesJSON; one that does not
// validate returns rules.Problems, every problem with its path. `tailor validate` and the API both use it,
// so they report the same errors.
func ParseRules(b []byte) (*rules.RuleSet, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrRulesJSON)
	}
	if len(b) > MaxRulesJSON {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrRulesJSON, MaxRulesJSON)
	}
	rs := &rules.RuleSet{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rs); err != nil {
		return nil, fmt.Errorf("%w: %s%w", ErrRulesJSON, where(b, err), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the rule set", ErrRulesJSON)
	}
	if _, err := rules.Compile(rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// where names the line and column of a JSON error that knows its byte offset, for people editing a file.
func where(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return ""
	}
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d: ", line, col)
}

// problemsOf returns the problems an error from ParseRules carries, as the API reports them.
func problemsOf(err error) rules.Problems {
	var ps rules.Problems
	if errors.As(err, &ps) {
		return ps
	}
	return rules.Problems{{Msg: err.Error()}}
}

// Push validates an operator's rule-set JSON and publishes it as the next version. When its content equals
// the live set, nothing changes and changed is false.
func (s *Server) Push(js []byte) (v *store.Version, changed bool, err error) {
	rs, err := ParseRules(js)
	if err != nil {
		return nil, false, err
	}
	return s.publish(rs, js, 0)
}

// Rollback re-publishes an earlier version's rules as a new version. A new number rather than moving "live"
// back keeps version numbers growing, so a number a browser holds always names one content, and deltas and
// the store stay append-only.
func (s *Server) Rollback(n uint64) (v *store.Version, changed bool, err error) {
	old, err := s.store.Version(n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("%w: %d", ErrNoVersion, n)
	}
	if err != nil {
		return nil, false, err
	}
	rs, err := rules.Decode(old.Compact)
	if err != nil {
		return nil, false, fmt.Errorf("server: version %d does not decode: %w", n, err)
	}
	return s.publish(rs, old.JSON, n)
}

// publish gives a validated set the next version number and its hash, makes it durable, then pushes it.
// Pushes are serialised so numbers never collide.
func (s *Server) publish(rs *rules.RuleSet, js []byte, from uint64) (*store.Version, bool, error) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	if s.draining.Load() {
		return nil, false, ErrShuttingDown
	}
	live := s.live.Load()
	rs.Version, rs.Hash = 0, ""
	hash := rules.ContentHash(rules.Encode(rs))
	if live != nil && live.v.Hash == hash {
		return live.v, false, nil
	}
	var next uint64 = 1
	if live != nil {
		next = live.v.Number + 1
	}
	rs.Version, rs.Hash = next, hash
	v := &store.Version{Number: next, Hash: hash, Created: time.Now().UTC(), From: from, JSON: js, Compact: rules.Encode(rs)}
	if err := s.store.AppendVersion(v); err != nil {
		return nil, false, err
	}
	s.install(v, rs)
	clients, n := s.hub.Publish(v.Number, v.Hash, v.Compact)
	s.metrics.pushes.Add(1)
	s.log.Info("rule set published", "version", v.Number, "hash", v.Hash, "from", from, "clients", clients, "bytes", n)
	return v, true, nil
}

// liveSet is the live version with what the server derives from it.
type liveSet struct {
	v *store.Version
	k int // the set's k (default 10), raised to Config.K
}

// install makes v the live version for the API and the known ids; the hub is told separately.
func (s *Server) install(v *store.Version, rs *rules.RuleSet) {
	s.known.add(rs)
	k := rs.K
	if k <= 0 {
		k = 10
	}
	s.live.Store(&liveSet{v: v, k: max(k, s.cfg.K)})
}

// loadVersions reads the stored versions at startup: every one adds to the known ids (browsers may still
// count against an old set), the last few are kept for deltas, the last is live.
func (s *Server) loadVersions() error {
	vs, err := s.store.Versions()
	if err != nil {
		return err
	}
	for i, v := range vs {
		rs, err := rules.Decode(v.Compact)
		if err != nil {
			return fmt.Errorf("server: stored version %d does not decode: %w", v.Number, err)
		}
		s.install(v, rs)
		if i >= len(vs)-s.cfg.KeepVersions {
			s.hub.Load(v.Number, v.Hash, v.Compact)
		}
	}
	if len(vs) > 0 {
		s.log.Info("rule sets loaded", "versions", len(vs), "live", vs[len(vs)-1].Number)
	}
	return nil
}

// pushDemo publishes the demo rule set when the store holds none.
func (s *Server) pushDemo() error {
	if s.live.Load() != nil {
		return nil
	}
	v, _, err := s.Push(s.cfg.DemoRules)
	if err != nil {
		return fmt.Errorf("server: demo rule set: %w", err)
	}
	s.log.Info("demo rule set pushed", "version", v.Number)
	return nil
}
