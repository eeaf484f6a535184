// Command sharethings is the ShareThings server and its command-line client.
//
// With no subcommand, or with "serve", it runs the server with settings from flags and
// SHARETHINGS_* environment variables. Only this package reads flags and the environment.
//
//	@title						ShareThings API
//	@version					0.1.0
//	@description				End-to-end encrypted sharing of text, images and files between devices. Clients encrypt everything; the server stores ciphertext and relays events. Errors are RFC 9457 problem+json bodies with a stable `code`.
//	@BasePath					/
//	@tag.name					sessions
//	@tag.description			Create, join and leave sessions; session tokens.
//	@tag.name					server
//	@tag.description			What a client needs to know about this server.
//	@tag.name					operations
//	@tag.description			Health, readiness, metrics and this documentation.
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				Session token returned by join (a JWT), sent as "Authorization: Bearer <token>".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sharethings/sharethings/api"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "healthcheck":
		return healthcheck(args, stderr)
	case "version":
		fmt.Fprintln(stdout, "sharethings", api.Version)
		return 0
	case "help":
		usage(stdout)
		return 0
	}
	if _, ok := clientCommands[cmd]; ok {
		return runClient(cmd, args, cliEnv{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv})
	}
	fmt.Fprintf(stderr, "sharethings: unknown command %q (try: sharethings help)\n", cmd)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sharethings [serve] [flags]   run the server")
	fmt.Fprintln(w, "       sharethings healthcheck       exit 0 if the local server answers /healthz")
	fmt.Fprintln(w, "       sharethings version           print the version")
	fmt.Fprintln(w, "\nClient (sharethings COMMAND -h for each):")
	fmt.Fprintln(w, "       sharethings send -s SESSION [FILE|DIR|-]...   encrypt and share files or stdin")
	fmt.Fprintln(w, "       sharethings watch -s SESSION [--dir DIR]      receive every new item (text to stdout)")
	fmt.Fprintln(w, "       sharethings receive -s SESSION [--dir DIR]    receive the next item, then exit")
	fmt.Fprintln(w, "       sharethings ls -s SESSION [--json]            list items")
	fmt.Fprintln(w, "       sharethings get -s SESSION ID [-o FILE]       download one item")
	fmt.Fprintln(w, "       sharethings rm|pin|unpin -s SESSION ID...     delete, pin or unpin items")
	fmt.Fprintln(w, "       sharethings fingerprint -s SESSION            print a join body for curl")
	fmt.Fprintln(w, "  The passphrase comes from SHARETHINGS_PASSPHRASE, --passphrase-file or a prompt;")
	fmt.Fprintln(w, "  the server from --server or SHARETHINGS_SERVER. Exit codes: 0 ok, 1 failure, 2 usage,")
	fmt.Fprintln(w, "  3 wrong passphrase or refused token, 4 not found, 5 item failed verification,")
	fmt.Fprintln(w, "  6 over a server limit, 130 interrupted.")
	fmt.Fprintln(w, "\nServer settings (flag, environment variable, meaning, default):")
	PrintSettings(w)
}

func serve(args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseConfig(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	} else if err != nil {
		fmt.Fprintf(stderr, "sharethings: %v\n", err)
		return 2
	}
	slog.SetDefault(newLogger(cfg, stderr))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := OpenApp(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sharethings: %v\n", err)
		return 1
	}
	if err := app.Serve(ctx); err != nil {
		slog.Error("server failed", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
