package engine

import (
	"errors"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
	"github.com/tailor/tailor/shared/rules"
	"github.com/tailor/tailor/shared/wire"
)

// Hello is the first frame on /sync: the engine's version and the rule set it holds.
func (e *Engine) Hello() []byte {
	f := frame.Frame{Kind: frame.KindHello, EngineVersion: Version}
	if e.rules != nil {
		f.Version, f.Hash = e.rules.Set.Version, e.rules.Set.Hash
	}
	return f.Encode(nil)
}

// Sync handles a frame from the server: a full or delta rule set, an acknowledgement or a refusal.
// A delta that does not fit what the engine holds asks for the full set (a hello holding nothing).
func (e *Engine) Sync(b []byte, now int64) (abi.SyncReply, error) {
	var reply abi.SyncReply
	f, err := frame.Decode(b)
	if err != nil {
		return reply, wire.Join(ErrFrame, err)
	}
	switch f.Kind {
	case frame.KindFull:
		if err := e.install(f.Rules, f.Hash); err != nil {
			return reply, err
		}
		reply.Changed = true
	case frame.KindDelta:
		if e.rules == nil || e.rules.Set.Version != f.Base {
			reply.Send = askFull()
			break
		}
		next, err := rules.Apply(e.compact, f.Rules)
		if err != nil || e.install(next, f.Hash) != nil {
			reply.Send = askFull()
			break
		}
		reply.Changed = true
	case frame.KindAck, frame.KindRefused:
		// A refused batch is refused for good (ids the server does not know): keeping it would block the rest.
		if e.st.inFlight != nil && e.st.inFlight.BatchID == f.BatchID {
			e.st.inFlight = nil
		}
	case frame.KindUpToDate:
	default:
		return reply, wire.Join(ErrFrame, errors.New("a client does not accept this frame kind"))
	}
	if e.rules != nil {
		reply.Version = e.rules.Set.Version
	}
	if reply.Changed {
		reply.Rules = e.compact
	}
	return reply, nil
}

func askFull() []byte {
	f := frame.Frame{Kind: frame.KindHello, EngineVersion: Version}
	return f.Encode(nil)
}

// install checks a compact set against the hash the server announced, then loads it.
func (e *Engine) install(compact []byte, hash string) error {
	if hash != "" && rules.ContentHash(compact) != hash {
		return wire.Join(ErrFrame, errors.New("rule set does not match its hash"))
	}
	return e.LoadRules(compact)
}

// TakeCounts returns the pending counts as a batch frame to send, or nothing when none are pending. A
// batch not yet acknowledged is returned again, unchanged, so a retry carries the same id and the server
// counts it once.
func (e *Engine) TakeCounts(t abi.Take) ([]byte, error) {
	st := e.st
	if st.inFlight == nil {
		if len(st.pending) == 0 {
			return nil, nil
		}
		if t.BatchID == 0 {
			return nil, wire.Join(ErrEvent, errors.New("a batch needs a non-zero random id"))
		}
		// Fill the batch while it stays under the size a server reads; the rest waits for the next one.
		f := &frame.Frame{Kind: frame.KindBatch, BatchID: t.BatchID}
		size, n := 32, 0
		for ; n < len(st.pending) && n < frame.MaxCounts; n++ {
			c := &st.pending[n].count
			if size += len(frame.AppendCount(nil, c)) + 4; size > frame.MaxBatchBytes && n > 0 {
				break
			}
			f.Counts = append(f.Counts, *c)
		}
		st.pending = append(st.pending[:0], st.pending[n:]...)
		st.inFlight = f
	}
	return st.inFlight.Encode(nil), nil
}
