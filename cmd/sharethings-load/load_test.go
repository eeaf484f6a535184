package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	tests := map[string]struct {
		sorted []int64
		p      float64
		want   int64
	}{
		"Empty":            {nil, 50, 0},
		"One":              {[]int64{7}, 99, 7},
		"MedianOdd":        {[]int64{1, 2, 3}, 50, 2},
		"MedianEven":       {[]int64{1, 2, 3, 4}, 50, 2},
		"P99Of100":         {hundred, 99, 99},
		"P100IsMax":        {hundred, 100, 100},
		"TinyPIsMin":       {hundred, 0.001, 1},
		"P99OfTwoIsSecond": {[]int64{1, 2}, 99, 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("percentile(%v, %v) = %d, want %d", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := int64(time.Millisecond)
	l := summarize([]int64{3 * ms, 1 * ms, 2 * ms})
	if l.Samples != 3 || l.P50ms != 2 || l.P99ms != 3 || l.MaxMs != 3 {
		t.Fatalf("summarize = %+v", l)
	}
}

func TestLatencies(t *testing.T) {
	streams := []*stream{{recv: []int64{5, 15, 0}}, {recv: []int64{6, 0, 40}}}
	samples, lost := latencies(streams, []int64{1, 10, 20}, 1)
	if lost != 2 || len(samples) != 2 || samples[0] != 5 || samples[1] != 20 {
		t.Fatalf("latencies = %v, lost %d", samples, lost)
	}
}

func TestParseVmRSS(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		status := "Name:\tsharethings\nVmPeak:\t 1300 kB\nVmRSS:\t   28412 kB\nRssAnon:\t 20000 kB\n"
		if got, err := parseVmRSS(strings.NewReader(status)); err != nil || got != 28412 {
			t.Fatalf("parseVmRSS = %d, %v", got, err)
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
			t.Fatal("want an error for a status without VmRSS")
		}
	})
	t.Run("ErrUnit", func(t *testing.T) {
		if _, err := parseVmRSS(strings.NewReader("VmRSS:\t12 MB\n")); err == nil {
			t.Fatal("want an error for an unknown unit")
		}
	})
	t.Run("OwnProcess", func(t *testing.T) {
		if got, err := readRSS(os.Getpid()); err != nil || got <= 0 {
			t.Fatalf("own VmRSS = %d, %v", got, err)
		}
	})
}

func TestParseStatCPU(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// The command name holds a space and a parenthesis; utime 250, stime 50 ticks.
		stat := "4242 (my (srv) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0 12345 0 0\n"
		if got, err := parseStatCPU([]byte(stat)); err != nil || got != 3*time.Second {
			t.Fatalf("parseStatCPU = %v, %v", got, err)
		}
	})
	t.Run("ErrShort", func(t *testing.T) {
		if _, err := parseStatCPU([]byte("1 (x) S 1 2")); err == nil {
			t.Fatal("want an error for a short line")
		}
	})
}

func TestSeeRecordsFirstArrival(t *testing.T) {
	id := "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	f := newFanout([]string{id}, 1)
	st := f.streams[0]
	f.see([]byte(`data: {"contentId":"`+id+`","x":1}`+"\n"), st)
	first := st.recv[0]
	f.see([]byte(`data: {"contentId":"`+id+`"}`+"\n"), st)
	f.see([]byte(`data: {"contentId":"ffffffff-2b3d-4e5f-8a9b-0c1d2e3f4a5b"}`+"\n"), st)
	if first == 0 || st.recv[0] != first || f.received.Load() != 1 {
		t.Fatalf("recv %v, received %d", st.recv, f.received.Load())
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-subscribers", "1, 100", "-targets", "baseline"})
	if err != nil || len(o.subscribers) != 2 || o.subscribers[1] != 100 || o.targets[0] != targetBaseline {
		t.Fatalf("parseOptions = %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-subscribers", "0"}, {"-targets", "nginx"}, {"-events", "0"}} {
		if _, err := parseOptions(bad); err == nil {
			t.Fatalf("parseOptions(%v) accepted", bad)
		}
	}
}

func TestParseGauge(t *testing.T) {
	text := "# HELP sharethings_event_subscribers Event streams open now.\n" +
		"# TYPE sharethings_event_subscribers gauge\nsharethings_event_subscribers 1000\nsharethings_sessions 1\n"
	if n, err := parseGauge(text, "sharethings_event_subscribers"); err != nil || n != 1000 {
		t.Fatalf("parseGauge = %d, %v", n, err)
	}
	if _, err := parseGauge(text, "missing"); err == nil {
		t.Fatal("want an error for a missing metric")
	}
}
