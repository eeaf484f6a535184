package sse

import (
	"context"
	"time"

	"github.com/sharethings/sharethings/api"
)

// Poll answers the long-poll form of the stream: the session's events after the given id as
// soon as there are any, or none after PollWait.
func (h *Hub) Poll(ctx context.Context, sessionID string, after int64) ([]api.Event, error) {
	timer := time.NewTimer(h.opts.PollWait)
	defer timer.Stop()
	for {
		wake := h.addPoller(sessionID)
		events, err := h.log.ListEvents(ctx, sessionID, after, h.opts.ReplayPage)
		if err != nil || len(events) > 0 {
			h.removePoller(sessionID)
			return events, err
		}
		select {
		case <-wake: // something was published: look again
		case <-timer.C:
			h.removePoller(sessionID)
			return []api.Event{}, nil
		case <-ctx.Done():
			h.removePoller(sessionID)
			return nil, ctx.Err()
		}
		h.removePoller(sessionID)
	}
}

// addPoller registers a long poll before the log is read, so an event committed in between
// still wakes it.
func (h *Hub) addPoller(sessionID string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.entry(sessionID)
	s.pollers++
	return s.wake
}

func (h *Hub) removePoller(sessionID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[sessionID]
	s.pollers--
	h.dropIfIdle(sessionID, s)
}
