// Package wire is the byte format every Tailor message uses: between the host and the engine across the
// wasm ABI, and between the engine and the server on the /sync websocket.
//
// It is the protocol-buffers wire format, reduced to three field types and written by hand so that it needs
// no reflection and costs the engine a few kilobytes:
//
//	message = field*
//	field   = key value
//	key     = uvarint(number<<3 | type)
//	type 0  = uvarint          (unsigned integers, booleans, zigzag-encoded signed integers)
//	type 1  = 8 bytes, little-endian IEEE 754 float64
//	type 2  = uvarint(length) bytes   (strings, byte strings, nested messages)
//
// A reader skips the fields it does not know, so a newer writer can add fields and an older reader keeps
// working, and a missing field reads as its zero value, so a newer reader accepts an older writer's bytes.
// Repeated fields are written as the same field number several times, in order.
//
// The Reader and Writer methods are marked go:noinline: every decoder calls them at many sites, and in
// Go's wasm code generation each inlined copy costs kilobytes of the engine's download.
package wire

import (
	"errors"
	"math"
	"sort"
	"strconv"
)

// Field types.
const (
	TypeVarint  = 0
	TypeFixed64 = 1
	TypeBytes   = 2
)

// Errors a Reader returns. Each names what was wrong; the Reader adds where.
var (
	// ErrTruncated is returned when a field runs past the end of its message.
	ErrTruncated = errors.New("wire: truncated")
	// ErrOverflow is returned when a varint is longer than 10 bytes.
	ErrOverflow = errors.New("wire: varint overflows 64 bits")
	// ErrBadType is returned for a field type other than 0, 1 and 2.
	ErrBadType = errors.New("wire: unknown field type")
	// ErrWrongType is returned when a known field arrives with a type its reader does not expect.
	ErrWrongType = errors.New("wire: field has the wrong type")
)

// Writer appends fields to a byte slice. The zero value is ready to use.
type Writer struct {
	Buf []byte
}

// Bytes returns what has been written.
//
//go:noinline
func (w *Writer) Bytes() []byte { return w.Buf }

// Reset empties the writer, keeping its buffer.
//
//go:noinline
func (w *Writer) Reset() { w.Buf = w.Buf[:0] }

//go:noinline
func (w *Writer) key(n int, typ int) { w.Buf = appendUvarint(w.Buf, uint64(n)<<3|uint64(typ)) }

// Uint writes an unsigned integer field. Zero values are skipped: a missing field reads as zero.
//
//go:noinline
func (w *Writer) Uint(n int, v uint64) {
	if v == 0 {
		return
	}
	w.key(n, TypeVarint)
	w.Buf = appendUvarint(w.Buf, v)
}

// Int writes a signed integer field, zigzag-encoded.
//
//go:noinline
func (w *Writer) Int(n int, v int64) { w.Uint(n, uint64(v<<1)^uint64(v>>63)) }

// Bool writes a boolean field (only when true).
//
//go:noinline
func (w *Writer) Bool(n int, v bool) {
	if v {
		w.Uint(n, 1)
	}
}

// Float writes a float64 field. Zero is skipped.
//
//go:noinline
func (w *Writer) Float(n int, v float64) {
	if v == 0 && !math.Signbit(v) {
		return
	}
	w.key(n, TypeFixed64)
	w.Buf = appendUint64(w.Buf, math.Float64bits(v))
}

// String writes a string field. Empty strings are skipped.
//
//go:noinline
func (w *Writer) String(n int, s string) {
	if s == "" {
		return
	}
	w.key(n, TypeBytes)
	w.Buf = appendUvarint(w.Buf, uint64(len(s)))
	w.Buf = append(w.Buf, s...)
}

// StringAlways writes a string field even when it is empty (for repeated strings, where position counts).
//
//go:noinline
func (w *Writer) StringAlways(n int, s string) {
	w.key(n, TypeBytes)
	w.Buf = appendUvarint(w.Buf, uint64(len(s)))
	w.Buf = append(w.Buf, s...)
}

// Raw writes a bytes field holding b, even when b is empty.
//
//go:noinline
func (w *Writer) Raw(n int, b []byte) {
	w.key(n, TypeBytes)
	w.Buf = appendUvarint(w.Buf, uint64(len(b)))
	w.Buf = append(w.Buf, b...)
}

// Message writes a nested message produced by fill. The length prefix is patched in afterwards, so
// nothing is encoded twice.
//
//go:noinline
func (w *Writer) Message(n int, fill func(*Writer)) {
	w.key(n, TypeBytes)
	// Reserve one byte for the length, the common case; move the body if it needs more.
	at := len(w.Buf)
	w.Buf = append(w.Buf, 0)
	fill(w)
	size := len(w.Buf) - at - 1
	if size < 0x80 {
		w.Buf[at] = byte(size)
		return
	}
	tmp := appendUvarint(make([]byte, 0, 10), uint64(size))
	k := len(tmp)
	w.Buf = append(w.Buf, tmp[:k-1]...)
	copy(w.Buf[at+k:], w.Buf[at+1:at+1+size])
	copy(w.Buf[at:], tmp[:k])
}

// Reader walks the fields of one message.
type Reader struct {
	buf []byte
	off int
	// Field and Type describe the field Next has just read.
	Field int
	Type  int
	err   error
	// value of the current field
	u     uint64
	bytes []byte
}

