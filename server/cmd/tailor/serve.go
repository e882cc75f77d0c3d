package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tailor/tailor/server"
)

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [flags]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port; the log says which)")
	data := fs.String("data", "./data", "folder of the embedded store")
	demo := fs.Bool("demo", false, "push the demo rule set as version 1 when the store has none")
	origins := fs.String("origins", "", "comma-separated origins (scheme://host:port) allowed to open /sync; empty: same origin only")
	k := fs.Int("k", 10, "stats cells under k are reported as suppressed (the live rule set's k applies when larger)")
	token := tokenFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tailor serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	tok, err := token()
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	if tok == "" {
		log.Warn("no operator token (--token, --token-file or TAILOR_TOKEN): the /api/ endpoints answer 401")
	}
	srv, err := server.New(server.Config{
		DataDir: *data,
		Token:   tok,
		Origins: splitList(*origins),
		K:       *k,
		Demo:    *demo,
		Logger:  log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("listen: %w", err)
	}
	// The line tests and scripts read to learn the real port when --addr ends in :0.
	log.Info("listening on http://" + ln.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
