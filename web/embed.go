// Package web holds what the server serves to browsers, embedded into the binary: tailor.js (the one
// script a site adds), tailor.wasm (built by `make wasm` into static/, never committed), the demo site and
// the operators' dashboard.
package web

import "embed"

// Static is the static/ folder. tailor.wasm is in it only after `make wasm`.
//
//go:embed all:static
var Static embed.FS

// DemoRules is the demo site's rule set, pushed by `tailor serve --demo` when the store is empty.
//
//go:embed demo-rules.json
var DemoRules []byte