// NewReader reads the message held in b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Err returns the first error met, if any.
//
//go:noinline
func (r *Reader) Err() error { return r.err }

// Offset returns the byte offset the reader has reached, for error messages.
//
//go:noinline
func (r *Reader) Offset() int { return r.off }

// Next reads the next field and reports whether there was one. After false, Err tells whether the message
// ended cleanly.
//
//go:noinline
func (r *Reader) Next() bool {
	if r.err != nil || r.off >= len(r.buf) {
		return false
	}
	k, ok := r.uvarint()
	if !ok {
		return false
	}
	r.Field, r.Type = int(k>>3), int(k&7)
	if r.Field == 0 || k>>3 > math.MaxInt32 {
		r.fail(ErrBadType)
		return false
	}
	switch r.Type {
	case TypeVarint:
		r.u, ok = r.uvarint()
	case TypeFixed64:
		if len(r.buf)-r.off < 8 {
			r.fail(ErrTruncated)
			return false
		}
		r.u = uint64At(r.buf[r.off:])
		r.off += 8
	case TypeBytes:
		var n uint64
		n, ok = r.uvarint()
		if ok && n > uint64(len(r.buf)-r.off) {
			r.fail(ErrTruncated)
			return false
		}
		if ok {
			r.bytes = r.buf[r.off : r.off+int(n)]
			r.off += int(n)
		}
	default:
		r.fail(ErrBadType)
		return false
	}
	return ok
}

//go:noinline
func (r *Reader) uvarint() (uint64, bool) {
	var v uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.buf) {
			r.fail(ErrTruncated)
			return 0, false
		}
		b := r.buf[r.off]
		r.off++
		if i == 9 && b > 1 {
			r.fail(ErrOverflow)
			return 0, false
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, true
		}
	}
	r.fail(ErrOverflow)
	return 0, false
}

// Encoding by hand rather than with encoding/binary, which imports reflect: the engine cannot afford it.
func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func uint64At(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Fail records err (with the current offset) unless an error is already recorded; Next then stops.
//
//go:noinline
func (r *Reader) Fail(err error) { r.fail(err) }

//go:noinline
func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = &Error{Offset: r.off, Field: r.Field, Err: err}
	}
}

//go:noinline
func (r *Reader) want(typ int) bool {
	if r.Type != typ {
		r.fail(ErrWrongType)
		return false
	}
	return true
}

// Uint returns the current field as an unsigned integer.
//
//go:noinline
func (r *Reader) Uint() uint64 {
	if !r.want(TypeVarint) {
		return 0
	}
	return r.u
}

// Int returns the current field as a zigzag-encoded signed integer.
//
//go:noinline
func (r *Reader) Int() int64 {
	u := r.Uint()
	return int64(u>>1) ^ -int64(u&1)
}

// Bool returns the current field as a boolean.
//
//go:noinline
func (r *Reader) Bool() bool { return r.Uint() != 0 }

// Float returns the current field as a float64.
//
//go:noinline
func (r *Reader) Float() float64 {
	if !r.want(TypeFixed64) {
		return 0
	}
	return math.Float64frombits(r.u)
}

// String returns the current field as a string (a copy).
//
//go:noinline
func (r *Reader) String() string {
	if !r.want(TypeBytes) {
		return ""
	}
	return string(r.bytes)
}

// Bytes returns the current field's bytes. They alias the message: copy them to keep them.
//
//go:noinline
func (r *Reader) Bytes() []byte {
	if !r.want(TypeBytes) {
		return nil
	}
	return r.bytes
}

// Message returns a reader over the current field's nested message.
//
//go:noinline
func (r *Reader) Message() *Reader {
	b := r.Bytes()
	return &Reader{buf: b, err: r.err}
}

// Check folds the error of a nested reader into r, so the caller checks one error at the end.
//
//go:noinline
func (r *Reader) Check(sub *Reader) {
	if sub.err != nil && r.err == nil {
		r.err = sub.err
	}
}

// Error tells where in a message decoding failed.
type Error struct {
	Offset int
	Field  int
	Err    error
}

func (e *Error) Error() string {
	return e.Err.Error() + " at byte " + strconv.Itoa(e.Offset) + " (field " + strconv.Itoa(e.Field) + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// StringMap writes a map as repeated entries (field 1 the key, field 2 the value) in key order, so equal
// maps give equal bytes.
//
//go:noinline
func (w *Writer) StringMap(n int, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Message(n, func(w *Writer) {
			w.StringAlways(1, k)
			w.StringAlways(2, m[k])
		})
	}
}

// MapEntry reads the current field as one entry of a map StringMap wrote, into m (made when nil).
//
//go:noinline
func (r *Reader) MapEntry(m map[string]string) map[string]string {
	e := r.Message()
	var k, v string
	for e.Next() {
		switch e.Field {
		case 1:
			k = e.String()
		case 2:
			v = e.String()
		}
	}
	r.Check(e)
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// Join wraps err with the detail that explains it: its message reads "err: detail" on one line (a host
// shows it as it is), and errors.Is finds both.
func Join(err, detail error) error { return &joined{err, detail} }

type joined struct{ err, detail error }

func (j *joined) Error() string   { return j.err.Error() + ": " + j.detail.Error() }
func (j *joined) Unwrap() []error { return []error{j.err, j.detail} }
