package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/coder/websocket"
)

// PlainServer is the comparison for push fan-out: a plain coder/websocket broadcast server, as its chat
// example does it, with nothing of Tailor's (no protocol, no store, no queues). /sync accepts clients;
// POST /broadcast?size=N sends N bytes to each of them. It runs until killed.
func PlainServer() error {
	var mu sync.Mutex
	conns := map[*websocket.Conn]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sync", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		// Reading keeps control frames flowing; clients send nothing else.
		c.Read(context.Background())
		mu.Lock()
		delete(conns, c)
		mu.Unlock()
	})
	mux.HandleFunc("POST /broadcast", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("size"))
		msg := make([]byte, n)
		mu.Lock()
		for c := range conns {
			go c.Write(context.Background(), websocket.MessageBinary, msg)
		}
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "listening on http://"+ln.Addr().String())
	return http.Serve(ln, mux)
}
