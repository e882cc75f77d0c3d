// Package frame is the /sync protocol: one binary websocket message is one Frame in the wire format.
//
//	client -> server  Hello    engine version and the rule-set version (and hash) it holds
//	server -> client  Full     the whole compact rule set
//	                  Delta    changes from the version the client holds (package rules: Diff, Apply)
//	                  UpToDate the client's version is the live one
//	client -> server  Batch    count increments under a random batch id
//	server -> client  Ack      the batch is durable (sent again for a batch id already stored)
//	                  Refused  the batch was refused, with the reason; the client drops it
//
// The server pushes Full or Delta frames whenever an operator changes the live set.
package frame

import (
	"errors"
	"strconv"

	"github.com/tailor/tailor/shared/wire"
)

// Kind is what a frame is.
type Kind uint8

// Frame kinds.
const (
	KindHello Kind = iota + 1
	KindFull
	KindDelta
	KindUpToDate
	KindBatch
	KindAck
	KindRefused
)

// Counter kinds.
const (
	CountExposure   = 1 // a visitor saw Slot's Variant in Arm
	CountConversion = 2 // a visitor exposed to Slot's Variant in Arm reached Goal
	CountSegment    = 3 // a visitor entered Segment
	CountTrigger    = 4 // Trigger fired for a visitor
)

// Arms.
const (
	ArmPersonalized = 1
	ArmHoldout      = 2
)

// Limits the server and the engine both hold a frame to.
const (
	MaxCounts     = 4096     // increments in one batch
	MaxValue      = 1 << 20  // one increment
	MaxBatchBytes = 60 << 10 // an encoded batch: under the server's default read limit of 64 KiB
)

// Errors.
var (
	// ErrDecode is returned for bytes that are not a frame.
	ErrDecode = errors.New("frame: does not decode")
	// ErrInvalid is returned for a frame that decodes but breaks the protocol's rules.
	ErrInvalid = errors.New("frame: invalid")
)

// Count is one counter increment. Window is the start of its report window in Unix hours: coarse on
// purpose, so no precise timestamp leaves the device.
type Count struct {
	Kind    uint8
	Slot    string
	Variant string
	Goal    string
	Segment string
	Trigger string
	Arm     uint8
	Window  uint32
	N       uint64
}

// Key names the counter a Count adds to, without its window and value.
func (c *Count) Key() string { return string(c.AppendKey(nil)) }

// AppendKey appends Key to dst, for callers that look keys up without allocating.
func (c *Count) AppendKey(dst []byte) []byte {
	dst = strconv.AppendInt(dst, int64(c.Kind), 10)
	dst = append(dst, '|')
	switch c.Kind {
	case CountExposure:
		dst = append(append(append(append(dst, c.Slot...), '|'), c.Variant...), '|')
		dst = strconv.AppendInt(dst, int64(c.Arm), 10)
	case CountConversion:
		dst = append(append(append(append(append(append(dst, c.Goal...), '|'), c.Slot...), '|'), c.Variant...), '|')
		dst = strconv.AppendInt(dst, int64(c.Arm), 10)
	case CountSegment:
		dst = append(dst, c.Segment...)
	case CountTrigger:
		dst = append(dst, c.Trigger...)
	}
	return dst
}

// Frame is one message on /sync. Which fields matter depends on Kind.
type Frame struct {
	Kind          Kind
	EngineVersion string
	Version       uint64 // Hello: version held; Full, Delta, UpToDate: the live version
	Base          uint64 // Delta: the version it applies to
	Hash          string // Hello: hash held; Full, Delta: hash of the result
	Rules         []byte // Full: compact rule set; Delta: rules.Diff bytes
	BatchID       uint64
	Counts        []Count
	Reason        string
}

// Encode appends the frame's bytes to dst.
func (f *Frame) Encode(dst []byte) []byte {
	w := wire.Writer{Buf: dst}
	w.Uint(1, uint64(f.Kind))
	w.String(2, f.EngineVersion)
	w.Uint(3, f.Version)
	w.Uint(4, f.Base)
	w.String(5, f.Hash)
	if f.Rules != nil {
		w.Raw(6, f.Rules)
	}
	w.Uint(7, f.BatchID)
	for i := range f.Counts {
		w.Message(8, f.Counts[i].encode)
	}
	w.String(9, f.Reason)
	return w.Bytes()
}

