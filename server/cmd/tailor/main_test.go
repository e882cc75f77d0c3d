package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor/tailor/server"
	"github.com/tailor/tailor/server/store"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, cmd := range []string{"serve", "validate", "push", "rollback", "stats"} {
		for _, flag := range []string{"--help", "-h"} {
			code, _, stderr := runCmd(cmd, flag)
			if code != 0 || !strings.Contains(stderr, "Usage: tailor "+cmd) {
				t.Errorf("%s %s: exit %d\n%s", cmd, flag, code, stderr)
			}
		}
	}
	if code, stdout, _ := runCmd("--help"); code != 0 || !strings.Contains(stdout, "tailor serve") {
		t.Errorf("--help: %d %s", code, stdout)
	}
	if code, _, _ := runCmd("nope"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := runCmd("serve", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
}

const good = `{"goals":[{"id":"signup"}],"slots":[{"id":"hero","default":{"id":"welcome","text":"Hi"}}]}`

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	if code, stdout, _ := runCmd("validate", writeFile(t, good)); code != 0 || !strings.Contains(stdout, "ok") {
		t.Errorf("a good set: %d %s", code, stdout)
	}
	code, _, stderr := runCmd("validate", writeFile(t, `{"slots":[{"id":"hero","default":{"id":""}}]}`))
	if code != 1 || !strings.Contains(stderr, "slots[0].default.id: missing id") {
		t.Errorf("a bad set: %d %s", code, stderr)
	}
	if code, _, _ := runCmd("validate"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

func TestPushRollbackStats(t *testing.T) {
	srv, err := server.New(server.Config{Token: "t0k", Store: store.NewMem(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	t.Setenv("TAILOR_TOKEN", "t0k")
	at := []string{"--server", ts.URL}

	code, stdout, stderr := runCmd(append([]string{"push"}, append(at, writeFile(t, good))...)...)
	if code != 0 || !strings.Contains(stdout, "version 1 ") {
		t.Fatalf("push: %d %s %s", code, stdout, stderr)
	}
	runCmd(append([]string{"push"}, append(at, writeFile(t, strings.Replace(good, "Hi", "Hello", 1)))...)...)
	code, _, stderr = runCmd(append([]string{"push"}, append(at, writeFile(t, `{"slots":[{"id":"x"}]}`))...)...)
	if code != 1 || !strings.Contains(stderr, "slots[0].default.id") {
		t.Errorf("push of a bad set: %d %s", code, stderr)
	}
	code, stdout, stderr = runCmd(append([]string{"rollback"}, append(at, "1")...)...)
	if code != 0 || !strings.Contains(stdout, "version 3 ") || !strings.Contains(stdout, "of version 1") {
		t.Errorf("rollback: %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr = runCmd(append([]string{"rollback"}, append(at, "9")...)...); code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("rollback to nothing: %d %s", code, stderr)
	}
	if code, stdout, _ = runCmd(append([]string{"stats"}, at...)...); code != 0 || !strings.Contains(stdout, "k = 10") {
		t.Errorf("stats: %d %s", code, stdout)
	}
	if code, _, stderr = runCmd("stats", "--server", ts.URL, "--token", "wrong"); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("a wrong token: %d %s", code, stderr)
	}
	tokenFile := writeFile(t, "t0k\n")
	if code, _, stderr = runCmd("stats", "--server", ts.URL, "--token-file", tokenFile); code != 0 {
		t.Errorf("--token-file: %d %s", code, stderr)
	}
}
