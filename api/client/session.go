package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sharethings/sharethings/api"
)

// Config is the server's answer to GET /api/v1/config (PROTOCOL §4): the limits a client
// must respect. Byte limits count encrypted bytes.
type Config struct {
	Version                   string `json:"version"`
	MinKDFIterations          int    `json:"minKdfIterations"`
	MaxKDFIterations          int    `json:"maxKdfIterations"`
	MinChunkSize              int    `json:"minChunkSize"`
	MaxChunkSize              int    `json:"maxChunkSize"`
	DefaultChunkSize          int    `json:"defaultChunkSize"`
	MaxItemBytes              int64  `json:"maxItemBytes"`
	SessionQuotaBytes         int64  `json:"sessionQuotaBytes"`
	SessionMaxItems           int    `json:"sessionMaxItems"`
	SessionIdleTimeoutSeconds int    `json:"sessionIdleTimeoutSeconds"`
	JoinAttemptsPerMinute     int    `json:"joinAttemptsPerMinute"`
	HeartbeatSeconds          int    `json:"heartbeatSeconds"`
	UploadPath                string `json:"uploadPath"`
	RetentionMaxAgeSeconds    int    `json:"retentionMaxAgeSeconds"`
	RetentionMaxItems         int    `json:"retentionMaxItems"`
	UploadExpirySeconds       int    `json:"uploadExpirySeconds"`
}

// JoinResult is the answer to a join. Created is true when this join created the session
// (201) rather than joining an existing one (200).
type JoinResult struct {
	Token       string       `json:"token"`
	ExpiresAt   time.Time    `json:"expiresAt"`
	ClientID    string       `json:"clientId"`
	Session     api.Session  `json:"session"`
	Clients     []api.Client `json:"clients"`
	LastEventID int64        `json:"lastEventId"`
	Created     bool         `json:"-"`
}

// Config fetches the server's limits and remembers its tus creation URL for UploadChunk.
func (c *Client) Config(ctx context.Context) (*Config, error) {
	var cfg Config
	if _, err := c.call(ctx, http.MethodGet, apiPrefix+"/config", false, nil, &cfg); err != nil {
		return nil, err
	}
	c.rememberUploadURL(cfg.UploadPath)
	return &cfg, nil
}

// Session looks up a session's public kdf parameters. A session that does not exist yet is
// an *Error with code session_not_found: the caller then creates it by joining with a kdf.
func (c *Client) Session(ctx context.Context, sid string) (*api.Session, error) {
	var s api.Session
	if _, err := c.call(ctx, http.MethodGet, apiPrefix+"/sessions/"+url.PathEscape(sid), false, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Join proves knowledge of the passphrase with fp and joins session sid, creating it when
// kdf is given and the session does not exist. On success the client uses the session and
// token from then on.
func (c *Client) Join(ctx context.Context, sid, clientName string, fp api.Fingerprint, kdf *api.KDF) (*JoinResult, error) {
	body := struct {
		ClientName  string          `json:"clientName"`
		Fingerprint api.Fingerprint `json:"fingerprint"`
		KDF         *api.KDF        `json:"kdf,omitempty"`
	}{clientName, fp, kdf}
	var res JoinResult
	status, err := c.call(ctx, http.MethodPost, apiPrefix+"/sessions/"+url.PathEscape(sid)+"/join", false, body, &res)
	if err != nil {
		return nil, err
	}
	res.Created = status == http.StatusCreated
	c.mu.Lock()
	c.Token, c.SessionID = res.Token, sid
	c.mu.Unlock()
	return &res, nil
}

// Refresh replaces the token with a new one for the same client. It must run before the
// token expires: the server refuses to refresh an expired token.
func (c *Client) Refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	return c.refresh(ctx, c.CurrentToken())
}

// refresh exchanges old for a new token; callers hold refreshMu.
func (c *Client) refresh(ctx context.Context, old string) error {
	path, err := c.sessionPath("/token")
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, path, nil, false)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+old)
	var res struct {
		Token string `json:"token"`
	}
	if err := c.send(req, &res); err != nil {
		// Only the server's refusal is final for this token; a network error may pass.
		var e *Error
		if errors.As(err, &e) {
			c.mu.Lock()
			c.refreshFailed = old
			c.mu.Unlock()
		}
		return err
	}
	c.mu.Lock()
	c.Token = res.Token
	c.mu.Unlock()
	return nil
}

// send runs a prepared request and decodes a JSON answer.
func (c *Client) send(req *http.Request, out any) error {
	res, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := checkStatus(res); err != nil {
		return err
	}
	return json.NewDecoder(io.LimitReader(res.Body, maxJSONBody)).Decode(out)
}

// Leave ends this client's presence at once; the token is refused afterwards.
func (c *Client) Leave(ctx context.Context) error {
	path, err := c.sessionPath("/leave")
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodPost, path, true, nil, nil)
	return err
}

// Clients lists the clients present in the session.
func (c *Client) Clients(ctx context.Context) ([]api.Client, error) {
	path, err := c.sessionPath("/clients")
	if err != nil {
		return nil, err
	}
	var res struct {
		Clients []api.Client `json:"clients"`
	}
	if _, err := c.call(ctx, http.MethodGet, path, true, nil, &res); err != nil {
		return nil, err
	}
	return res.Clients, nil
}

// bearer returns the token to send, refreshing it first when three quarters of its life
// have passed. The server refuses to refresh an expired token, and closes event streams
// when the token expires, so waiting for a token_expired answer would be too late. A refresh
// that fails leaves the old token in use: the request then gets the server's verdict.
func (c *Client) bearer(ctx context.Context) string {
	tok := c.CurrentToken()
	if !refreshDue(tok, time.Now()) {
		return tok
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	c.mu.Lock()
	tok, failed := c.Token, c.refreshFailed
	c.mu.Unlock()
	if tok == failed || !refreshDue(tok, time.Now()) {
		return tok
	}
	c.refresh(ctx, tok)
	return c.CurrentToken()
}

// refreshDue reports whether a token is in the last quarter of its life.
func refreshDue(token string, now time.Time) bool {
	at, ok := refreshTime(token)
	return ok && !now.Before(at)
}

// refreshTime is when a token should be refreshed: three quarters between its iat and exp.
// Reading the claims needs no key (the client only schedules with them; the server
// verifies). ok is false for a token that is not a JWT with both claims.
func refreshTime(token string) (at time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		IAT int64 `json:"iat"`
		EXP int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.EXP <= claims.IAT {
		return time.Time{}, false
	}
	iat, exp := time.Unix(claims.IAT, 0), time.Unix(claims.EXP, 0)
	return iat.Add(exp.Sub(iat) * 3 / 4), true
}

// errNotJoined is returned by calls that need a session before Join.
var errNotJoined = errors.New("client: not joined to a session (call Join first)")
