module github.com/tailor/tailor

go 1.26.8

require (
	github.com/andybalholm/brotli v1.2.0 // indirect
	github.com/coder/websocket v1.8.15 // indirect
	github.com/goccy/go-json v0.10.5 // indirect
	github.com/tetratelabs/wazero v1.12.0 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	golang.org/x/sys v0.44.0 // indirect
)
