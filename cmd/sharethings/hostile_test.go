package main

// TestHostileInput sends every endpoint what an attacker or a broken client might: malformed
// ids and tokens here; bodies, tus headers, ranges, event positions and malformed HTTP in
// hostile_tus_test.go. Each refusal must carry the documented status and problem code
// (PROTOCOL §1, §4–§6) and leave the data directory and the database exactly as they were.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// hostileSecret signs the fixture's tokens, so the test can mint expired and otherwise
	// well-signed but wrong ones.
	hostileSecret = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	// hostileItemID is the fixture item's id: fixed, so its uppercase form surely differs.
	hostileItemID = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	// hostileOpenID is an announced item without any upload, which a valid creation would start.
	hostileOpenID = "7b0c2f9e-8a51-4f43-9d3e-2b5a6c7d8e9f"
	alphaPath     = "/api/v1/sessions/team-alpha"
	// statusOnly asserts only the status: answers whose body the protocol leaves to tusd or to
	// net/http, and answers that are not errors.
	statusOnly = ""
	// headProblem asserts the status and the problem Content-Type of a bodiless HEAD answer.
	headProblem = "(HEAD)"
)

// hostile is what the cases run against: team-alpha with an item whose chunk 1 is stored and
// whose chunk 0 is an unfinished upload of 1000 bytes, a second announced item with no upload,
// the session Zurich, and tokens of every kind.
type hostile struct {
	srv     *testServer
	v       []vectorSession
	secret  []byte
	alpha   string // a team-alpha client's token
	zurich  string // a Zurich client's token
	left    string // the token of a team-alpha client that has left
	it      *item
	open    *item
	pending string         // the URL of chunk 0's unfinished upload
	fresh   map[string]any // the announce of an item nobody announced yet
	tokens  []string       // every well-signed token, to look for in the logs
}

// hostileCase is one refused request and the answer it must get.
type hostileCase struct {
	name   string
	status int
	code   string // the problem's code, statusOnly or headProblem
	send   func(t *testing.T) response
}

func TestHostileInput(t *testing.T) {
	h := newHostile(t)
	var cases []hostileCase
	for _, group := range [][]hostileCase{
		h.sessionIDCases(), h.contentIDCases(), h.chunkIndexCases(), h.tokenCases(t), h.bodyCases(),
		h.tusCases(), h.rangeCases(), h.eventCases(), h.rawCases(),
	} {
		cases = append(cases, group...)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { h.run(t, tc) })
	}
	t.Logf("%d hostile requests", len(cases))
	t.Run("LogsHoldNoToken", func(t *testing.T) {
		logs := h.srv.logs.String()
		for _, tok := range h.tokens {
			for _, secret := range []string{tok, strings.Split(tok, ".")[2]} {
				if strings.Contains(logs, secret) {
					t.Errorf("logs contain the token part %q", secret)
				}
			}
		}
		if strings.Contains(logs, "access_token") {
			t.Error("logs contain an access_token query")
		}
	})
	// Last: each further server replaces the logger the first one writes to.
	t.Run("JoinFlood", testJoinFlood)
}

