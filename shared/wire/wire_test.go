package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Uint(1, 300)
	w.Int(2, -5)
	w.Float(3, math.Pi)
	w.String(4, "héllo 🌊")
	w.Bool(5, true)
	long := bytes.Repeat([]byte("x"), 200) // a nested message over 127 bytes moves its body
	w.Message(6, func(w *Writer) { w.Raw(1, long); w.Int(2, math.MinInt64) })
	w.StringAlways(7, "")
	r := NewReader(w.Bytes())
	seen := 0
	for r.Next() {
		seen++
		switch r.Field {
		case 1:
			if r.Uint() != 300 {
				t.Error("uint")
			}
		case 2:
			if r.Int() != -5 {
				t.Error("int")
			}
		case 3:
			if r.Float() != math.Pi {
				t.Error("float")
			}
		case 4:
			if r.String() != "héllo 🌊" {
				t.Error("string")
			}
		case 5:
			if !r.Bool() {
				t.Error("bool")
			}
		case 6:
			m := r.Message()
			for m.Next() {
				switch m.Field {
				case 1:
					if !bytes.Equal(m.Bytes(), long) {
						t.Error("nested bytes")
					}
				case 2:
					if m.Int() != math.MinInt64 {
						t.Error("nested int")
					}
				}
			}
			r.Check(m)
		case 7:
			if r.String() != "" {
				t.Error("empty string")
			}
		}
	}
	if r.Err() != nil || seen != 7 {
		t.Fatalf("read %d fields, err %v", seen, r.Err())
	}
}

func TestErrorsSayWhere(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated varint", []byte{0x08, 0xff}, ErrTruncated},
		{"bytes past the end", []byte{0x12, 0x05, 'a'}, ErrTruncated},
		{"fixed64 short", []byte{0x19, 1, 2}, ErrTruncated},
		{"group type", []byte{0x0b}, ErrBadType},
		{"field zero", []byte{0x00, 0x01}, ErrBadType},
		{"11-byte varint", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, ErrOverflow},
	}
	for _, tc := range tests {
		r := NewReader(tc.in)
		for r.Next() {
		}
		var we *Error
		if !errors.Is(r.Err(), tc.want) || !errors.As(r.Err(), &we) {
			t.Errorf("%s: error %v, want %v with its offset", tc.name, r.Err(), tc.want)
		}
	}
	r := NewReader([]byte{0x0a, 0x00})
	r.Next()
	if r.Uint(); !errors.Is(r.Err(), ErrWrongType) {
		t.Errorf("reading bytes as a number: %v", r.Err())
	}
}

// FuzzReader: any bytes read without a panic, and what reads cleanly writes back to the same fields.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		var w Writer
		for r.Next() {
			switch r.Type {
			case TypeVarint:
				w.key(r.Field, TypeVarint)
				w.Buf = appendUvarint(w.Buf, r.Uint())
			case TypeFixed64:
				w.key(r.Field, TypeFixed64)
				w.Buf = appendUint64(w.Buf, math.Float64bits(r.Float()))
			case TypeBytes:
				w.Raw(r.Field, r.Bytes())
			}
		}
		if r.Err() != nil {
			return
		}
		r2 := NewReader(w.Bytes())
		for r2.Next() {
		}
		if r2.Err() != nil {
			t.Fatalf("re-encoded fields do not read: %v", r2.Err())
		}
	})
}
