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

// streamEvents godoc
//
//	@Summary		The session's events, live (Server-Sent Events) or by long poll
//	@Description	A stream of `id`/`event`/`data` frames: client.joined, client.left, content.created, content.chunk, content.completed, content.updated, content.deleted, session.cleared, session.expired, session.resync. With Last-Event-ID (header, or lastEventId query for clients that cannot set headers; the header wins) every later event is replayed from the log first, also after a server restart; without, only live events come. Heartbeat comments come at least every heartbeatSeconds. The stream ends when the token expires: refresh it and reconnect with Last-Event-ID. With poll=1 the answer is JSON instead: the events after `after` as soon as there are any, or none after about 25 s.
//	@ID				streamEvents
//	@Tags			events
//	@Produce		text/event-stream
//	@Produce		json
//	@Param			sid				path		string	true	"Session id"
//	@Param			Last-Event-ID	header		integer	false	"the last event id seen"
//	@Param			lastEventId		query		integer	false	"the last event id seen, when no header can be sent"
//	@Param			access_token	query		string	false	"session token, for EventSource, which cannot send headers"
//	@Param			poll			query		integer	false	"1: long-poll form, answers JSON"	Enums(1)
//	@Param			after			query		integer	false	"long poll: the last event id seen (required with poll=1)"
//	@Success		200				{object}	EventsPage	"long poll; the stream form answers text/event-stream"
//	@Failure		400				{object}	Problem		"invalid_request: a malformed event id"
//	@Failure		401				{object}	Problem		"unauthorized, token_expired, client_left"
//	@Failure		403				{object}	Problem		"forbidden"
//	@Failure		503				{object}	Problem		"too_many_subscribers"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/events [get]
func (s *Server) streamEvents(c *gin.Context) {
	if c.Query("poll") != "" {
		s.pollEvents(c)
		return
	}
	last, err := lastEventID(c)
	claims, ctx := s.present(c, err)
	if claims == nil {
		return
	}
	// The grace before client.left starts when the stream ends.
	defer s.Presence.MarkSeen(context.WithoutCancel(ctx), []string{claims.ClientID()})
	err = s.Events.Serve(c.Writer, c.Request, sse.Subscription{
		SessionID: claims.SessionID, ClientID: claims.ClientID(), LastEventID: last, Until: claims.ExpiresAt.Time,
	})
	if err != nil {
		c.Header("Retry-After", "5")
		writeError(c, err)
	}
}

// present answers a failed parse, or else records that the caller is here (streaming or
// polling) and returns its claims; nil when it answered.
func (s *Server) present(c *gin.Context, parseErr error) (*Claims, context.Context) {
	claims, ctx := ClaimsFrom(c.Request.Context()), c.Request.Context()
	err := parseErr
	if err == nil {
		err = s.Presence.MarkPresent(ctx, claims.SessionID, claims.ClientID())
	}
	if err != nil {
		writeError(c, err)
		return nil, ctx
	}
	return claims, ctx
}

// lastEventID reads the client's position: the Last-Event-ID header, else the lastEventId
// query, else none (live only).
func lastEventID(c *gin.Context) (int64, error) {
	raw := c.GetHeader("Last-Event-ID")
	if raw == "" {
		raw = c.Query("lastEventId")
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

func (s *Server) pollEvents(c *gin.Context) {
	raw, ok := c.GetQuery("after")
	if !ok || c.Query("poll") != "1" {
		writeError(c, api.Errorf(api.EINVALID, "the long-poll form is ?poll=1&after=<last event id>"))
		return
	}
	after, err := parseEventID(raw)
	claims, ctx := s.present(c, err)
	if claims == nil {
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
