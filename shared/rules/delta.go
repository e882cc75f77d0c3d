package rules

import (
	"errors"
	"strconv"

	"github.com/tailor/tailor/shared/bucket"
	"github.com/tailor/tailor/shared/wire"
)

// ErrDelta is returned when a delta does not decode or does not apply.
var ErrDelta = errors.New("rules: delta does not apply")

// collections of a rule set, by their field number in the compact form.
var collections = [...]int{fPreference, fGoal, fSegment, fModel, fSlot, fTrigger}

type element struct {
	id string
	b  []byte // the element's compact encoding
}

// elements splits a compact rule set into its header bytes and its elements per collection.
func elements(b []byte) (header []byte, els map[int][]element, err error) {
	els = map[int][]element{}
	var hw wire.Writer
	r := wire.NewReader(b)
	for r.Next() {
		if !isCollection(r.Field) {
			continue
		}
		body := r.Bytes()
		els[r.Field] = append(els[r.Field], element{id: elementID(body), b: body})
	}
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	// The header is everything that is not an element: re-read it through a RuleSet so it is canonical.
	rs := &RuleSet{}
	r = wire.NewReader(b)
	for r.Next() {
		decodeHeaderField(r, rs)
	}
	encodeHeader(&hw, rs)
	return hw.Bytes(), els, r.Err()
}

func isCollection(field int) bool {
	for _, c := range collections {
		if c == field {
			return true
		}
	}
	return false
}

// elementID reads field 1 (every element's id) of an element.
func elementID(b []byte) string {
	r := wire.NewReader(b)
	for r.Next() {
		if r.Field == 1 && r.Type == wire.TypeBytes {
			return r.String()
		}
	}
	return ""
}

func assemble(header []byte, els map[int][]element) []byte {
	w := wire.Writer{Buf: append([]byte(nil), header...)}
	for _, c := range collections {
		for _, e := range els[c] {
			w.Raw(c, e.b)
		}
	}
	return w.Bytes()
}

// Diff returns a delta that turns the compact set from into the compact set to. It reports false when a
// delta cannot express the change (elements were reordered): send the full set then.
func Diff(from, to []byte) ([]byte, bool) {
	_, oldEls, err1 := elements(from)
	newHeader, newEls, err2 := elements(to)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	var w wire.Writer
	w.Raw(1, newHeader)
	for _, c := range collections {
		old := map[string][]byte{}
		for _, e := range oldEls[c] {
			old[e.id] = e.b
		}
		keep := map[string]bool{}
		for _, e := range newEls[c] {
			keep[e.id] = true
			if ob, ok := old[e.id]; !ok || string(ob) != string(e.b) {
				w.Message(2, func(w *wire.Writer) {
					w.Uint(1, uint64(c))
					w.Raw(2, e.b)
				})
			}
		}
		for _, e := range oldEls[c] {
			if !keep[e.id] {
				w.Message(3, func(w *wire.Writer) {
					w.Uint(1, uint64(c))
					w.StringAlways(2, e.id)
				})
			}
		}
	}
	delta := w.Bytes()
	got, err := Apply(from, delta)
	if err != nil || string(got) != string(assemble(newHeader, newEls)) {
		return nil, false
	}
	return delta, true
}

// Apply applies a delta made by Diff to the compact set from and returns the compact result. Changed
// elements replace the old ones in place, new ones go last, removed ones go.
func Apply(from, delta []byte) ([]byte, error) {
	_, els, err := elements(from)
	if err != nil {
		return nil, wire.Join(ErrDelta, err)
	}
	var header []byte
	r := wire.NewReader(delta)
	for r.Next() {
		switch r.Field {
		case 1:
			header = r.Bytes()
		case 2, 3:
			var c int
			var body []byte
			var id string
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					c = int(min(m.Uint(), 1<<20))
				case 2:
					body = m.Bytes()
					id = m.String()
				}
			}
			r.Check(m)
			if !isCollection(c) {
				return nil, wire.Join(ErrDelta, errors.New("unknown collection "+strconv.Itoa(c)))
			}
			if r.Field == 2 {
				els[c] = upsert(els[c], element{id: elementID(body), b: body})
			} else {
				els[c] = remove(els[c], id)
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, wire.Join(ErrDelta, err)
	}
	if header == nil {
		return nil, wire.Join(ErrDelta, errors.New("delta has no header"))
	}
	return assemble(header, els), nil
}

func upsert(list []element, e element) []element {
	for i := range list {
		if list[i].id == e.id {
			list[i] = e
			return list
		}
	}
	return append(list, e)
}

func remove(list []element, id string) []element {
	for i := range list {
		if list[i].id == id {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// ContentHash is the hash of a compact rule set's content: the same rules hash alike whatever version
// number and hash they carry. It detects a delta applied to the wrong base; it is not a signature.
func ContentHash(compact []byte) string {
	header, els, err := elements(compact)
	if err != nil {
		return ""
	}
	rs := &RuleSet{}
	r := wire.NewReader(header)
	for r.Next() {
		decodeHeaderField(r, rs)
	}
	rs.Version, rs.Hash = 0, ""
	var hw wire.Writer
	encodeHeader(&hw, rs)
	return strconv.FormatUint(bucket.Hash64(string(assemble(hw.Bytes(), els))), 16)
}
