package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// result is one round: one server kind at one subscriber count.
type result struct {
	Target      string `json:"target"`
	Subscribers int    `json:"subscribers"`
	Events      int    `json:"events"`
	latency
	Lost        int     `json:"lost"`    // deliveries that never arrived
	Dropped     int     `json:"dropped"` // streams that ended while the round ran
	OpenSeconds float64 `json:"open_s"`
	// ServerStreams is the server's own count of open streams once all were open (-1: unknown).
	ServerStreams int `json:"server_streams"`
	// TeardownSeconds is how long the server took to count none after the client closed them.
	TeardownSeconds float64 `json:"teardown_s"`
	RSSBeforeKiB    int64   `json:"rss_before_kib"`
	RSSIdleKiB      int64   `json:"rss_idle_kib"`
	RSSAfterKiB     int64   `json:"rss_after_kib"`
	KiBPerSub       float64 `json:"kib_per_sub"`
	PublishSeconds  float64 `json:"publish_s"`     // wall time of publishing and draining
	CPUSeconds      float64 `json:"publish_cpu_s"` // server CPU time meanwhile
	LogLines        int     `json:"server_log_lines"`
	Err             string  `json:"error,omitempty"`
}

// runAll runs every round, rounds in series so that only one server runs at a time. It
// returns the results so far and the first error, after trying every round.
func runAll(ctx context.Context, o *options) ([]result, error) {
	dir, err := os.MkdirTemp("", "sharethings-load-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if o.serverBin == "" && slices.Contains(o.targets, targetOurs) {
		if o.serverBin, err = buildServer(ctx, dir); err != nil {
			return nil, err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var results []result
	var errs []error
	for _, n := range o.subscribers {
		for _, kind := range o.targets {
			if ctx.Err() != nil {
				return results, errors.Join(append(errs, ctx.Err())...)
			}
			r := runRound(ctx, o, newServer(kind, o, self), kind, n, dir)
			results = append(results, r)
			if r.Err != "" {
				errs = append(errs, fmt.Errorf("%s with %d subscribers: %s", kind, n, r.Err))
			}
		}
	}
	return results, errors.Join(errs...)
}

// buildServer compiles ./cmd/sharethings (run from the module root) into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sharethings")
	logf("building ./cmd/sharethings")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sharethings")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the server (run from the module root or pass -server-bin): %w", err)
	}
	return bin, nil
}

// runRound measures one server kind with n subscribers, starting it fresh in its own temp dir.
func runRound(ctx context.Context, o *options, srv server, kind string, n int, parent string) result {
	r := result{Target: kind, Subscribers: n, Events: o.events}
	dir, err := os.MkdirTemp(parent, kind+"-*")
	if err == nil {
		defer os.RemoveAll(dir)
		err = measure(ctx, o, srv, n, dir, &r)
	}
	if err != nil {
		r.Err = err.Error()
		logf("%s n=%d: %v", kind, n, err)
	}
	return r
}

func measure(ctx context.Context, o *options, srv server, n int, dir string, r *result) error {
	logf("%s n=%d: starting the server", r.Target, n)
	c, err := srv.start(ctx, dir)
	if err != nil {
		return err
	}
	defer func() {
		c.stop()
		r.LogLines = c.logLines()
		if o.logDir != "" {
			c.keepLog(filepath.Join(o.logDir, fmt.Sprintf("%s-%d.log", r.Target, n)))
		}
	}()
	if err := srv.prepare(ctx, n); err != nil {
		return err
	}
	if r.RSSBeforeKiB, err = settledRSS(ctx, c, o.settle); err != nil {
		return err
	}
	ids := make([]string, o.warmup+o.events)
	for i := range ids {
		ids[i] = newUUID()
	}
	f := newFanout(ids, n)
	streamCtx, cancel := context.WithCancel(ctx)
	defer f.close(cancel)
	if err := openAll(streamCtx, o, srv, c, f, r); err != nil {
		return err
	}
	if r.RSSIdleKiB, err = settledRSS(ctx, c, o.settle); err != nil {
		return err
	}
	if r.ServerStreams, err = srv.openStreams(ctx); err != nil {
		return err
	}
	r.KiBPerSub = float64(r.RSSIdleKiB-r.RSSBeforeKiB) / float64(n)
	published, err := publishAll(ctx, o, srv, c, f, ids, r)
	if err != nil {
		return err
	}
	f.close(cancel)
	r.TeardownSeconds = waitStreamsClosed(ctx, srv)
	collect(f, published, o.warmup, r)
	return c.exitedEarly()
}

