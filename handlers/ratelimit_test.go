package handlers

import (
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := limit{store: newMemoryLimits(func() time.Time { return now }), name: "test", perMinute: 6}
	ctx := t.Context()

	for i := range 6 {
		if ok, _, _ := l.allow(ctx, "a"); !ok {
			t.Fatalf("attempt %d of a burst of 6 refused", i+1)
		}
	}
	ok, wait, _ := l.allow(ctx, "a")
	if ok || wait != 10*time.Second {
		t.Fatalf("7th attempt: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if ok, _, _ := l.allow(ctx, "b"); !ok {
		t.Fatal("another key shares a's bucket")
	}
	now = now.Add(10 * time.Second)
	if ok, _, _ := l.check(ctx, "a"); !ok {
		t.Fatal("check after refill refused")
	}
	if ok, _, _ := l.allow(ctx, "a"); !ok {
		t.Fatal("one token must have refilled after 10s")
	}
	if ok, _, _ := l.allow(ctx, "a"); ok {
		t.Fatal("only one token refilled")
	}
}

func TestRateLimiterForgetsFullBuckets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newMemoryLimits(func() time.Time { return now })
	for i := range maxIdleBuckets {
		l.TakeToken(t.Context(), string(rune(i)), 1, 1)
	}
	now = now.Add(time.Minute)
	l.TakeToken(t.Context(), "new", 1, 1)
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets kept, want only the new one", len(l.buckets))
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 20 * time.Second: 20} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
