package handlers

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/sharethings/sharethings/api"
)

// maxIdleBuckets bounds the memory of the in-process limits: past it, buckets that have
// refilled completely (and so carry no information) are dropped.
const maxIdleBuckets = 10_000

// limit is one rate limit: perMinute attempts in a burst per key, refilled evenly over a
// minute, in buckets kept by store under the limit's name. It is what keeps passphrase
// guessing slow.
type limit struct {
	store     api.RateLimits
	name      string
	perMinute int
}

// allow takes one attempt for key when there is one; otherwise it reports how long until
// there will be.
func (l limit) allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return l.store.TakeToken(ctx, l.name+" "+key, l.perMinute, 1)
}

// check reports whether key has an attempt left without taking it.
func (l limit) check(ctx context.Context, key string) (bool, time.Duration, error) {
	return l.store.TakeToken(ctx, l.name+" "+key, l.perMinute, 0)
}

// memoryLimits keeps buckets in this process: right for a server that runs alone.
type memoryLimits struct {
	mu      sync.Mutex
	now     api.Clock
	buckets map[string]*api.Bucket
}

func newMemoryLimits(now api.Clock) *memoryLimits {
	return &memoryLimits{now: now, buckets: map[string]*api.Bucket{}}
}

// TakeToken implements api.RateLimits.
func (l *memoryLimits) TakeToken(_ context.Context, key string, perMinute int, cost float64) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			l.dropFull(now)
		}
		b = &api.Bucket{}
		l.buckets[key] = b
	}
	ok, wait := b.Take(now, float64(perMinute), cost)
	return ok, wait, nil
}

// dropFull forgets the buckets unused for a minute: they have refilled completely.
func (l *memoryLimits) dropFull(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.At) >= time.Minute {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds rounds a wait up to whole seconds for the Retry-After header.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
