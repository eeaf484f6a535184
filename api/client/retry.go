package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy bounds retries: Attempts tries in all, waiting MinDelay after the first
// failure and doubling up to MaxDelay (a server's Retry-After is waited at least). Zero
// fields take DefaultRetry's values.
type RetryPolicy struct {
	Attempts           int
	MinDelay, MaxDelay time.Duration
}

// DefaultRetry gives up after about a minute of failures: long enough to ride out a server
// restart or a network change, short enough that a CLI user is told something is wrong.
var DefaultRetry = RetryPolicy{Attempts: 15, MinDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = DefaultRetry.Attempts
	}
	if p.MinDelay <= 0 {
		p.MinDelay = DefaultRetry.MinDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = max(DefaultRetry.MaxDelay, p.MinDelay)
	}
	return p
}

// backoff counts the failures of one operation and waits between its attempts.
type backoff struct {
	p        RetryPolicy
	failures int
	// unlimited ignores Attempts: event streams wait for the server as long as the caller.
	unlimited bool
}

func (c *Client) newBackoff() *backoff { return &backoff{p: c.Retry.withDefaults()} }

// reset starts the count over after progress (a stream that opened, bytes that arrived),
// so a long transfer is not failed by errors spread over its lifetime.
func (b *backoff) reset() { b.failures = 0 }

// wait records a failure and sleeps before the next attempt: the doubling delay, at least
// floor (Retry-After, an SSE retry hint). It returns an error wrapping cause when the
// attempts are used up or ctx ends.
func (b *backoff) wait(ctx context.Context, cause error, floor time.Duration) error {
	b.failures++
	if !b.unlimited && b.failures >= b.p.Attempts {
		return fmt.Errorf("client: giving up after %d attempts: %w", b.failures, cause)
	}
	d := b.p.MinDelay << min(b.failures-1, 30)
	if d <= 0 || d > b.p.MaxDelay {
		d = b.p.MaxDelay
	}
	// ±20% jitter, so clients cut off together do not all come back in the same instant.
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	d = max(d, floor)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.Join(ctx.Err(), cause)
	case <-t.C:
		return nil
	}
}

// transientError marks a failure worth retrying: the connection broke or never came up.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// transient wraps a network error unless the context ended, which is no reason to retry.
func transient(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	return &transientError{err}
}

// retryable reports whether an attempt that failed with err may be repeated: a broken
// connection, a server error, rate limiting, or tusd's lock still held by a dying request.
func retryable(err error) bool {
	var t *transientError
	if errors.As(err, &t) {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusLocked
	}
	return false
}

// retryFloor is the least wait the server asked for with err.
func retryFloor(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
