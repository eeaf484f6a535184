package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
)

// Exit codes of the client subcommands, documented in the README for scripts.
const (
	exitOK          = 0
	exitFailure     = 1 // anything else: server unreachable, I/O error, server error
	exitUsage       = 2 // bad flags or arguments, no passphrase available
	exitAuth        = 3 // wrong passphrase, or the server refused the session token
	exitNotFound    = 4 // no such session or item
	exitIntegrity   = 5 // an item failed verification: tampered with, or not what was announced
	exitRefused     = 6 // over a server limit: item too large, quota, rate limit, full disk
	exitInterrupted = 130
)

// The environment variables of the client subcommands (the server's are in the settings table).
const (
	envServer     = "SHARETHINGS_SERVER"
	envSession    = "SHARETHINGS_SESSION"
	envName       = "SHARETHINGS_NAME"
	envPassphrase = "SHARETHINGS_PASSPHRASE"
)

var clientEnvironment = []string{envServer, envSession, envName, envPassphrase}

// defaultIterations is what a session created from the CLI uses, as the web app does.
const defaultIterations = 600_000

// cliEnv is what the client subcommands share: where to write, and the environment.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// clientFlags are the flags every client subcommand takes.
type clientFlags struct {
	server, session, name, passphraseFile string
	quiet                                 bool
}

func (f *clientFlags) register(fs *flag.FlagSet, env cliEnv) {
	server := env.getenv(envServer)
	if server == "" {
		server = "http://localhost:8080"
	}
	name := env.getenv(envName)
	if name == "" {
		host, _ := os.Hostname()
		name = "cli@" + host
	}
	fs.StringVar(&f.server, "server", server, "server URL (env SHARETHINGS_SERVER)")
	fs.StringVar(&f.session, "s", env.getenv(envSession), "session id (env SHARETHINGS_SESSION)")
	fs.StringVar(&f.session, "session", env.getenv(envSession), "session id (env SHARETHINGS_SESSION)")
	fs.StringVar(&f.name, "name", name, "this device's name as others see it (env SHARETHINGS_NAME)")
	fs.StringVar(&f.passphraseFile, "passphrase-file", "", "read the passphrase from this file (else env SHARETHINGS_PASSPHRASE, else a prompt)")
	fs.BoolVar(&f.quiet, "q", false, "no progress or notices on stderr")
}

// usageError is a mistake in the command line: exit 2 with the message.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// integrityError is an item that failed verification; its message names the item.
type integrityError struct{ err error }

func (e integrityError) Error() string { return e.err.Error() }
func (e integrityError) Unwrap() error { return e.err }

// helpRequested is -h or --help: the command's usage goes to stdout, exit 0.
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// parseClientFlags parses a subcommand's flags and checks the session id.
func parseClientFlags(fs *flag.FlagSet, f *clientFlags, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return helpRequested{fs}
	} else if err != nil {
		return usageError{err.Error()}
	}
	if f.session == "" {
		return usagef("no session: pass -s SESSION or set SHARETHINGS_SESSION")
	}
	if err := api.ValidateSessionID(f.session); err != nil {
		return usagef("%q is not a session id: letters, digits, - and _, up to 64", f.session)
	}
	return nil
}

