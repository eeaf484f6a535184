// Command sharethings-load is the project's event fan-out benchmark. In one run it starts the
// real server and, for comparison, a bare r3labs/sse server (this binary re-executed with
// -baseline-server), each as a child process on 127.0.0.1, and for every subscriber count it
// opens that many SSE streams to one session, publishes events one at a time and reports
// publish→receipt latency (p50/p99/max) and the server's resident memory per idle subscriber.
//
// The load client is its own process so that it and the server each have their own open-file
// limit, and it is light: one goroutine and one raw TCP connection per subscriber. Events carry
// no timestamps; the publisher records when it sent each one and every subscriber when it saw
// it, matched by the content id the publisher chose.
//
// It exits non-zero only when a round cannot be run (a server that does not start, streams
// that cannot be opened), never because a number is worse than expected. It imports nothing
// from the server: it talks HTTP to the binary, like any client.
//
//	go run ./cmd/sharethings-load -subscribers 1,100,1000,10000 -events 200
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the load tool's flags.
type options struct {
	subscribers   []int
	events        int
	warmup        int
	interval      time.Duration
	inFlight      int
	clients       int
	connectPar    int
	connectWait   time.Duration
	drain         time.Duration
	settle        time.Duration
	plainLen      int
	targets       []string
	serverBin     string
	serverArgs    string
	timeout       time.Duration
	logDir        string
	baselineAddr  string
	baselineServe bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	opts, err := parseOptions(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sharethings-load: %v\n", err)
		return 2
	}
	if opts.baselineServe {
		return serveBaseline(opts.baselineAddr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	if err := raiseOpenFiles(); err != nil {
		fmt.Fprintf(os.Stderr, "sharethings-load: %v\n", err)
	}
	results, err := runAll(ctx, opts)
	printReport(os.Stdout, opts, results)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sharethings-load: %v\n", err)
		return 1
	}
	return 0
}

func parseOptions(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("sharethings-load", flag.ContinueOnError)
	subs := fs.String("subscribers", "1,100,1000,10000", "comma-separated subscriber counts, one round each")
	targets := fs.String("targets", "sharethings,baseline", "servers to measure: sharethings, baseline or both")
	fs.IntVar(&o.events, "events", 200, "measured events per round, published one at a time")
	fs.IntVar(&o.warmup, "warmup", 10, "events published first and left out of the numbers")
	fs.DurationVar(&o.interval, "interval", 20*time.Millisecond, "time between the starts of two publishes")
	fs.IntVar(&o.inFlight, "in-flight", 1, "publish an event only when the one this many before it has reached every stream (0: a fixed schedule)")
	fs.IntVar(&o.clients, "clients", 100, "ShareThings clients joined per round; subscribers share their tokens round-robin (0: one client per subscriber)")
	fs.IntVar(&o.connectPar, "connect-parallel", 64, "streams being opened at once")
	fs.DurationVar(&o.connectWait, "connect-timeout", 3*time.Minute, "how long opening all streams of a round may take")
	fs.DurationVar(&o.drain, "drain", 20*time.Second, "how long to wait for the last deliveries after the last publish")
	fs.DurationVar(&o.settle, "settle", time.Second, "pause before reading the server's memory after the streams are open")
	fs.IntVar(&o.plainLen, "plain-len", 100, "plaintext length of the announced items (sets totalSize)")
	fs.StringVar(&o.serverBin, "server-bin", "", "ShareThings server binary (default: go build ./cmd/sharethings into a temp dir)")
	fs.StringVar(&o.serverArgs, "server-args", "", "extra space-separated flags for the ShareThings server")
	fs.StringVar(&o.logDir, "log-dir", "", "keep each server's output here as <target>-<subscribers>.log (e.g. with GODEBUG=gctrace=1)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "the whole run stops after this long")
	fs.BoolVar(&o.baselineServe, "baseline-server", false, "internal: run the bare r3labs/sse server and nothing else")
	fs.StringVar(&o.baselineAddr, "addr", "127.0.0.1:0", "internal: the -baseline-server listen address")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.subscribers, err = parseCounts(*subs); err != nil {
		return nil, fmt.Errorf("invalid -subscribers: %v", err)
	}
	if o.targets, err = parseTargets(*targets); err != nil {
		return nil, fmt.Errorf("invalid -targets: %v", err)
	}
	if o.events < 1 || o.warmup < 0 || o.connectPar < 1 || o.clients < 0 || o.inFlight < 0 || o.interval <= 0 {
		return nil, fmt.Errorf("-events, -connect-parallel and -interval must be positive, -warmup, -clients and -in-flight at least 0")
	}
	return o, nil
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 100_000 {
			return nil, fmt.Errorf("%q is not a count from 1 to 100000", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseTargets(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case targetOurs, targetBaseline:
			out = append(out, f)
		default:
			return nil, fmt.Errorf("unknown target %q", f)
		}
	}
	return out, nil
}

// raiseOpenFiles lifts the soft open-file limit to the hard one: every subscriber is a socket.
func raiseOpenFiles() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit to %d: %w", lim.Max, err)
	}
	return nil
}
