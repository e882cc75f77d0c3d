//go:build wasip1

// Command tailor is the engine artifact, tailor.wasm:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o tailor.wasm ./wasm
//
// # The ABI
//
// The module imports only wasi_snapshot_preview1 (Go's runtime needs a clock, random bytes for its own
// hash seeds, and fd_write; the engine itself reads none of them) and exports its memory, _initialize
// (call it once before anything else) and the functions below.
//
// A call passes its input as bytes: the host asks for a buffer with tailor_alloc(size) (0 when size is over
// 64 MiB), writes the input there, and calls the function with (pointer, length). Every call returns a status, 0 for success and 1
// for an error, and leaves its result in a buffer the host reads with tailor_result_ptr and
// tailor_result_len: the answer on success, a UTF-8 message on error. Both buffers belong to the engine and
// stay valid until the next call. A call that fails changes nothing, except tailor_restore, which starts
// fresh from the seed when the saved state is corrupt (and says so).
//
// Inputs and answers are messages of package shared/abi in the wire format of shared/wire:
//
//	tailor_load_rules(compact rule set)   -> ()                   keep the set; the last good set stays on error
//	tailor_restore(abi.Restore)           -> ()                   state from a snapshot, or fresh
//	tailor_snapshot()                     -> state bytes          to store on the device
//	tailor_event(abi.Event)               -> ()                   page view, visible time, goal, declare, context
//	tailor_set_pref(abi.Pref)             -> ()                   refused unless the rule set allows the value
//	tailor_decide(abi.Page)               -> abi.Decisions        every slot of a page, actions, segments
//	tailor_take_counts(abi.Take)          -> batch frame or empty bytes to send on /sync
//	tailor_sync(abi.Bytes: server frame)  -> abi.SyncReply        full or delta rule set, ack, refusal
//	tailor_hello()                        -> hello frame          the first frame on /sync
//	tailor_consent(abi.Bytes: Now; Data[0]=1 consents) -> ()     without consent no behaviour, no counts
//	tailor_prefs()                        -> JSON text            the visitor's preferences
//	tailor_export(abi.Bytes: Now)         -> JSON text            everything the engine keeps, readable
//	tailor_forget(abi.Bytes: Now, Seed)   -> ()                   erase everything, start over with Seed
//
// Acknowledging a batch is tailor_sync with the server's Ack frame.
package main

import (
	"unsafe"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/wasm/engine"
)

func main() {}

var (
	eng    = engine.New()
	input  []byte
	result []byte
)

// maxInput bounds one input: a rule set, a state or a page is kilobytes; a host asking for more is wrong,
// and growing the engine's memory to its limit would end it.
const maxInput = 64 << 20

//go:wasmexport tailor_alloc
func tailorAlloc(size uint32) uint32 {
	if size > maxInput {
		return 0
	}
	if uint32(cap(input)) < size {
		input = make([]byte, size)
	}
	input = input[:size]
	if size == 0 {
		return 0
	}
	return ptrOf(input)
}

//go:wasmexport tailor_result_ptr
func tailorResultPtr() uint32 {
	if len(result) == 0 {
		return 0
	}
	return ptrOf(result)
}

//go:wasmexport tailor_result_len
func tailorResultLen() uint32 { return uint32(len(result)) }

// in returns the host's input. The pointer must be the one tailor_alloc gave.
func in(ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if n > uint32(len(input)) || ptr != ptrOf(input) {
		return nil, false
	}
	return input[:n], true
}

// answer stores a call's outcome for the host.
func answer(out []byte, err error) uint32 {
	if err != nil {
		result = append(result[:0], err.Error()...)
		return 1
	}
	result = out
	return 0
}

func badInput() uint32 {
	return answer(nil, errBadPointer)
}

type abiError string

func (e abiError) Error() string { return string(e) }

const errBadPointer = abiError("tailor: input must be written at the pointer tailor_alloc returned, within its size")

//go:wasmexport tailor_load_rules
func tailorLoadRules(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	return answer(nil, eng.LoadRules(b))
}

//go:wasmexport tailor_restore
func tailorRestore(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Restore
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(nil, eng.Restore(m))
}

//go:wasmexport tailor_snapshot
func tailorSnapshot(ptr, n uint32) uint32 {
	return answer(eng.Snapshot(), nil)
}

//go:wasmexport tailor_event
func tailorEvent(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Event
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(nil, eng.Event(m))
}

//go:wasmexport tailor_set_pref
func tailorSetPref(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Pref
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(nil, eng.SetPref(m))
}

//go:wasmexport tailor_decide
func tailorDecide(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Page
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	d, err := eng.Decide(m)
	if err != nil {
		return answer(nil, err)
	}
	return answer(d.Encode(), nil)
}

//go:wasmexport tailor_take_counts
func tailorTakeCounts(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Take
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(eng.TakeCounts(m))
}

//go:wasmexport tailor_sync
func tailorSync(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Bytes
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	reply, err := eng.Sync(m.Data, m.Now)
	if err != nil {
		return answer(nil, err)
	}
	return answer(reply.Encode(), nil)
}

//go:wasmexport tailor_hello
func tailorHello(ptr, n uint32) uint32 {
	return answer(eng.Hello(), nil)
}

//go:wasmexport tailor_consent
func tailorConsent(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Bytes
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	eng.Consent(len(m.Data) > 0 && m.Data[0] == 1)
	return answer(nil, nil)
}

//go:wasmexport tailor_prefs
func tailorPrefs(ptr, n uint32) uint32 {
	return answer(eng.PrefsJSON(), nil)
}

//go:wasmexport tailor_export
func tailorExport(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Bytes
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(eng.Export(m.Now), nil)
}

//go:wasmexport tailor_forget
func tailorForget(ptr, n uint32) uint32 {
	b, ok := in(ptr, n)
	if !ok {
		return badInput()
	}
	var m abi.Bytes
	if err := m.Decode(b); err != nil {
		return answer(nil, err)
	}
	return answer(nil, eng.Forget(m.Seed, m.Now))
}

func ptrOf(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(&b[0]))) }
