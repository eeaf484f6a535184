package handlers

import (
	"context"
	"net/http"
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
func bearerToken(r *http.Request, allowQuery bool) string {
	// The scheme name is case-insensitive (RFC 9110 §11.1).
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	if allowQuery {
		return r.URL.Query().Get("access_token")
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
	claims, err := s.verifyToken(c.Request.Context(), bearerToken(c.Request, allowQuery), sid)
	if err != nil {
		writeError(c, err)
		return nil
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), claimsKey{}, claims))
	return claims
}

// verifyToken checks a raw token: signature and expiry, session (unless sid is empty), and
// that its session generation and client are still current.
func (s *Server) verifyToken(ctx context.Context, raw, sid string) (*Claims, error) {
	if raw == "" {
		return nil, api.Errorf(api.EUNAUTHORIZED, "a session token is required: Authorization: Bearer <token>")
	}
	claims, err := s.Tokens.Verify(raw)
	if err != nil {
		return nil, err
	}
	if sid != "" && claims.SessionID != sid {
		return nil, api.Errorf(api.EFORBIDDEN, "this token is for another session")
	}
	if err := s.Sessions.Authorize(ctx, claims.SessionID, claims.Generation, claims.ClientID()); err != nil {
		return nil, err
	}
	return claims, nil
}

// validSessionID refuses a malformed session id in the path before anything else sees it.
func validSessionID(c *gin.Context) {
	if err := api.ValidateSessionID(c.Param("sid")); err != nil {
		writeError(c, err)
		return
	}
	c.Next()
}
