package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/sse"
)

// EventsPage is the answer of the long-poll form of the event stream.
type EventsPage struct {
	Events []api.Event `json:"events"`
	// NextAfter is the id to poll after next: the last event's, or the given one when none.
	NextAfter int64 `json:"nextAfter" example:"42"`
} //@name EventsPage

// markPresent records that the caller is here, streaming or polling.
func (s *Server) markPresent(ctx context.Context, claims *Claims) error {
	return s.Presence.MarkPresent(ctx, claims.SessionID, claims.ClientID())
}

// lastEventID reads the client's position: the Last-Event-ID header, else the lastEventId
// query, else none (live only).
func lastEventID(r *http.Request) (int64, error) {
	raw := r.Header.Get("Last-Event-ID")
	if raw == "" {
		raw = r.URL.Query().Get("lastEventId")
	}
	if raw == "" {
		return sse.LiveOnly, nil
	}
	return parseEventID(raw)
}

func parseEventID(raw string) (int64, error) {
	id, err := parseUint(raw)
	if err != nil {
		return 0, api.Errorf(api.EINVALID, "event ids are whole numbers of at least 0")
	}
	return id, nil
}

// pollEvents answers the long-poll form, GET …/events?poll=1&after=N (documented with the
// stream form on serveStream).
func (s *Server) pollEvents(c *gin.Context) {
	raw, ok := c.GetQuery("after")
	if !ok || c.Query("poll") != "1" {
		writeError(c, api.Errorf(api.EINVALID, "the long-poll form is ?poll=1&after=<last event id>"))
		return
	}
	after, err := parseEventID(raw)
	claims, ctx := ClaimsFrom(c.Request.Context()), c.Request.Context()
	if err == nil {
		err = s.markPresent(ctx, claims)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	events, err := s.Events.Poll(ctx, claims.SessionID, after)
	if err != nil {
		if ctx.Err() == nil {
			writeError(c, err)
		}
		return
	}
	next := after
	if len(events) > 0 {
		next = events[len(events)-1].ID
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, EventsPage{Events: events, NextAfter: next})
}