// Decode reads a frame and checks what the protocol requires of its kind. Rules aliases b.
func Decode(b []byte) (*Frame, error) {
	f := &Frame{}
	r := wire.NewReader(b)
	for r.Next() {
		switch r.Field {
		case 1:
			f.Kind = Kind(r.Uint())
		case 2:
			f.EngineVersion = r.String()
		case 3:
			f.Version = r.Uint()
		case 4:
			f.Base = r.Uint()
		case 5:
			f.Hash = r.String()
		case 6:
			f.Rules = r.Bytes()
		case 7:
			f.BatchID = r.Uint()
		case 8:
			if len(f.Counts) >= MaxCounts {
				return nil, wire.Join(ErrInvalid, errors.New("more than "+strconv.Itoa(MaxCounts)+" counts in a batch"))
			}
			f.Counts = append(f.Counts, decodeCount(r))
		case 9:
			f.Reason = r.String()
		}
	}
	if err := r.Err(); err != nil {
		return nil, wire.Join(ErrDecode, err)
	}
	if err := f.check(); err != nil {
		return nil, wire.Join(ErrInvalid, err)
	}
	return f, nil
}

func (c *Count) encode(w *wire.Writer) {
	w.Uint(1, uint64(c.Kind))
	w.String(2, c.Slot)
	w.String(3, c.Variant)
	w.String(4, c.Goal)
	w.String(5, c.Segment)
	w.String(6, c.Trigger)
	w.Uint(7, uint64(c.Arm))
	w.Uint(8, uint64(c.Window))
	w.Uint(9, c.N)
}

// AppendCount appends one count's encoding to dst (the engine keeps unsent counts this way).
func AppendCount(dst []byte, c *Count) []byte {
	w := wire.Writer{Buf: dst}
	c.encode(&w)
	return w.Bytes()
}

// DecodeCount reads what AppendCount wrote.
func DecodeCount(b []byte) (Count, error) {
	r := wire.NewReader(b)
	c := readCount(r)
	return c, r.Err()
}

func decodeCount(r *wire.Reader) Count {
	m := r.Message()
	c := readCount(m)
	r.Check(m)
	return c
}

func readCount(m *wire.Reader) Count {
	var c Count
	for m.Next() {
		switch m.Field {
		case 1:
			c.Kind = uint8(min(m.Uint(), 255))
		case 2:
			c.Slot = m.String()
		case 3:
			c.Variant = m.String()
		case 4:
			c.Goal = m.String()
		case 5:
			c.Segment = m.String()
		case 6:
			c.Trigger = m.String()
		case 7:
			c.Arm = uint8(min(m.Uint(), 255))
		case 8:
			c.Window = uint32(min(m.Uint(), 1<<32-1))
		case 9:
			c.N = m.Uint()
		}
	}
	return c
}

func (f *Frame) check() error {
	switch f.Kind {
	case KindHello, KindUpToDate, KindAck, KindRefused:
	case KindFull, KindDelta:
		if f.Rules == nil {
			return errors.New("a rule-set frame without rules")
		}
	case KindBatch:
		if f.BatchID == 0 {
			return errors.New("a batch without a batch id")
		}
		if len(f.Counts) == 0 {
			// Nothing to count, yet its id would be stored: refused, so nobody grows the store for free.
			return errors.New("a batch without counts")
		}
		for i := range f.Counts {
			c := &f.Counts[i]
			where := "counts[" + strconv.Itoa(i) + "]: "
			switch {
			case c.Kind < CountExposure || c.Kind > CountTrigger:
				return errors.New(where + "unknown counter kind " + strconv.Itoa(int(c.Kind)))
			case c.N == 0 || c.N > MaxValue:
				return errors.New(where + "value " + strconv.FormatUint(c.N, 10) + " out of range 1.." + strconv.Itoa(MaxValue))
			case (c.Kind == CountExposure || c.Kind == CountConversion) && c.Arm != ArmPersonalized && c.Arm != ArmHoldout:
				return errors.New(where + "unknown arm " + strconv.Itoa(int(c.Arm)))
			}
		}
	default:
		return errors.New("unknown frame kind " + strconv.Itoa(int(f.Kind)))
	}
	return nil
}
