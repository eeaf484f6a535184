package main

import (
	"math"
	"slices"
	"time"
)

// latency summarises publish→receipt times.
type latency struct {
	Samples int     `json:"samples"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of sorted values: the
// smallest value that at least p% of the values do not exceed. It returns 0 for no values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summarize sorts the samples (nanoseconds) in place and summarises them.
func summarize(samples []int64) latency {
	slices.Sort(samples)
	ms := func(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }
	l := latency{Samples: len(samples)}
	if len(samples) > 0 {
		l.P50ms, l.P99ms, l.MaxMs = ms(percentile(samples, 50)), ms(percentile(samples, 99)), ms(samples[len(samples)-1])
	}
	return l
}

// latencies pairs every stream's receipt times with the publish times, leaving out the first
// skip (warm-up) events. It returns the samples and how many deliveries never came.
func latencies(streams []*stream, published []int64, skip int) (samples []int64, lost int) {
	samples = make([]int64, 0, len(streams)*(len(published)-skip))
	for _, st := range streams {
		for i := skip; i < len(published); i++ {
			if st.recv[i] == 0 {
				lost++
				continue
			}
			samples = append(samples, st.recv[i]-published[i])
		}
	}
	return samples, lost
}
