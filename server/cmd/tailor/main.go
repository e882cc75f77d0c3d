// Command tailor is Tailor's server and its operators' tool.
//
//	tailor serve     run the server (web files, /sync, /api/)
//	tailor validate  check a rule-set file offline
//	tailor push      push a rule-set file to a server
//	tailor rollback  make an earlier version live again
//	tailor stats     read the anonymized counts
//
// Every subcommand takes --help. Flags are read here only; the server package takes a Config.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

const usage = `tailor: a website that tailors itself without visitor data leaving the browser.

Usage:
  tailor serve    [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--token T | --token-file F] [--origins O,...] [--k 10]
  tailor validate FILE
  tailor push     [--server URL] [--token T | --token-file F] FILE
  tailor rollback [--server URL] [--token T | --token-file F] VERSION
  tailor stats    [--server URL] [--token T | --token-file F]

The token may also come from the environment variable TAILOR_TOKEN.
Run "tailor COMMAND --help" for a command's flags.
`

// errUsage is returned for a command line that does not parse; its message has been printed already.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 done, 1 failed, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"serve":    cmdServe,
		"validate": cmdValidate,
		"push":     cmdPush,
		"rollback": cmdRollback,
		"stats":    cmdStats,
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "tailor: unknown command %q\n\n%s", name, usage)
		return 2
	}
	err := cmd(args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "tailor %s: %v\n", name, err)
		return 1
	}
}

// newFlags makes a subcommand's flag set that prints its usage line and flags on --help.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tailor "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tailor %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a subcommand's flags and maps a parse failure to errUsage (flag has printed why).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// tokenFlags adds --token and --token-file and returns a function resolving the token: the flag, else the
// file, else $TAILOR_TOKEN.
func tokenFlags(fs *flag.FlagSet) func() (string, error) {
	token := fs.String("token", "", "operators' bearer token (visible to other local users in ps: prefer --token-file or TAILOR_TOKEN)")
	file := fs.String("token-file", "", "read the operators' bearer token from this file")
	return func() (string, error) {
		switch {
		case *token != "":
			return *token, nil
		case *file != "":
			b, err := os.ReadFile(*file)
			if err != nil {
				return "", fmt.Errorf("reading token file: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		default:
			return os.Getenv("TAILOR_TOKEN"), nil
		}
	}
}

func newLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