func newHostile(t *testing.T) *hostile {
	cfg, clk := testConfig(t, "--jwt-secret", hostileSecret, "--token-ttl", "1h")
	srv := startServer(t, cfg, clk)
	// Refusals answer at once; a bug that opened a stream or held a poll must not hang the test.
	srv.client = &http.Client{Timeout: 10 * time.Second}
	v := loadVectors(t)
	h := &hostile{srv: srv, v: v, alpha: srv.joinToken(t, v[0]), zurich: srv.joinToken(t, v[1]), left: srv.joinToken(t, v[0])}
	h.secret, _ = hex.DecodeString(hostileSecret)
	h.tokens = []string{h.alpha, h.zurich, h.left}
	if r := srv.do(http.MethodPost, alphaPath+"/leave", nil, h.left); r.status != http.StatusNoContent {
		t.Fatalf("leave: %d %s", r.status, r.body)
	}
	h.it = newItemFrom(t, seededRand(41), 64*kiB+10, 64*kiB)
	h.it.id = hostileItemID
	h.open = newItemFrom(t, seededRand(42), 100, 64*kiB)
	h.open.id = hostileOpenID
	srv.requireAnnounce(t, h.alpha, h.it)
	srv.requireAnnounce(t, h.alpha, h.open)
	stored := srv.tusCreate(t, h.alpha, "team-alpha", h.it.id, 1, int64(len(h.it.blobs[1])), h.it.blobs[1])
	running := srv.tusCreate(t, h.alpha, "team-alpha", h.it.id, 0, int64(len(h.it.blobs[0])), h.it.blobs[0][:1000])
	h.pending = running.header.Get("Location")
	if stored.status != http.StatusCreated || running.status != http.StatusCreated || h.pending == "" {
		t.Fatalf("fixture uploads: %d %s / %d %s", stored.status, stored.body, running.status, running.body)
	}
	h.fresh = newItem(t, 100, 64*kiB).announceBody()
	return h
}

// run sends one case and checks its answer, that it is no 500, and that nothing persistent
// changed.
func (h *hostile) run(t *testing.T, tc hostileCase) {
	before := h.srv.snapshot()
	r := tc.send(t)
	var failures []string
	if d := stateDiff(before, h.srv.snapshot()); d != "" {
		failures = append(failures, "the refused request changed the data dir or the database:\n"+d)
	}
	if r.status == http.StatusInternalServerError {
		failures = append(failures, "500 Internal Server Error")
	}
	if f := answerMismatch(r, tc.status, tc.code); f != "" {
		failures = append(failures, f)
	}
	if len(failures) == 0 {
		return
	}
	t.Fatal(strings.Join(failures, "\n"))
}

