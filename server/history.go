package server

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	json "github.com/goccy/go-json"

	"github.com/tailor/tailor/shared/rules"
)

// Change is one difference between a version and the one before it: an item of a section (a slot, a
// segment, ...) added, removed or changed, or a top-level setting changed.
type Change struct {
	Section string `json:"section"` // "slots", "segments", ..., or "settings"
	ID      string `json:"id"`      // the item's id, or the setting's JSON name
	Change  string `json:"change"`  // "added", "removed" or "changed"
}

// HistoryEntry is a version with what changed from the version before it.
type HistoryEntry struct {
	versionInfo
	Changes []Change `json:"changes"`
}

// History is the answer of /api/rules/history: every version, newest first, with its changes.
type History struct {
	Versions []HistoryEntry `json:"versions"`
}

// History lists the stored versions with what each changed. It compares the sets as pushed (their JSON),
// item by item by id, so a reordering of a section is not reported as a change.
func (s *Server) History() (*History, error) {
	vs, err := s.store.Versions()
	if err != nil {
		return nil, err
	}
	h := &History{Versions: make([]HistoryEntry, 0, len(vs))}
	var prev *flatSet
	for _, v := range vs {
		cur, err := flatten(v.JSON)
		if err != nil {
			return nil, fmt.Errorf("server: stored version %d: %w", v.Number, err)
		}
		h.Versions = append(h.Versions, HistoryEntry{versionInfo: s.info(v), Changes: diffSets(prev, cur)})
		prev = cur
	}
	slices.Reverse(h.Versions)
	return h, nil
}

// sections are the rule set's id-keyed lists, in the order changes are reported.
var sections = []string{"preferences", "goals", "segments", "models", "slots", "triggers"}

// flatSet is a rule set as canonical JSON per setting and per item, for comparing.
type flatSet struct {
	settings map[string][]byte
	items    map[string]map[string][]byte // section -> id -> item
	order    map[string][]string          // section -> ids in the set's order
}

func flatten(js []byte) (*flatSet, error) {
	var rs rules.RuleSet
	if err := json.Unmarshal(js, &rs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRulesJSON, err)
	}
	f := &flatSet{settings: map[string][]byte{}, items: map[string]map[string][]byte{}, order: map[string][]string{}}
	add := func(section, id string, item any) error {
		b, err := json.Marshal(item)
		if err != nil {
			return err
		}
		if f.items[section] == nil {
			f.items[section] = map[string][]byte{}
		}
		f.items[section][id] = b
		f.order[section] = append(f.order[section], id)
		return nil
	}
	var err error
	for i := range rs.Preferences {
		err = firstErr(err, add("preferences", rs.Preferences[i].ID, rs.Preferences[i]))
	}
	for i := range rs.Goals {
		err = firstErr(err, add("goals", rs.Goals[i].ID, rs.Goals[i]))
	}
	for i := range rs.Segments {
		err = firstErr(err, add("segments", rs.Segments[i].ID, rs.Segments[i]))
	}
	for i := range rs.Models {
		err = firstErr(err, add("models", rs.Models[i].ID, rs.Models[i]))
	}
	for i := range rs.Slots {
		err = firstErr(err, add("slots", rs.Slots[i].ID, rs.Slots[i]))
	}
	for i := range rs.Triggers {
		err = firstErr(err, add("triggers", rs.Triggers[i].ID, rs.Triggers[i]))
	}
	if err != nil {
		return nil, err
	}
	// What is left once the sections are gone is the settings; Version and Hash are the server's, not the
	// operator's, and are never in what was pushed that matters.
	rs.Preferences, rs.Goals, rs.Segments, rs.Models, rs.Slots, rs.Triggers = nil, nil, nil, nil, nil, nil
	rs.Version, rs.Hash = 0, ""
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	var settings map[string]json.RawMessage
	if err := json.Unmarshal(b, &settings); err != nil {
		return nil, err
	}
	for k, v := range settings {
		f.settings[k] = v
	}
	return f, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// diffSets lists what changed from prev to cur. With prev nil (the first version) every item is added and
// settings are not listed: there is nothing they changed from.
func diffSets(prev, cur *flatSet) []Change {
	if prev == nil {
		prev = &flatSet{settings: cur.settings, items: map[string]map[string][]byte{}, order: map[string][]string{}}
	}
	out := []Change{}
	var names []string
	for k := range prev.settings {
		names = append(names, k)
	}
	for k := range cur.settings {
		if _, ok := prev.settings[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if !bytes.Equal(prev.settings[k], cur.settings[k]) {
			out = append(out, Change{Section: "settings", ID: k, Change: "changed"})
		}
	}
	for _, sec := range sections {
		for _, id := range cur.order[sec] {
			old, ok := prev.items[sec][id]
			switch {
			case !ok:
				out = append(out, Change{Section: sec, ID: id, Change: "added"})
			case !bytes.Equal(old, cur.items[sec][id]):
				out = append(out, Change{Section: sec, ID: id, Change: "changed"})
			}
		}
		for _, id := range prev.order[sec] {
			if _, ok := cur.items[sec][id]; !ok {
				out = append(out, Change{Section: sec, ID: id, Change: "removed"})
			}
		}
	}
	return out
}
