package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/tailor/tailor/server/store"
	"github.com/tailor/tailor/shared/rules"
)

// The operators' API. Every route needs the bearer token; see apiRoutes for the list.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/rules", s.auth(s.apiPush))
	mux.Handle("GET /api/rules", s.auth(s.apiLive))
	mux.Handle("GET /api/rules/versions", s.auth(s.apiVersions))
	mux.Handle("POST /api/rules/rollback", s.auth(s.apiRollback))
	mux.Handle("POST /api/validate", s.auth(s.apiValidate))
	mux.Handle("GET /api/stats", s.auth(s.apiStats))
	s.dashboardRoutes(mux) // GET /api/report, GET /api/rules/history, and the dashboard page's headers
	// Anything else under /api/ is a 401 without the token too, so the routes do not leak.
	mux.Handle("/api/", s.auth(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
}

// auth lets a request through only with "Authorization: Bearer <Config.Token>". The comparison is of
// SHA-256 digests in constant time, so neither the token's bytes nor its length leak through timing. A
// missing or wrong token gets 401 and nothing else.
func (s *Server) auth(next http.HandlerFunc) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || s.cfg.Token == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tailor"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the status is sent; a failed write has nowhere to go
}

// errorBody is every API error: {"errors":[{"path":..., "message":...}]}.
type errorBody struct {
	Errors rules.Problems `json:"errors"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Errors: rules.Problems{{Msg: msg}}})
}

// writeRulesError answers an error from ParseRules, Push or Rollback.
func (s *Server) writeRulesError(w http.ResponseWriter, err error) {
	var ps rules.Problems
	switch {
	case errors.As(err, &ps):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Errors: ps})
	case errors.Is(err, ErrRulesJSON):
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: problemsOf(err)})
	case errors.Is(err, ErrNoVersion):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrShuttingDown):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.Error("api", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server log")
	}
}

// readBody reads a request body of at most MaxRulesJSON bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRulesJSON))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large or unreadable: "+err.Error())
		return nil, false
	}
	return b, true
}

// versionInfo is a version as the API lists it.
type versionInfo struct {
	Version uint64 `json:"version"`
	Hash    string `json:"hash"`
	Created string `json:"created"`
	From    uint64 `json:"rolled_back_from,omitempty"`
	Bytes   int    `json:"compact_bytes"`
	Live    bool   `json:"live,omitempty"`
}

func (s *Server) info(v *store.Version) versionInfo {
	live := s.live.Load()
	return versionInfo{
		Version: v.Number, Hash: v.Hash, Created: v.Created.Format("2006-01-02T15:04:05Z07:00"),
		From: v.From, Bytes: len(v.Compact), Live: live != nil && live.v.Number == v.Number,
	}
}

// pushResult answers a push or a rollback: 201 with the new version, or 200 when the set equals the live one.
type pushResult struct {
	versionInfo
	Changed bool `json:"changed"`
}

func (s *Server) writePushed(w http.ResponseWriter, v *store.Version, changed bool) {
	status := http.StatusOK
	if changed {
		status = http.StatusCreated
	}
	writeJSON(w, status, pushResult{versionInfo: s.info(v), Changed: changed})
}

func (s *Server) apiPush(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	v, changed, err := s.Push(b)
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	s.writePushed(w, v, changed)
}

func (s *Server) apiValidate(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	if _, err := ParseRules(b); err != nil {
		s.writeRulesError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// apiLive answers the live version with the rules as the operator pushed them.
func (s *Server) apiLive(w http.ResponseWriter, r *http.Request) {
	live := s.live.Load()
	if live == nil {
		writeError(w, http.StatusNotFound, "no rule set has been pushed")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		versionInfo
		Rules json.RawMessage `json:"rules"`
	}{s.info(live.v), json.RawMessage(live.v.JSON)})
}

func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.store.Versions()
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	out := make([]versionInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, s.info(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

func (s *Server) apiRollback(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Version uint64 `json:"version"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Version == 0 {
		writeError(w, http.StatusBadRequest, `the body must be {"version": N} with N a stored version`)
		return
	}
	v, changed, err := s.Rollback(req.Version)
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	s.writePushed(w, v, changed)
}
