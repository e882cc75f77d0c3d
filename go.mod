module github.com/tailor/tailor

go 1.26.8

require (
	github.com/andybalholm/brotli v1.2.0
	github.com/coder/websocket v1.8.15
	github.com/goccy/go-json v0.10.5
	github.com/tetratelabs/wazero v1.12.0
	go.etcd.io/bbolt v1.4.3
)

require golang.org/x/sys v0.44.0 // indirect
