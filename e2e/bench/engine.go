package bench

import (
	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/wasm/engine"
)

// Engine is what the figures need of an engine: the wasm one (e2e/host.Engine) or the native one.
type Engine interface {
	LoadRules([]byte) error
	Restore(abi.Restore) error
	Event(abi.Event) error
	Decide(abi.Page) (abi.Decisions, error)
	Forget(seed string, now int64) error
	Export(now int64) ([]byte, error)
}

// Native is the engine package compiled for this machine, as a comparison for the wasm one.
type Native struct{ *engine.Engine }

// NewNative returns a native engine.
func NewNative() Native { return Native{engine.New()} }

// Export returns what engine.Export does, with the error the interface wants.
func (n Native) Export(now int64) ([]byte, error) { return n.Engine.Export(now), nil }
