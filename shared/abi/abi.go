// Package abi holds the messages that cross the engine's wasm boundary, in the wire format. The engine
// decodes what the host sends and encodes what it answers; Go hosts (the tests, the benchmarks) use the same
// types; web/tailor.js mirrors them field for field.
//
// Field numbers never change meaning. Times are Unix milliseconds from the host's clock.
package abi

import (
	"errors"

	"github.com/tailor/tailor/shared/wire"
)

// ErrDecode is returned when a message from the host does not decode.
var ErrDecode = errors.New("abi: message does not decode")

// Event kinds.
const (
	EventPageView = 1 // Category, Path
	EventTime     = 2 // Seconds of visible time on Category
	EventGoal     = 3 // Goal reached
	EventDeclare  = 4 // Name = Value, an attribute the visitor chose to give (empty Value removes it)
	EventContext  = 5 // Lang, TZ: coarse context
)

// Restore starts the engine from a saved state. Seed is used when State is empty or corrupt: a random
// string the host makes once per browser, which never leaves the device.
type Restore struct {
	State []byte
	Seed  string
	Now   int64
}

// Event is something the visitor did.
type Event struct {
	Kind     int
	Now      int64
	Category string
	Path     string
	Seconds  float64
	Goal     string
	Name     string
	Value    string
	Lang     string
	TZ       int64
}

// Pref sets one preference. Value is a string, a float64, a []string or a bool.
type Pref struct {
	ID    string
	Value any
	Now   int64
}

// Item is a candidate a page offers a ranked slot.
type Item struct {
	ID         string
	Categories []string
}

// SlotRequest names a slot on the page and, for ranked slots, its candidate items.
type SlotRequest struct {
	Slot  string
	Items []Item
}

// Page asks for every slot of a page in one call: the slots it names, or every slot of the rule set with
// All. A page with no slot still evaluates segments and fires triggers.
type Page struct {
	Now      int64
	Category string
	Path     string
	Slots    []SlotRequest
	All      bool
}

// Decision is what one slot shows, and why.
type Decision struct {
	Slot     string
	Variant  string
	Template string
	Text     string
	Attrs    map[string]string
	Arm      int // frame.ArmPersonalized or frame.ArmHoldout
	// Reason says in words why this variant won; Path is the condition that made it win.
	Reason string
	Path   string
	Items  []string // ranked slots: item ids in order
}

// Action is a trigger firing, for the host to perform.
type Action struct {
	Trigger string
	Action  string
	Params  map[string]string
}

// Decisions answers Page.
type Decisions struct {
	Decisions []Decision
	Actions   []Action
	Segments  []string
}

// Take asks for the pending counts as a batch frame, under BatchID (random, from the host) unless a batch
// is already waiting for its acknowledgement, which is then sent again unchanged.
type Take struct {
	BatchID uint64
	Now     int64
}

// Bytes is a message holding one byte string (field 1) and a time (field 2): used for a sync frame from
// the server, and to forget everything (field 3 is then the new seed).
type Bytes struct {
	Data []byte
	Now  int64
	Seed string
}

// SyncReply answers a sync frame: what to send back (often nothing) and whether the rules changed.
type SyncReply struct {
	Send    []byte
	Changed bool
	Version uint64
	// Rules is the compact rule set now in force, when Changed: the host stores it for the next page.
	Rules []byte
}

// --- encoding ---

func (m *Restore) Encode() []byte {
	var w wire.Writer
	if m.State != nil {
		w.Raw(1, m.State)
	}
	w.String(2, m.Seed)
	w.Int(3, m.Now)
	return w.Bytes()
}

func (m *Restore) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.State = r.Bytes()
		case 2:
			m.Seed = r.String()
		case 3:
			m.Now = r.Int()
		}
	}
	return wrap(r.Err())
}

func (m *Event) Encode() []byte {
	var w wire.Writer
	w.Uint(1, uint64(m.Kind))
	w.Int(2, m.Now)
	w.String(3, m.Category)
	w.String(4, m.Path)
	w.Float(5, m.Seconds)
	w.String(6, m.Goal)
	w.String(7, m.Name)
	w.String(8, m.Value)
	w.String(9, m.Lang)
	w.Int(10, m.TZ)
	return w.Bytes()
}

func (m *Event) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.Kind = int(min(r.Uint(), 1<<16))
		case 2:
			m.Now = r.Int()
		case 3:
			m.Category = r.String()
		case 4:
			m.Path = r.String()
		case 5:
			m.Seconds = r.Float()
		case 6:
			m.Goal = r.String()
		case 7:
			m.Name = r.String()
		case 8:
			m.Value = r.String()
		case 9:
			m.Lang = r.String()
		case 10:
			m.TZ = r.Int()
		}
	}
	return wrap(r.Err())
}

// EncodeValue writes a preference value: field 1 its kind (1 string, 2 number, 3 list, 4 bool), then the
// value in field 2 (string), 3 (number), 4 (repeated strings) or 5 (bool).
func EncodeValue(w *wire.Writer, v any) {
	switch x := v.(type) {
	case string:
		w.Uint(1, 1)
		w.String(2, x)
	case float64:
		w.Uint(1, 2)
		w.Float(3, x)
	case []string:
		w.Uint(1, 3)
		for _, s := range x {
			w.StringAlways(4, s)
		}
	case bool:
		w.Uint(1, 4)
		w.Bool(5, x)
	}
}

// DecodeValue reads what EncodeValue wrote.
func DecodeValue(r *wire.Reader) any {
	var kind uint64
	var s string
	var n float64
	list := []string{}
	var b bool
	for r.Next() {
		switch r.Field {
		case 1:
			kind = r.Uint()
		case 2:
			s = r.String()
		case 3:
			n = r.Float()
		case 4:
			list = append(list, r.String())
		case 5:
			b = r.Bool()
		}
	}
	switch kind {
	case 1:
		return s
	case 2:
		return n
	case 3:
		return list
	case 4:
		return b
	}
	return nil
}

