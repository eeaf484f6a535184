package api

import (
	"context"
	"math"
	"time"
)

// Bucket is a token bucket: perMinute tokens when full, refilled evenly over a minute. A new
// bucket is full.
type Bucket struct {
	Tokens float64
	At     time.Time
}

// Take refills the bucket to now and, when it holds a whole token, takes cost from it;
// otherwise it reports how long until it will hold one. A cost of 0 only looks.
func (b *Bucket) Take(now time.Time, perMinute, cost float64) (ok bool, wait time.Duration) {
	b.refill(now, perMinute)
	if b.Tokens < 1 {
		perToken := float64(time.Minute) / perMinute
		return false, time.Duration(math.Ceil((1 - b.Tokens) * perToken))
	}
	b.Tokens -= cost
	return true, 0
}

// refill adds the tokens earned since the bucket was last used, up to perMinute.
func (b *Bucket) refill(now time.Time, perMinute float64) {
	if b.At.IsZero() {
		b.Tokens = perMinute
	} else {
		b.Tokens = math.Min(perMinute, b.Tokens+now.Sub(b.At).Minutes()*perMinute)
	}
	b.At = now
}

// RateLimits keeps token buckets where every instance of the server sees them, so a limit
// holds however requests are spread.
type RateLimits interface {
	// TakeToken takes cost from the bucket named key (see Bucket.Take).
	TakeToken(ctx context.Context, key string, perMinute int, cost float64) (ok bool, wait time.Duration, err error)
}
