package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// printReport writes the comparison table, then the results as one JSON line.
func printReport(w io.Writer, o *options, results []result) {
	fmt.Fprintf(w, "\nfan-out of %d events (+%d warm-up), one every %s, to one session; latency in ms, memory in KiB per idle subscriber\n",
		o.events, o.warmup, o.interval)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "subscribers\tours_p50\tours_p99\tours_max\tbase_p50\tbase_p99\tbase_max\tp99_ratio\tours_KiB/sub\tbase_KiB/sub\tmem_ratio\tours_cpu_ms/ev\tbase_cpu_ms/ev\tlost\tdropped\t")
	for _, n := range o.subscribers {
		ours, base := find(results, targetOurs, n), find(results, targetBaseline, n)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n,
			num(ours, ours.P50ms), num(ours, ours.P99ms), num(ours, ours.MaxMs),
			num(base, base.P50ms), num(base, base.P99ms), num(base, base.MaxMs),
			ratio(ours, base, ours.P99ms, base.P99ms),
			num(ours, ours.KiBPerSub), num(base, base.KiBPerSub),
			ratio(ours, base, ours.KiBPerSub, base.KiBPerSub),
			num(ours, cpuPerEvent(ours, o)), num(base, cpuPerEvent(base, o)),
			pair(ours, base, func(r *result) int { return r.Lost }),
			pair(ours, base, func(r *result) int { return r.Dropped }))
	}
	tw.Flush()
	fmt.Fprintln(w, "lost/dropped: deliveries that never came and streams that ended early, as ours/base")
	for _, r := range results {
		if r.Err != "" {
			fmt.Fprintf(w, "error: %s with %d subscribers: %s\n", r.Target, r.Subscribers, r.Err)
		}
		if r.LogLines > 0 {
			fmt.Fprintf(w, "note: %s with %d subscribers logged %d warning lines\n", r.Target, r.Subscribers, r.LogLines)
		}
	}
	line, _ := json.Marshal(map[string]any{
		"benchmark": "sharethings-events-fanout", "events": o.events, "warmup": o.warmup,
		"interval_ms": o.interval.Milliseconds(), "results": results,
	})
	fmt.Fprintf(w, "%s\n", line)
}

// find returns the result of a round, or a stand-in marked as missing.
func find(results []result, target string, n int) *result {
	for i := range results {
		if results[i].Target == target && results[i].Subscribers == n {
			return &results[i]
		}
	}
	return &result{Err: "not run"}
}

// cpuPerEvent is the server's CPU time per published event, in ms.
func cpuPerEvent(r *result, o *options) float64 {
	return r.CPUSeconds * 1000 / float64(o.events+o.warmup)
}

func num(r *result, v float64) string {
	if r.Err != "" {
		return "-"
	}
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(a, b *result, x, y float64) string {
	if a.Err != "" || b.Err != "" || y == 0 || math.IsNaN(x/y) {
		return "-"
	}
	return fmt.Sprintf("%.2f", x/y)
}

func pair(a, b *result, v func(*result) int) string {
	s := func(r *result) string {
		if r.Err != "" {
			return "-"
		}
		return fmt.Sprint(v(r))
	}
	return s(a) + "/" + s(b)
}