// passphrase reads the passphrase from the file, the environment or, on a terminal, a prompt
// that does not echo. It is never taken from the command line, where other users could see it.
func (f *clientFlags) passphrase(env cliEnv) (string, error) {
	if f.passphraseFile != "" {
		raw, err := os.ReadFile(f.passphraseFile)
		if err != nil {
			return "", usagef("passphrase file: %v", err)
		}
		return strings.TrimRight(string(raw), "\r\n"), nil
	}
	if p := env.getenv(envPassphrase); p != "" {
		return p, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", usagef("no passphrase: set SHARETHINGS_PASSPHRASE, pass --passphrase-file, or run on a terminal")
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Passphrase for %s: ", f.session)
	raw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil || len(raw) == 0 {
		return "", usagef("no passphrase entered")
	}
	return string(raw), nil
}

// session is a joined session: the API client with its token, and the session's keys.
type session struct {
	api  *client.Client
	keys *e2ee.Keys
	join *client.JoinResult
}

// open derives the keys and joins the session, creating it when it does not exist yet.
func (f *clientFlags) open(ctx context.Context, env cliEnv) (*session, error) {
	pass, err := f.passphrase(env)
	if err != nil {
		return nil, err
	}
	c := client.New(f.server)
	c.UserAgent = "sharethings-cli/" + api.Version
	for attempt := 0; ; attempt++ {
		s, err := joinOnce(ctx, c, f.session, f.name, pass)
		var refused *client.Error
		if attempt < 3 && errors.As(err, &refused) && refused.Code == api.ERATELIMITED && refused.RetryAfter > 0 {
			f.notef(env, "joining too often: waiting %s as the server asks", refused.RetryAfter)
			if err := sleepCtx(ctx, refused.RetryAfter); err != nil {
				return nil, err
			}
			continue
		}
		return s, err
	}
}

// joinOnce makes one attempt: fetch the kdf parameters (or make new ones), derive, join.
func joinOnce(ctx context.Context, c *client.Client, sid, name, pass string) (*session, error) {
	var kdf *api.KDF
	info, err := c.Session(ctx, sid)
	switch {
	case client.IsCode(err, api.ESESSIONNOTFOUND):
		fresh := e2ee.NewKDF(defaultIterations)
		kdf = &fresh
	case err != nil:
		return nil, err
	default:
		kdf = &info.KDF
	}
	keys, err := e2ee.DeriveKeys(pass, *kdf)
	if err != nil {
		return nil, err
	}
	if info != nil {
		kdf = nil // joining an existing session: the stored parameters apply
	}
	join, err := c.Join(ctx, sid, name, keys.Fingerprint(sid), kdf)
	if client.IsCode(err, api.ESESSIONEXISTS) {
		return joinOnce(ctx, c, sid, name, pass) // created meanwhile by someone else
	}
	if err != nil {
		return nil, err
	}
	return &session{api: c, keys: keys, join: join}, nil
}

// close ends this client's presence at once, so others do not see it linger.
func (s *session) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.api.Leave(ctx)
}

func (f *clientFlags) notef(env cliEnv, format string, args ...any) {
	if !f.quiet {
		fmt.Fprintf(env.stderr, "sharethings: "+format+"\n", args...)
	}
}

// clientCommands are the client subcommands with their usage texts.
var clientCommands = map[string]struct {
	usage string
	run   func(ctx context.Context, args []string, env cliEnv) error
}{
	"send":        {sendUsage, sendCmd},
	"watch":       {watchUsage, func(ctx context.Context, args []string, env cliEnv) error { return watchCmd(ctx, args, env, false) }},
	"receive":     {watchUsage, func(ctx context.Context, args []string, env cliEnv) error { return watchCmd(ctx, args, env, true) }},
	"ls":          {lsUsage, lsCmd},
	"get":         {getUsage, getCmd},
	"rm":          {manageUsage, func(ctx context.Context, args []string, env cliEnv) error { return manageCmd(ctx, "rm", args, env) }},
	"pin":         {manageUsage, func(ctx context.Context, args []string, env cliEnv) error { return manageCmd(ctx, "pin", args, env) }},
	"unpin":       {manageUsage, func(ctx context.Context, args []string, env cliEnv) error { return manageCmd(ctx, "unpin", args, env) }},
	"fingerprint": {fingerprintUsage, fingerprintCmd},
}

// runClient runs a client subcommand until it ends or the user interrupts it.
func runClient(name string, args []string, env cliEnv) int {
	cmd := clientCommands[name]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args, env)
	var help helpRequested
	if errors.As(err, &help) {
		fmt.Fprint(env.stdout, cmd.usage, "\nFlags:\n")
		help.fs.SetOutput(env.stdout)
		help.fs.PrintDefaults()
		return exitOK
	}
	return exitCode(env, name, err)
}

// exitCode reports err on stderr in one line and maps it to the documented exit codes.
func exitCode(env cliEnv, cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(env.stderr, "sharethings %s: %s\n", cmd, describe(err))
	var usage usageError
	var integrity integrityError
	var refused *client.Error
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &integrity), errors.Is(err, e2ee.ErrDecrypt):
		return exitIntegrity
	case errors.As(err, &refused):
		return statusExit(refused)
	}
	return exitFailure
}

// statusExit maps a server's refusal to an exit code.
func statusExit(e *client.Error) int {
	switch {
	case e.Code == api.EFINGERPRINTMISMATCH || e.Status == 401 || e.Status == 403:
		return exitAuth
	case e.Status == 404:
		return exitNotFound
	case e.Status == 413 || e.Status == 429 || e.Status == 507:
		return exitRefused
	}
	return exitFailure
}

// describe words the errors users meet most in their terms.
func describe(err error) string {
	switch {
	case client.IsCode(err, api.EFINGERPRINTMISMATCH):
		return "wrong passphrase for this session"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return err.Error()
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isTerminal reports whether w is a terminal, where progress bars belong.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