func (m *Pref) Encode() []byte {
	var w wire.Writer
	w.String(1, m.ID)
	w.Message(2, func(w *wire.Writer) { EncodeValue(w, m.Value) })
	w.Int(3, m.Now)
	return w.Bytes()
}

func (m *Pref) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.ID = r.String()
		case 2:
			sub := r.Message()
			m.Value = DecodeValue(sub)
			r.Check(sub)
		case 3:
			m.Now = r.Int()
		}
	}
	return wrap(r.Err())
}

func (m *Page) Encode() []byte {
	var w wire.Writer
	w.Int(1, m.Now)
	w.String(2, m.Category)
	w.String(3, m.Path)
	for _, s := range m.Slots {
		w.Message(4, func(w *wire.Writer) {
			w.String(1, s.Slot)
			for _, it := range s.Items {
				w.Message(2, func(w *wire.Writer) {
					w.StringAlways(1, it.ID)
					for _, c := range it.Categories {
						w.StringAlways(2, c)
					}
				})
			}
		})
	}
	w.Bool(5, m.All)
	return w.Bytes()
}

func (m *Page) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.Now = r.Int()
		case 2:
			m.Category = r.String()
		case 3:
			m.Path = r.String()
		case 4:
			var s SlotRequest
			sr := r.Message()
			for sr.Next() {
				switch sr.Field {
				case 1:
					s.Slot = sr.String()
				case 2:
					var it Item
					ir := sr.Message()
					for ir.Next() {
						switch ir.Field {
						case 1:
							it.ID = ir.String()
						case 2:
							it.Categories = append(it.Categories, ir.String())
						}
					}
					sr.Check(ir)
					s.Items = append(s.Items, it)
				}
			}
			r.Check(sr)
			m.Slots = append(m.Slots, s)
		case 5:
			m.All = r.Bool()
		}
	}
	return wrap(r.Err())
}

func (m *Decisions) Encode() []byte {
	var w wire.Writer
	for i := range m.Decisions {
		d := &m.Decisions[i]
		w.Message(1, func(w *wire.Writer) {
			w.String(1, d.Slot)
			w.String(2, d.Variant)
			w.String(3, d.Template)
			w.String(4, d.Text)
			w.StringMap(5, d.Attrs)
			w.Uint(6, uint64(d.Arm))
			w.String(7, d.Reason)
			w.String(8, d.Path)
			for _, it := range d.Items {
				w.StringAlways(9, it)
			}
		})
	}
	for _, a := range m.Actions {
		w.Message(2, func(w *wire.Writer) {
			w.String(1, a.Trigger)
			w.String(2, a.Action)
			w.StringMap(3, a.Params)
		})
	}
	for _, s := range m.Segments {
		w.StringAlways(3, s)
	}
	return w.Bytes()
}

func (m *Decisions) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			var d Decision
			dr := r.Message()
			for dr.Next() {
				switch dr.Field {
				case 1:
					d.Slot = dr.String()
				case 2:
					d.Variant = dr.String()
				case 3:
					d.Template = dr.String()
				case 4:
					d.Text = dr.String()
				case 5:
					d.Attrs = dr.MapEntry(d.Attrs)
				case 6:
					d.Arm = int(min(dr.Uint(), 255))
				case 7:
					d.Reason = dr.String()
				case 8:
					d.Path = dr.String()
				case 9:
					d.Items = append(d.Items, dr.String())
				}
			}
			r.Check(dr)
			m.Decisions = append(m.Decisions, d)
		case 2:
			var a Action
			ar := r.Message()
			for ar.Next() {
				switch ar.Field {
				case 1:
					a.Trigger = ar.String()
				case 2:
					a.Action = ar.String()
				case 3:
					a.Params = ar.MapEntry(a.Params)
				}
			}
			r.Check(ar)
			m.Actions = append(m.Actions, a)
		case 3:
			m.Segments = append(m.Segments, r.String())
		}
	}
	return wrap(r.Err())
}

func (m *Take) Encode() []byte {
	var w wire.Writer
	w.Uint(1, m.BatchID)
	w.Int(2, m.Now)
	return w.Bytes()
}

func (m *Take) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.BatchID = r.Uint()
		case 2:
			m.Now = r.Int()
		}
	}
	return wrap(r.Err())
}

func (m *Bytes) Encode() []byte {
	var w wire.Writer
	if m.Data != nil {
		w.Raw(1, m.Data)
	}
	w.Int(2, m.Now)
	w.String(3, m.Seed)
	return w.Bytes()
}

func (m *Bytes) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.Data = r.Bytes()
		case 2:
			m.Now = r.Int()
		case 3:
			m.Seed = r.String()
		}
	}
	return wrap(r.Err())
}

func (m *SyncReply) Encode() []byte {
	var w wire.Writer
	if m.Send != nil {
		w.Raw(1, m.Send)
	}
	w.Bool(2, m.Changed)
	w.Uint(3, m.Version)
	if m.Rules != nil {
		w.Raw(4, m.Rules)
	}
	return w.Bytes()
}

func (m *SyncReply) Decode(b []byte) error {
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			m.Send = r.Bytes()
		case 2:
			m.Changed = r.Bool()
		case 3:
			m.Version = r.Uint()
		case 4:
			m.Rules = r.Bytes()
		}
	}
	return wrap(r.Err())
}

func wrap(err error) error {
	if err != nil {
		return wire.Join(ErrDecode, err)
	}
	return nil
}
