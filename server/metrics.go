package server

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

// metrics are the server's counters, read by /metrics. Nothing in them is per visitor.
type metrics struct {
	connections   atomic.Int64
	pushes        atomic.Uint64
	bytesPushed   atomic.Uint64
	accepted      atomic.Uint64
	duplicates    atomic.Uint64
	refused       atomic.Uint64
	malformed     atomic.Uint64
	originRefused atomic.Uint64
	rateLimited   atomic.Uint64
}

// handleMetrics writes the Prometheus text exposition format (version 0.0.4).
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	m := &s.metrics
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	for _, x := range []struct {
		name, typ, help string
		value           any
	}{
		{"tailor_connections", "gauge", "Open /sync connections.", m.connections.Load()},
		{"tailor_pushes_total", "counter", "Rule-set versions published.", m.pushes.Load()},
		{"tailor_pushed_bytes_total", "counter", "Bytes of rule-set frames written to clients.", m.bytesPushed.Load()},
		{"tailor_batches_accepted_total", "counter", "Count batches stored and acknowledged.", m.accepted.Load()},
		{"tailor_batches_duplicate_total", "counter", "Count batches acknowledged again without counting (a retry).", m.duplicates.Load()},
		{"tailor_batches_refused_total", "counter", "Count batches refused (unknown ids, values or windows).", m.refused.Load()},
		{"tailor_frames_malformed_total", "counter", "Frames that did not decode or broke the protocol.", m.malformed.Load()},
		{"tailor_origin_refused_total", "counter", "/sync requests refused for their origin.", m.originRefused.Load()},
		{"tailor_rate_limited_total", "counter", "Connections closed for sending too many messages.", m.rateLimited.Load()},
		{"tailor_slow_client_closes_total", "counter", "Connections closed because their send queue was full.", s.hub.SlowDrops()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", x.name, x.help, x.name, x.typ, x.name, x.value)
	}
}
