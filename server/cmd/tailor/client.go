package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/tailor/tailor/server"
	"github.com/tailor/tailor/shared/rules"
)

// errInvalid is returned when a rule set does not validate; the problems have been printed already.
var errInvalid = errors.New("the rule set does not validate")

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "validate FILE\n\nChecks a rule-set file offline, with the same errors the server's API reports.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if _, err := server.ParseRules(b); err != nil {
		var ps rules.Problems
		if !errors.As(err, &ps) {
			ps = rules.Problems{{Msg: err.Error()}}
		}
		printProblems(stderr, fs.Arg(0), ps)
		return errInvalid
	}
	fmt.Fprintf(stdout, "%s: ok\n", fs.Arg(0))
	return nil
}

func printProblems(w io.Writer, file string, ps rules.Problems) {
	for _, p := range ps {
		fmt.Fprintf(w, "%s: %s\n", file, p.String())
	}
}

// client is an operator's connection to a server's API.
type client struct {
	base  string
	token string
	http  *http.Client
}

// clientFlags adds --server and the token flags shared by push, rollback and stats.
func clientFlags(fs *flag.FlagSet) func() (*client, error) {
	srv := fs.String("server", envOr("TAILOR_SERVER", "http://127.0.0.1:8080"), "server URL (or TAILOR_SERVER)")
	token := tokenFlags(fs)
	return func() (*client, error) {
		tok, err := token()
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return nil, errors.New("no token: pass --token, --token-file or set TAILOR_TOKEN")
		}
		return &client{base: strings.TrimSuffix(*srv, "/"), token: tok, http: &http.Client{Timeout: 30 * time.Second}}, nil
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// do sends a request and decodes a JSON answer into out. An API error becomes an error holding its
// problems (rules.Problems for 4xx answers that carry them).
func (c *client) do(method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errors.New("401 unauthorized: wrong or missing token")
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Errors rules.Problems `json:"errors"`
		}
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			if resp.StatusCode == http.StatusUnprocessableEntity {
				return fmt.Errorf("%s: %w", resp.Status, e.Errors)
			}
			msgs := make([]string, len(e.Errors))
			for i, p := range e.Errors {
				msgs[i] = p.String()
			}
			return fmt.Errorf("%s: %s", resp.Status, strings.Join(msgs, "; "))
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return nil
}

// pushAnswer is what push and rollback print.
type pushAnswer struct {
	Version uint64 `json:"version"`
	Hash    string `json:"hash"`
	Changed bool   `json:"changed"`
	From    uint64 `json:"rolled_back_from"`
}

func (a *pushAnswer) print(w io.Writer) {
	switch {
	case !a.Changed:
		fmt.Fprintf(w, "unchanged: version %d (hash %s) is live and has the same rules\n", a.Version, a.Hash)
	case a.From != 0:
		fmt.Fprintf(w, "version %d (hash %s) is live, with the rules of version %d\n", a.Version, a.Hash, a.From)
	default:
		fmt.Fprintf(w, "version %d (hash %s) is live\n", a.Version, a.Hash)
	}
}

func cmdPush(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", "push [flags] FILE\n\nValidates a rule-set file on the server and makes it the live version.", stderr)
	newClient := clientFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var a pushAnswer
	if err := c.do("POST", "/api/rules", b, &a); err != nil {
		var ps rules.Problems
		if errors.As(err, &ps) {
			printProblems(stderr, fs.Arg(0), ps)
			return errInvalid
		}
		return err
	}
	a.print(stdout)
	return nil
}

func cmdRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rollback", "rollback [flags] VERSION\n\nPublishes the rules of an earlier version as a new live version.", stderr)
	newClient := clientFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	n, err := strconv.ParseUint(fs.Arg(0), 10, 64)
	if err != nil || n == 0 {
		fmt.Fprintf(stderr, "tailor rollback: %q is not a version number\n", fs.Arg(0))
		return errUsage
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var a pushAnswer
	if err := c.do("POST", "/api/rules/rollback", []byte(`{"version":`+strconv.FormatUint(n, 10)+`}`), &a); err != nil {
		return err
	}
	a.print(stdout)
	return nil
}

func cmdStats(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stats", "stats [flags]\n\nPrints every counter's sum per report window; sums under k show as suppressed.", stderr)
	newClient := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON as is")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var st server.Stats
	if err := c.do("GET", "/api/stats", nil, &st); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(&st)
	}
	printStats(stdout, &st)
	return nil
}

func printStats(w io.Writer, st *server.Stats) {
	fmt.Fprintf(w, "k = %d (sums under k are suppressed)\n", st.K)
	fmt.Fprintf(w, "%-20s  %-10s  %-50s  %s\n", "window start", "kind", "counter", "sum")
	for _, c := range st.Counters {
		sum := "suppressed"
		if !c.Suppressed {
			sum = strconv.FormatUint(c.Sum, 10)
		}
		fmt.Fprintf(w, "%-20s  %-10s  %-50s  %s\n", c.WindowStart, c.Kind, describe(&c), sum)
	}
}

func describe(c *server.Stat) string {
	switch c.Kind {
	case "exposure":
		return "slot=" + c.Slot + " variant=" + c.Variant + " arm=" + c.Arm
	case "conversion":
		return "goal=" + c.Goal + " slot=" + c.Slot + " variant=" + c.Variant + " arm=" + c.Arm
	case "segment":
		return "segment=" + c.Segment
	case "trigger":
		return "trigger=" + c.Trigger
	}
	return "?"
}