// answerMismatch describes how r differs from the expected status and code, or is empty.
func answerMismatch(r response, status int, code string) string {
	ct := r.header.Get("Content-Type")
	switch {
	case r.status != status:
		return fmt.Sprintf("status %d, want %d; Content-Type %q; body %s", r.status, status, ct, r.body)
	case code == statusOnly:
		return ""
	case ct != "application/problem+json":
		return fmt.Sprintf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	case code == headProblem:
		return ""
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil || p["code"] != code || p["status"] != float64(status) ||
		p["title"] == "" || p["type"] == nil || p["detail"] == nil {
		return fmt.Sprintf("problem %s, want code %s", r.body, code)
	}
	return ""
}

// stateDiff lists the snapshot lines that went (-) and came (+), or is empty.
func stateDiff(before, after string) string {
	if before == after {
		return ""
	}
	count := map[string]int{}
	for _, l := range strings.Split(before, "\n") {
		count[l]--
	}
	for _, l := range strings.Split(after, "\n") {
		count[l]++
	}
	var diff []string
	for l, n := range count {
		if n < 0 {
			diff = append(diff, "- "+l)
		} else if n > 0 {
			diff = append(diff, "+ "+l)
		}
	}
	sort.Strings(diff)
	return strings.Join(diff, "\n")
}

// call is a case's request: method on path (or an absolute URL) with the token when not
// empty and then the header name/value pairs.
func (h *hostile) call(method, path, token string, body []byte, headers ...string) func(*testing.T) response {
	return func(t *testing.T) response { return h.srv.request(t, method, path, token, body, headers...) }
}

func (h *hostile) callJSON(method, path, token, body string) func(*testing.T) response {
	return h.call(method, path, token, []byte(body), "Content-Type", "application/json")
}

// hostileRoute is one session route; body, when not nil, is a JSON body the route would accept.
type hostileRoute struct {
	name, method, path string
	body               []byte
}

func (r hostileRoute) send(h *hostile, token string) func(*testing.T) response {
	if r.body == nil {
		return h.call(r.method, r.path, token, nil)
	}
	return h.call(r.method, r.path, token, r.body, "Content-Type", "application/json")
}

// sessionRoutes are every route under /sessions/{sid}, sid given escaped, each with a request
// that would succeed (and so change state, for most) were sid team-alpha and the token valid.
func (h *hostile) sessionRoutes(sid string) []hostileRoute {
	p := "/api/v1/sessions/" + sid
	item := p + "/contents/" + h.it.id
	join, _ := json.Marshal(map[string]any{"clientName": "mallory", "fingerprint": h.v[0].Fingerprint, "kdf": h.v[0].KDF})
	announce, _ := json.Marshal(h.fresh)
	return []hostileRoute{
		{"Info", http.MethodGet, p, nil}, {"Join", http.MethodPost, p + "/join", join},
		{"Refresh", http.MethodPost, p + "/token", nil}, {"Leave", http.MethodPost, p + "/leave", nil},
		{"Clients", http.MethodGet, p + "/clients", nil}, {"Events", http.MethodGet, p + "/events", nil},
		{"Poll", http.MethodGet, p + "/events?poll=1&after=0", nil}, {"List", http.MethodGet, p + "/contents", nil},
		{"Announce", http.MethodPost, p + "/contents", announce}, {"Clear", http.MethodDelete, p + "/contents", nil},
		{"Item", http.MethodGet, item, nil}, {"Patch", http.MethodPatch, item, []byte(`{"pinned":true}`)},
		{"Delete", http.MethodDelete, item, nil}, {"Chunk", http.MethodGet, item + "/chunks/1", nil},
	}
}

// sessionIDCases: every route with every malformed session id, with a valid token.
func (h *hostile) sessionIDCases() []hostileCase {
	var cases []hostileCase
	for _, id := range []struct{ name, escaped string }{
		{"DotDot", ".."}, {"EncodedDotDot", "%2e%2e"}, {"EncodedTraversal", "a%2F..%2Fb"},
		{"EncodedSlash", "team%2Falpha"}, {"Umlaut", url.PathEscape("Zürich")},
		{"RTLOverride", url.PathEscape("team\u202ealpha")}, {"NUL", "team%00alpha"},
		{"TrailingNewline", "team-alpha%0A"}, {"Overlong65", strings.Repeat("a", 65)}, {"LeadingDash", "-team"}, {"Empty", ""},
	} {
		for _, r := range h.sessionRoutes(id.escaped) {
			cases = append(cases, hostileCase{r.name + "SessionID" + id.name, 400, "invalid_session_id", r.send(h, h.alpha)})
		}
	}
	// Unescaped, a/../b is three segments, a shape no route has: a router's 404 (PROTOCOL §1).
	join := h.sessionRoutes("a/../b")[1]
	return append(cases, hostileCase{"JoinSessionIDDotSegments", 404, "not_found", join.send(h, "")})
}

// contentIDCases: every route taking a content id with every malformed one.
func (h *hostile) contentIDCases() []hostileCase {
	id := h.it.id
	var cases []hostileCase
	for _, cid := range []struct{ name, escaped string }{
		{"Uppercase", strings.ToUpper(id)}, {"Long37", id + "0"}, {"Short35", id[:35]},
		{"NoHyphens", strings.ReplaceAll(id, "-", "")}, {"DotDot", ".."},
		{"EncodedTraversal", "%2e%2e%2f%2e%2e%2fsharethings.db"}, {"NUL", id[:35] + "%00"}, {"Umlaut", id[:35] + "%C3%BC"},
	} {
		for _, r := range h.sessionRoutes("team-alpha")[10:] {
			r.path = strings.Replace(r.path, id, cid.escaped, 1)
			cases = append(cases, hostileCase{r.name + "ContentID" + cid.name, 400, "invalid_content_id", r.send(h, h.alpha)})
		}
	}
	return cases
}

// chunkIndexCases: chunk downloads with malformed, out-of-range and missing indexes.
func (h *hostile) chunkIndexCases() []hostileCase {
	base := alphaPath + "/contents/" + h.it.id + "/chunks/"
	var cases []hostileCase
	for _, ix := range []struct{ name, escaped string }{
		{"Negative", "-1"}, {"LeadingZero", "01"}, {"Plus", "+1"}, {"Exponent", "1e3"},
		{"Huge", "99999999999999999999"}, {"PastMaxChunks", "1073741824"}, {"Hex", "0x1"}, {"Decimal", "1.0"},
		{"Space", "%201"}, {"FullwidthDigit", url.PathEscape("１")}, {"DotDot", ".."},
	} {
		cases = append(cases, hostileCase{"ChunkIndex" + ix.name, 400, "invalid_request", h.call(http.MethodGet, base+ix.escaped, h.alpha, nil)})
	}
	return append(cases,
		hostileCase{"ChunkIndexOutOfRange", 400, "chunk_out_of_range", h.call(http.MethodGet, base+"2", h.alpha, nil)},
		hostileCase{"ChunkIndexLastPossible", 400, "chunk_out_of_range", h.call(http.MethodGet, base+"1073741823", h.alpha, nil)},
		hostileCase{"ChunkNotStored", 404, "not_found", h.call(http.MethodGet, base+"0", h.alpha, nil)},
		hostileCase{"ChunkOfUnknownContent", 404, "content_not_found", h.call(http.MethodGet, alphaPath+"/contents/"+newUUID()+"/chunks/0", h.alpha, nil)},
	)
}

// hostileEndpoint is an authenticated request that succeeds with a valid team-alpha token.
type hostileEndpoint struct {
	name string
	head bool // HEAD: a problem without a body
	send func(token string) func(*testing.T) response
}

// tokenCases: every authenticated route with every kind of bad token, then forged tokens and
// tokens where no route takes them.
func (h *hostile) tokenCases(t *testing.T) []hostileCase {
	claims := decodeClaims(t, h.alpha)
	sign := func(m jwt.SigningMethod, key []byte, edit func(jwt.MapClaims)) string {
		c := maps.Clone(claims)
		edit(c)
		return signWith(t, c, m, key)
	}
	signed := func(edit func(jwt.MapClaims)) string {
		tok := sign(jwt.SigningMethodHS256, h.secret, edit)
		h.tokens = append(h.tokens, tok)
		return tok
	}
	now := h.srv.clock.Now()
	expired := signed(func(c jwt.MapClaims) { c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix() })

	rest := h.it.blobs[0][1000:]
	endpoints := []hostileEndpoint{
		{"TusCreate", false, func(tok string) func(*testing.T) response {
			return h.tusCreate(uploadPath, tok, "Upload-Length", strconv.Itoa(len(h.open.blobs[0])), "Upload-Metadata", tusMeta("team-alpha", h.open.id, "0"))
		}},
		{"TusHead", true, func(tok string) func(*testing.T) response { return h.tusCall(http.MethodHead, h.pending, tok, nil) }},
		{"TusPatch", false, func(tok string) func(*testing.T) response {
			return h.tusCall(http.MethodPatch, h.pending, tok, rest, "Upload-Offset", "1000")
		}},
	}
	for _, r := range h.sessionRoutes("team-alpha")[2:] {
		endpoints = append(endpoints, hostileEndpoint{r.name, false, func(tok string) func(*testing.T) response { return r.send(h, tok) }})
	}
	var cases []hostileCase
	for _, kind := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"NoToken", "", 401, "unauthorized"}, {"GarbageToken", "not.a.token", 401, "unauthorized"},
		{"ExpiredToken", expired, 401, "token_expired"}, {"LeftClientToken", h.left, 401, "client_left"},
		{"OtherSessionToken", h.zurich, 403, "forbidden"},
	} {
		for _, e := range endpoints {
			status, code := kind.status, kind.code
			if kind.token == h.zurich && (e.name == "TusHead" || e.name == "TusPatch") {
				status, code = 404, "not_found" // another session's upload does not exist for it
			}
			if e.head {
				code = headProblem
			}
			cases = append(cases, hostileCase{e.name + kind.name, status, code, e.send(kind.token)})
		}
	}

	clients := alphaPath + "/clients"
	unauthorized := func(name, token string) hostileCase {
		return hostileCase{name, 401, "unauthorized", h.call(http.MethodGet, clients, token, nil)}
	}
	announce, _ := json.Marshal(h.fresh)
	return append(cases,
		unauthorized("TokenForgedSignature", tamperPayload(t, h.alpha, func(c map[string]any) { c["sid"] = "Zurich" })),
		unauthorized("TokenAlgNone", signNone(t, claims)),
		unauthorized("TokenHS512", sign(jwt.SigningMethodHS512, h.secret, func(jwt.MapClaims) {})),
		unauthorized("TokenOtherKey", sign(jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), func(jwt.MapClaims) {})),
		unauthorized("TokenWrongGeneration", signed(func(c jwt.MapClaims) { c["gen"] = c["gen"].(float64) + 1 })),
		unauthorized("TokenUnknownClient", signed(func(c jwt.MapClaims) { c["sub"] = newUUID() })),
		unauthorized("TokenWithoutGeneration", signed(func(c jwt.MapClaims) { delete(c, "gen") })),
		unauthorized("TokenWithoutExpiry", signed(func(c jwt.MapClaims) { delete(c, "exp") })),
		unauthorized("TokenIssuedInFuture", signed(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })),
		hostileCase{"TokenBasicScheme", 401, "unauthorized", h.call(http.MethodGet, clients, "", nil, "Authorization", "Basic "+h.alpha)},
		hostileCase{"TokenInQueryClients", 401, "unauthorized", h.call(http.MethodGet, clients+"?access_token="+h.alpha, "", nil)},
		hostileCase{"TokenInQueryLeave", 401, "unauthorized", h.call(http.MethodPost, alphaPath+"/leave?access_token="+h.alpha, "", nil)},
		hostileCase{"TokenInQueryAnnounce", 401, "unauthorized", h.call(http.MethodPost, alphaPath+"/contents?access_token="+h.alpha, "", announce, "Content-Type", "application/json")},
		hostileCase{"TokenInQueryClear", 401, "unauthorized", h.call(http.MethodDelete, alphaPath+"/contents?access_token="+h.alpha, "", nil)},
		hostileCase{"TokenInQueryTusCreate", 401, "unauthorized", h.tusCreate(uploadPath+"?access_token="+h.alpha, "",
			"Upload-Length", strconv.Itoa(len(h.open.blobs[0])), "Upload-Metadata", tusMeta("team-alpha", h.open.id, "0"))},
	)
}

// testJoinFlood: joins beyond --join-rate from one address are refused with Retry-After, and
// the refused ones, which would have added a client or created a session, change nothing.
func testJoinFlood(t *testing.T) {
	cfg, clk := testConfig(t, "--join-rate", "3")
	srv := startServer(t, cfg, clk)
	v := loadVectors(t)
	for range 3 {
		srv.joinToken(t, v[0])
	}
	before := srv.snapshot()
	for _, r := range []response{
		srv.join(v[0].SessionID, v[0].Fingerprint, nil),
		srv.join(v[1].SessionID, v[1].Fingerprint, v[1].KDF),
		srv.join(v[0].SessionID, v[0].Fingerprint, nil),
	} {
		if f := answerMismatch(r, 429, "rate_limited"); f != "" {
			t.Error(f)
		}
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q, want 1-60 seconds", r.header.Get("Retry-After"))
		}
	}
	if d := stateDiff(before, srv.snapshot()); d != "" {
		t.Errorf("refused joins changed the data dir or the database:\n%s", d)
	}
}
