package server

import (
	"net/http"
)

// The operator dashboard: a static page (web/static/dashboard/, public, served by the static handler) whose
// every data call goes to the /api/ routes below with the operator's token, so without the token the page
// is an empty form.
//
// dashboardRoutes is called from apiRoutes; its /api/ routes are behind the same bearer-token check.
func (s *Server) dashboardRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/report", s.auth(s.apiReport))
	mux.Handle("GET /api/rules/history", s.auth(s.apiHistory))
	// The page holds the operator's token while it is open, so it gets a strict policy: its own scripts
	// only (no inline script a rule set's text could smuggle in), no framing (clickjacking a push or a
	// rollback), and no fetches anywhere but this server.
	mux.Handle("GET /dashboard/", dashboardHeaders(s.static))
}

const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func dashboardHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Report()
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.History()
	if err != nil {
		s.writeRulesError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}
