package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// JoinRequest is the body of a join: who is joining and proof of the passphrase.
type JoinRequest struct {
	ClientName  string          `json:"clientName" example:"Alice's laptop"`
	Fingerprint api.Fingerprint `json:"fingerprint"`
	// KDF creates the session when it does not exist; for an existing one it must equal the
	// stored parameters.
	KDF *api.KDF `json:"kdf,omitempty"`
} //@name JoinRequest

// JoinResponse is the answer to a successful join.
type JoinResponse struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expiresAt" format:"date-time"`
	ClientID  string       `json:"clientId" example:"7b0c2f9e-8a51-4f43-9d3e-2b5a6c7d8e9f"`
	Session   *api.Session `json:"session"`
	Clients   []api.Client `json:"clients"`
	// LastEventID is the newest event before this join: open the event stream with it.
	LastEventID int64 `json:"lastEventId"`
} //@name JoinResponse

// TokenResponse is a freshly issued token.
type TokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt" format:"date-time"`
} //@name TokenResponse

// ClientsResponse lists the clients present in a session.
type ClientsResponse struct {
	Clients []api.Client `json:"clients"`
} //@name ClientsResponse

// getSession godoc
//
//	@Summary		Look up a session's public parameters
//	@Description	Returns the kdf parameters a client needs to derive keys before joining. 404 means the session is new: its creator picks the parameters.
//	@ID				getSession
//	@Tags			sessions
//	@Produce		json
//	@Param			sid	path		string	true	"Session id"
//	@Success		200	{object}	api.Session
//	@Failure		400	{object}	Problem	"invalid_session_id"
//	@Failure		404	{object}	Problem	"session_not_found"
//	@Router			/api/v1/sessions/{sid} [get]
func (s *Server) getSession(c *gin.Context) {
	sess, err := s.Sessions.FindSession(c.Request.Context(), c.Param("sid"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, sess)
}

// joinSession godoc
//
//	@Summary		Create or join a session
//	@Description	With kdf, creates the session if it does not exist (201). Otherwise verifies the passphrase fingerprint (200). Rate-limited per client address and per session.
//	@ID				joinSession
//	@Tags			sessions
//	@Accept			json
//	@Produce		json
//	@Param			sid		path		string		true	"Session id"
//	@Param			body	body		JoinRequest	true	"Who joins, and proof of the passphrase"
//	@Success		200		{object}	JoinResponse	"joined an existing session"
//	@Success		201		{object}	JoinResponse	"created the session"
//	@Failure		400		{object}	Problem			"invalid_request, invalid_session_id, unsupported_kdf"
//	@Failure		401		{object}	Problem			"fingerprint_mismatch"
//	@Failure		404		{object}	Problem			"session_not_found (no kdf given)"
//	@Failure		409		{object}	Problem			"session_exists: kdf differs from the stored one"
//	@Failure		429		{object}	Problem			"rate_limited"
//	@Header			429		{integer}	Retry-After		"seconds to wait"
//	@Router			/api/v1/sessions/{sid}/join [post]
func (s *Server) joinSession(c *gin.Context) {
	sid := c.Param("sid")
	if !s.admitJoin(c, sid) {
		return
	}
	in, err := s.readJoin(c, sid)
	if err != nil {
		writeError(c, err)
		return
	}
	joined, err := s.Sessions.JoinSession(c.Request.Context(), in)
	if api.ErrorCode(err) == api.EFINGERPRINTMISMATCH {
		if _, _, lerr := s.failuresBySession.allow(c.Request.Context(), sid); lerr != nil {
			err = lerr
		}
	}
	if err != nil {
		writeError(c, err)
		return
	}
	token, expires, err := s.Tokens.Issue(joined.Session, joined.Client)
	if err != nil {
		writeError(c, err)
		return
	}
	noStore(c)
	status := http.StatusOK
	if joined.Created {
		status = http.StatusCreated
	}
	c.JSON(status, JoinResponse{
		Token: token, ExpiresAt: expires, ClientID: joined.Client.ID,
		Session: joined.Session, Clients: joined.Clients, LastEventID: joined.LastEventID,
	})
}

// admitJoin applies both join limits: attempts per client address, and wrong passphrases per
// session (so guessing one session's passphrase from many addresses is slow too).
func (s *Server) admitJoin(c *gin.Context, sid string) bool {
	ctx := c.Request.Context()
	ok, wait, err := s.joinsByAddress.allow(ctx, c.ClientIP())
	if ok && err == nil {
		ok, wait, err = s.failuresBySession.check(ctx, sid)
	}
	if err != nil {
		writeError(c, err)
		return false
	}
	if !ok {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		abortWithError(c, api.ERATELIMITED, "too many join attempts: retry in %d s", retryAfterSeconds(wait))
	}
	return ok
}

// readJoin decodes and validates a join body.
func (s *Server) readJoin(c *gin.Context, sid string) (api.JoinInput, error) {
	var req JoinRequest
	if err := decodeJSON(c, &req); err != nil {
		return api.JoinInput{}, err
	}
	name, err := api.NormalizeClientName(req.ClientName)
	if err != nil {
		return api.JoinInput{}, err
	}
	if err := req.Fingerprint.Validate(sid); err != nil {
		return api.JoinInput{}, err
	}
	if req.KDF != nil {
		if err := req.KDF.Validate(s.Options.MinKDFIterations); err != nil {
			return api.JoinInput{}, err
		}
	}
	return api.JoinInput{SessionID: sid, ClientName: name, Fingerprint: req.Fingerprint, KDF: req.KDF}, nil
}

// refreshToken godoc
//
//	@Summary		Refresh a session token
//	@Description	Issues a new token for the same client. The old token stays valid until its own expiry.
//	@ID				refreshToken
//	@Tags			sessions
//	@Produce		json
//	@Param			sid	path		string	true	"Session id"
//	@Success		200	{object}	TokenResponse
//	@Failure		401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403	{object}	Problem	"forbidden: token of another session"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/token [post]
func (s *Server) refreshToken(c *gin.Context) {
	claims := ClaimsFrom(c.Request.Context())
	sess := &api.Session{ID: claims.SessionID, Generation: claims.Generation}
	token, expires, err := s.Tokens.Issue(sess, &api.Client{ID: claims.ClientID(), Name: claims.Name})
	if err != nil {
		writeError(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, TokenResponse{Token: token, ExpiresAt: expires})
}

// leaveSession godoc
//
//	@Summary		Leave a session
//	@Description	Ends this client's presence at once (client.left is sent now). Its tokens are refused afterwards with client_left.
//	@ID				leaveSession
//	@Tags			sessions
//	@Param			sid	path	string	true	"Session id"
//	@Success		204
//	@Failure		401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403	{object}	Problem	"forbidden"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/leave [post]
func (s *Server) leaveSession(c *gin.Context) {
	claims := ClaimsFrom(c.Request.Context())
	if err := s.Sessions.LeaveSession(c.Request.Context(), claims.SessionID, claims.ClientID()); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// listClients godoc
//
//	@Summary		List the clients present
//	@ID				listClients
//	@Tags			sessions
//	@Produce		json
//	@Param			sid	path		string	true	"Session id"
//	@Success		200	{object}	ClientsResponse
//	@Failure		401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403	{object}	Problem	"forbidden"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/clients [get]
func (s *Server) listClients(c *gin.Context) {
	clients, err := s.Sessions.ListClients(c.Request.Context(), c.Param("sid"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, ClientsResponse{Clients: clients})
}

// noStore keeps responses that carry a token out of every cache.
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }
