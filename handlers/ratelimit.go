package handlers

import (
	"math"
	"sync"
	"time"

	"github.com/sharethings/sharethings/api"
)

// maxIdleBuckets bounds the limiter's memory: past it, buckets that have refilled completely
// (and so carry no information) are dropped.
const maxIdleBuckets = 10_000

// rateLimiter is a token bucket per key: perMinute attempts in a burst, refilled evenly over a
// minute. It is what keeps passphrase guessing slow.
type rateLimiter struct {
	mu        sync.Mutex
	perMinute float64
	now       api.Clock
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perMinute int, now api.Clock) *rateLimiter {
	return &rateLimiter{perMinute: float64(perMinute), now: now, buckets: map[string]*bucket{}}
}

// allow takes one token for key when there is one; otherwise it reports how long until there
// will be.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	return l.use(key, 1)
}

// check reports whether key has a token left without taking it.
func (l *rateLimiter) check(key string) (bool, time.Duration) {
	return l.use(key, 0)
}

func (l *rateLimiter) use(key string, cost float64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.refill(key, now)
	if b.tokens < 1 {
		perToken := time.Minute / time.Duration(l.perMinute)
		return false, time.Duration(math.Ceil((1 - b.tokens) * float64(perToken)))
	}
	b.tokens -= cost
	return true, 0
}

func (l *rateLimiter) refill(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			l.dropFull(now)
		}
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	return b
}

func (l *rateLimiter) dropFull(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Minutes()*l.perMinute >= l.perMinute {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds rounds a wait up to whole seconds for the Retry-After header.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
