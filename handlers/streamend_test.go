package handlers

import (
	"testing"
	"time"
)

// TestStreamEndsWhileTheTokenCanBeRefreshed: a stream ends a minute before its token expires,
// so the client can still refresh it; with less than that left, at the expiry.
func TestStreamEndsWhileTheTokenCanBeRefreshed(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct{ expires, want time.Time }{
		"HoursLeft":       {now.Add(24 * time.Hour), now.Add(24*time.Hour - time.Minute)},
		"JustOverAMinute": {now.Add(61 * time.Second), now.Add(time.Second)},
		"UnderAMinute":    {now.Add(30 * time.Second), now.Add(30 * time.Second)},
	} {
		t.Run(name, func(t *testing.T) {
			if got := streamEnd(c.expires, now); !got.Equal(c.want) {
				t.Fatalf("streamEnd = %v, want %v", got, c.want)
			}
		})
	}
}
