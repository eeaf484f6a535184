package handlers

import "github.com/gin-gonic/gin"

// routes registers every route, grouped by what they require.
func (s *Server) routes(r *gin.Engine, up *uploads) {
	// Operations and documentation.
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics())
	r.GET("/openapi.json", openAPISpec)
	r.GET("/docs", openAPIDocs)

	v1 := r.Group(apiPrefix)
	v1.GET("/config", s.getConfig)

	// Session routes: the id is validated before anything else.
	session := v1.Group("/sessions/:sid", validSessionID)
	session.GET("", s.getSession)
	session.POST("/join", s.joinSession)

	// Token holders of this session.
	member := session.Group("", s.requireToken(false))
	member.POST("/token", s.refreshToken)
	member.POST("/leave", s.leaveSession)
	member.GET("/clients", s.listClients)
	// The long-poll form; the stream form is served outside gin (see withStreams).
	session.GET("/events", s.requireToken(true), s.pollEvents)
	member.POST("/contents", s.announceContent)
	member.GET("/contents", s.listContents)
	member.DELETE("/contents", s.clearContents)
	item := session.Group("/contents/:cid", validContentID, s.requireToken(false))
	item.GET("", s.getContent)
	item.PATCH("", s.updateContent)
	item.DELETE("", s.deleteContent)

	// Chunk downloads also take the token from the query, for plain links.
	session.GET("/contents/:cid/chunks/:index", validContentID, s.requireToken(true), s.downloadChunk)

	// tus resumable uploads of chunks; the gate authenticates every request.
	up.mount(v1)
}