// collect turns what the streams saw into the round's numbers.
func collect(f *fanout, published []int64, warmup int, r *result) {
	samples, lost := latencies(f.streams, published, warmup)
	r.latency, r.Lost, r.Dropped = summarize(samples), lost, int(f.ended.Load())
	logf("%s n=%d: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.1f KiB/subscriber, lost %d, dropped %d, "+
		"server counted %d streams and %.1fs to let go of them",
		r.Target, r.Subscribers, r.P50ms, r.P99ms, r.MaxMs, r.KiBPerSub, r.Lost, r.Dropped, r.ServerStreams, r.TeardownSeconds)
}

// openAll opens every stream and waits until all are open.
func openAll(ctx context.Context, o *options, srv server, c *child, f *fanout, r *result) error {
	start := time.Now()
	f.openBy = start.Add(o.connectWait)
	opened := make(chan error, len(f.streams))
	f.open(ctx, c.addr, srv, o.connectPar, opened)
	var failed int
	var first error
	for range f.streams {
		if err := <-opened; err != nil {
			failed++
			first = firstOf(first, err)
		}
	}
	r.OpenSeconds = time.Since(start).Seconds()
	if failed > 0 {
		return fmt.Errorf("%d of %d streams did not open; the first error: %w", failed, len(f.streams), first)
	}
	logf("%s n=%d: %d streams open in %.1fs", r.Target, len(f.streams), len(f.streams), r.OpenSeconds)
	return nil
}

// publishAll publishes one event per id, one at a time, starting one every interval; with
// inFlight > 0 an event also waits until the one inFlight before it has reached every stream,
// so that fan-out is measured rather than a queue of events (open loop, inFlight 0, can
// overload the machine and then measures how long the run lasted). It then waits for the
// deliveries (at most the drain time) and returns the publish times.
func publishAll(ctx context.Context, o *options, srv server, c *child, f *fanout, ids []string, r *result) ([]int64, error) {
	cpu0, err := c.cpuTime()
	if err != nil {
		return nil, err
	}
	published := make([]int64, len(ids))
	start, last := time.Now(), time.Time{}
	for i, id := range ids {
		due := start.Add(time.Duration(i) * o.interval)
		if o.inFlight > 0 {
			if i >= o.inFlight {
				waitArrival(ctx, f, i-o.inFlight, o.drain)
			}
			due = last.Add(o.interval)
		}
		if err := sleepUntil(ctx, due); err != nil {
			return nil, err
		}
		last, published[i] = time.Now(), f.now()
		if err := srv.publish(ctx, id); err != nil {
			return nil, fmt.Errorf("publishing event %d: %w", i, err)
		}
	}
	waitDeliveries(ctx, f, int64(len(ids)), o.drain)
	r.PublishSeconds = time.Since(start).Seconds()
	cpu1, err := c.cpuTime()
	if err != nil {
		return nil, err
	}
	r.CPUSeconds = (cpu1 - cpu0).Seconds()
	r.RSSAfterKiB, err = c.rssKiB()
	return published, err
}

// waitArrival waits until event i has reached every open stream, or for at most limit.
func waitArrival(ctx context.Context, f *fanout, i int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !f.everywhere(i) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(200 * time.Microsecond)
	}
}

// waitDeliveries waits until every open stream has every event, or for at most drain.
func waitDeliveries(ctx context.Context, f *fanout, events int64, drain time.Duration) {
	deadline := time.Now().Add(drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if f.received.Load() >= events*(int64(len(f.streams))-f.ended.Load()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStreamsClosed returns how long the server takes to count no open stream after the
// client closed them all (at most a minute), or -1 when it does not count them.
func waitStreamsClosed(ctx context.Context, srv server) float64 {
	start := time.Now()
	for time.Since(start) < time.Minute && ctx.Err() == nil {
		n, err := srv.openStreams(ctx)
		if err != nil || n < 0 {
			return -1
		}
		if n == 0 {
			return time.Since(start).Seconds()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start).Seconds()
}

// settledRSS waits for the server to settle, then reads its resident memory.
func settledRSS(ctx context.Context, c *child, settle time.Duration) (int64, error) {
	if err := sleepUntil(ctx, time.Now().Add(settle)); err != nil {
		return 0, err
	}
	return c.rssKiB()
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstOf keeps the first non-nil error.
func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
