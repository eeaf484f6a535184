// Package client is the HTTP transport of ShareThings protocol v1 for Go programs: the REST
// calls, tus 1.0 chunk uploads, chunk downloads and the Server-Sent Events stream, with the
// retries and resumption a flaky network needs.
//
// It does no cryptography and never sees plaintext: callers pass blobs and fingerprints that
// are already encrypted, and get back exactly the bytes the server stores. It imports only the
// standard library and the domain package api; it must never import a server package
// (handlers, storage, sse, cmd), so that it stays a client any third party could have written
// from the protocol and the OpenAPI spec.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sharethings/sharethings/api"
)

// apiPrefix is where every protocol v1 path lives (PROTOCOL §4).
const apiPrefix = "/api/v1"

// maxJSONBody bounds what is read from a JSON or problem answer, so a misbehaving server
// cannot make the client buffer without limit.
const maxJSONBody = 32 << 20

// Client talks to one ShareThings server. Set the exported fields before use; Join and
// Refresh change Token and SessionID under the client's own lock, so while Events or
// uploads run in other goroutines read them with CurrentToken and CurrentSession.
// A Client must not be copied after first use.
type Client struct {
	BaseURL string // e.g. "http://127.0.0.1:8080" (no trailing slash needed)
	// HTTP sends the requests; nil means a client without overall timeout (streams and
	// uploads are long; cancel them through the context instead).
	HTTP      *http.Client
	Token     string // bearer token, set by Join
	SessionID string // set by Join
	UserAgent string
	// Retry bounds the retries of uploads and downloads after network errors or 5xx/429
	// answers; Events uses its delays but reconnects until its context ends. The zero value
	// is DefaultRetry.
	Retry RetryPolicy

	mu sync.Mutex // guards Token, SessionID and the fields below
	// uploadURL is the tus creation URL the server last named (announce or config).
	uploadURL string
	// refreshFailed is a token whose refresh was refused: it is not tried again.
	refreshFailed string
	refreshMu     sync.Mutex // one refresh at a time
}

// New returns a client for the server at baseURL.
func New(baseURL string) *Client {
	return &Client{BaseURL: baseURL, UserAgent: "sharethings-go-client/" + api.Version}
}

// CurrentToken returns the bearer token in use; safe while other methods refresh it.
func (c *Client) CurrentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Token
}

// CurrentSession returns the session joined, or "".
func (c *Client) CurrentSession() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.SessionID
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// resolve turns a path (or an absolute URL, such as a tus Location) into a request URL.
func (c *Client) resolve(ref string) (string, error) {
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/") + "/")
	if err != nil {
		return "", fmt.Errorf("client: base URL %q: %w", c.BaseURL, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("client: URL %q: %w", ref, err)
	}
	return base.ResolveReference(r).String(), nil
}

// sessionPath is the path of the joined session plus suffix, or an error before Join.
func (c *Client) sessionPath(suffix string) (string, error) {
	sid := c.CurrentSession()
	if sid == "" {
		return "", errNotJoined
	}
	return apiPrefix + "/sessions/" + url.PathEscape(sid) + suffix, nil
}

// newRequest builds a request with the user agent and, when auth is set, a fresh bearer
// token.
func (c *Client) newRequest(ctx context.Context, method, ref string, body io.Reader, auth bool) (*http.Request, error) {
	target, err := c.resolve(ref)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.bearer(ctx))
	}
	return req, nil
}

// call sends a JSON request (in may be nil) and decodes a 2xx answer into out (may be nil).
// Any other answer becomes an *Error. It does not retry: REST calls are cheap to repeat by
// the caller, and some (announce, join) are not idempotent.
func (c *Client) call(ctx context.Context, method, path string, auth bool, in, out any) (status int, err error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("client: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := c.newRequest(ctx, method, path, body, auth)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if err := checkStatus(res); err != nil {
		return res.StatusCode, err
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(res.Body, maxJSONBody))
		return res.StatusCode, nil
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxJSONBody)).Decode(out); err != nil {
		return res.StatusCode, fmt.Errorf("client: decode answer of %s %s: %w", method, path, err)
	}
	return res.StatusCode, nil
}
