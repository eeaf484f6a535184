package handlers

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

type claimsKey struct{}

// ClaimsFrom returns the verified claims that requireToken put in the request context. It is
// in the request context, not gin's, so net/http handlers such as tusd's see it too.
func ClaimsFrom(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// bearerToken reads the Authorization header, or the access_token query where allowQuery is
// set (EventSource and download links cannot set headers).
func bearerToken(c *gin.Context, allowQuery bool) string {
	// The scheme name is case-insensitive (RFC 9110 §11.1).
	if scheme, tok, ok := strings.Cut(c.GetHeader("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	if allowQuery {
		return c.Query("access_token")
	}
	return ""
}

// requireToken admits requests carrying a valid token for the session in the path: no or bad
// token → 401, a token of another session → 403, a session since expired and recreated or a
// client that left → 401.
func (s *Server) requireToken(allowQuery bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.authenticate(c, c.Param("sid"), allowQuery) != nil {
			c.Next()
		}
	}
}

// authenticate verifies the request's token, and that it is for session sid unless sid is
// empty, and puts the claims in the request context. On failure it answers and returns nil.
func (s *Server) authenticate(c *gin.Context, sid string, allowQuery bool) *Claims {
	raw := bearerToken(c, allowQuery)
	if raw == "" {
		abortWithError(c, api.EUNAUTHORIZED, "a session token is required: Authorization: Bearer <token>")
		return nil
	}
	claims, err := s.Tokens.Verify(raw)
	if err != nil {
		writeError(c, err)
		return nil
	}
	if sid != "" && claims.SessionID != sid {
		abortWithError(c, api.EFORBIDDEN, "this token is for another session")
		return nil
	}
	ctx := c.Request.Context()
	if err := s.Sessions.Authorize(ctx, claims.SessionID, claims.Generation, claims.ClientID()); err != nil {
		writeError(c, err)
		return nil
	}
	c.Request = c.Request.WithContext(context.WithValue(ctx, claimsKey{}, claims))
	return claims
}

// validSessionID refuses a malformed session id in the path before anything else sees it.
func validSessionID(c *gin.Context) {
	if err := api.ValidateSessionID(c.Param("sid")); err != nil {
		writeError(c, err)
		return
	}
	c.Next()
}
