package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary be the tailor binary: the serve test runs it as a child process, so it
// gets a real SIGTERM without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("TAILOR_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"tailor"}, strings.Fields(os.Getenv("TAILOR_TEST_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

var listening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

func TestServeSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TAILOR_TEST_AS_MAIN=1", "TAILOR_TEST_ARGS=serve --addr 127.0.0.1:0 --demo --data "+t.TempDir())
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	var url string
	for url == "" && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatal("no listening line")
	}
	go io.Copy(io.Discard, stderr)
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("no exit after SIGTERM")
	}
}
