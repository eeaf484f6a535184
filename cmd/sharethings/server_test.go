package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJoinWithVectorFingerprints(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	alpha := v[0]

	created := srv.join(alpha.SessionID, alpha.Fingerprint, alpha.KDF)
	if created.status != http.StatusCreated {
		t.Fatalf("first join: %d %s", created.status, created.body)
	}
	body := created.json(t)
	if body["token"] == "" || body["clientId"] == "" || body["lastEventId"] != float64(0) {
		t.Fatalf("join answer incomplete: %s", created.body)
	}
	if clients := body["clients"].([]any); len(clients) != 1 || clients[0].(map[string]any)["clientId"] != body["clientId"] {
		t.Fatalf("join answer must list the joiner: %s", created.body)
	}

	check := func(s *testServer) {
		t.Helper()
		if r := s.join(alpha.SessionID, alpha.Fingerprint, nil); r.status != http.StatusOK {
			t.Fatalf("same fingerprint: %d %s", r.status, r.body)
		}
		// Vector 2 is the same session id and salt with other iterations: another fingerprint.
		s.join(alpha.SessionID, v[2].Fingerprint, nil).requireProblem(t, http.StatusUnauthorized, "fingerprint_mismatch")
		r := s.do(http.MethodGet, "/api/v1/sessions/"+alpha.SessionID, nil, "")
		if r.status != http.StatusOK || !jsonEqual(r.json(t)["kdf"], alpha.KDF) {
			t.Fatalf("session lookup: %d %s", r.status, r.body)
		}
	}
	check(srv)
	check(srv.restart())
}

func jsonEqual(a any, raw json.RawMessage) bool {
	var b any
	json.Unmarshal(raw, &b)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestTokenStillValidAfterRestart(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.joinToken(t, v[0])
	srv = srv.restart()
	if r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, token); r.status != http.StatusOK {
		t.Fatalf("token refused after restart: %d %s", r.status, r.body)
	}
}

func TestSessionLifecycleErrors(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	alpha := v[0]
	t.Run("ErrSessionNotFound", func(t *testing.T) {
		srv.do(http.MethodGet, "/api/v1/sessions/nobody-here", nil, "").requireProblem(t, 404, "session_not_found")
		srv.join("team-alpha", alpha.Fingerprint, nil).requireProblem(t, 404, "session_not_found")
	})
	srv.join(alpha.SessionID, alpha.Fingerprint, alpha.KDF)
	t.Run("ErrSessionExists", func(t *testing.T) {
		srv.join(alpha.SessionID, alpha.Fingerprint, v[2].KDF).requireProblem(t, 409, "session_exists")
	})
	t.Run("ErrUnsupportedKDF", func(t *testing.T) {
		for _, kdf := range []string{
			`{"alg":"scrypt","iterations":1000,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}`,
			`{"alg":"PBKDF2-SHA256","iterations":999,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}`,
			`{"alg":"PBKDF2-SHA256","iterations":10000001,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}`,
			`{"alg":"PBKDF2-SHA256","iterations":1000,"salt":"AAAA"}`,
		} {
			srv.join("new-one", json.RawMessage(`{"iv":"U7UcA9PSI8SE9xql","data":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), json.RawMessage(kdf)).
				requireProblem(t, 400, "unsupported_kdf")
		}
	})
	t.Run("ErrInvalidRequest", func(t *testing.T) {
		for name, body := range map[string]string{
			"NotJSON":       `{"clientName":`,
			"NoName":        `{"fingerprint":` + string(alpha.Fingerprint) + `}`,
			"ControlInName": `{"clientName":"a\u0007b","fingerprint":` + string(alpha.Fingerprint) + `}`,
			"ShortIV":       `{"clientName":"x","fingerprint":{"iv":"AAAA","data":"C10xaqUxvGwWFmwGhmcxdaSjX4o/cgoZ+QY="}}`,
			"NotBase64":     `{"clientName":"x","fingerprint":{"iv":"!!","data":"??"}}`,
			"TwoObjects":    `{"clientName":"x"} {}`,
			"WrongType":     `{"clientName":5}`,
		} {
			t.Run(name, func(t *testing.T) {
				srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/join", body, "").requireProblem(t, 400, "invalid_request")
			})
		}
	})
}

func TestInvalidSessionIDsChangeNothing(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF)
	before := srv.snapshot()
	for _, id := range []string{"../x", "a/b", strings.Repeat("a", 65), "", "Zürich", "..", "a b", "-x"} {
		path := "/api/v1/sessions/" + url.PathEscape(id)
		for _, r := range []response{
			srv.join(url.PathEscape(id), v[0].Fingerprint, v[0].KDF),
			srv.do(http.MethodGet, path, nil, ""),
			srv.do(http.MethodGet, path+"/clients", nil, ""),
		} {
			if r.status != 400 || r.json(t)["code"] != "invalid_session_id" {
				t.Errorf("id %q: %d %s", id, r.status, r.body)
			}
		}
	}
	if after := srv.snapshot(); after != before {
		t.Fatalf("refused requests changed state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestTokens(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t, "--token-ttl", "1h")
	srv := startServer(t, cfg, clk)
	tokenA := srv.joinToken(t, v[0])
	tokenZ := srv.joinToken(t, v[1])
	clients := "/api/v1/sessions/team-alpha/clients"

	t.Run("OK", func(t *testing.T) {
		r := srv.do(http.MethodGet, clients, nil, tokenA)
		if r.status != 200 || len(r.json(t)["clients"].([]any)) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("ErrForbiddenOtherSession", func(t *testing.T) {
		for _, p := range []string{clients, "/api/v1/sessions/team-alpha/token", "/api/v1/sessions/team-alpha/leave"} {
			method := http.MethodPost
			if p == clients {
				method = http.MethodGet
			}
			srv.do(method, p, nil, tokenZ).requireProblem(t, 403, "forbidden")
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		claims := decodeClaims(t, tokenA)
		for name, tok := range map[string]string{
			"Missing":  "",
			"Garbage":  "not.a.token",
			"Forged":   tamperPayload(t, tokenA, func(c map[string]any) { c["sid"] = "Zurich" }),
			"AlgNone":  signNone(t, claims),
			"OtherKey": signWith(t, claims, jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32))),
			"HS512":    signWith(t, claims, jwt.SigningMethodHS512, []byte(strings.Repeat("k", 32))),
		} {
			t.Run(name, func(t *testing.T) {
				srv.do(http.MethodGet, clients, nil, tok).requireProblem(t, 401, "unauthorized")
			})
		}
	})
	t.Run("Refresh", func(t *testing.T) {
		r := srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/token", nil, tokenA)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		fresh := r.json(t)["token"].(string)
		for _, tok := range []string{tokenA, fresh} {
			if got := srv.do(http.MethodGet, clients, nil, tok); got.status != 200 {
				t.Fatalf("token refused after refresh: %s", got.body)
			}
		}
	})
	t.Run("ErrTokenExpired", func(t *testing.T) {
		clk.Advance(61 * time.Minute)
		srv.do(http.MethodGet, clients, nil, tokenA).requireProblem(t, 401, "token_expired")
	})
}

func decodeClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func tamperPayload(t *testing.T, token string, edit func(map[string]any)) string {
	parts := strings.Split(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(raw, &c)
	edit(c)
	raw, _ = json.Marshal(c)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}

func signNone(t *testing.T, claims jwt.MapClaims) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signWith(t *testing.T, claims jwt.MapClaims, m jwt.SigningMethod, key []byte) string {
	tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLeave(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	a := srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF).json(t)
	b := srv.join(v[0].SessionID, v[0].Fingerprint, nil).json(t)
	if r := srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/leave", nil, a["token"].(string)); r.status != 204 {
		t.Fatalf("leave: %d %s", r.status, r.body)
	}
	srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, a["token"].(string)).requireProblem(t, 401, "client_left")
	r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, b["token"].(string))
	list := r.json(t)["clients"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["clientId"] != b["clientId"] {
		t.Fatalf("clients after leave: %s", r.body)
	}
}

func TestIdleSessionExpires(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t, "--session-idle-timeout", "10m")
	srv := startServer(t, cfg, clk)
	token := srv.joinToken(t, v[0])
	srv.join(v[1].SessionID, v[1].Fingerprint, v[1].KDF)
	chunk := srv.chunkFile("0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", 0)
	os.MkdirAll(filepath.Dir(chunk), 0o700)
	os.WriteFile(chunk, []byte("ciphertext"), 0o600)

	clk.Advance(9 * time.Minute)
	srv.do(http.MethodGet, "/api/v1/sessions/Zurich", nil, "") // a lookup is not activity
	srv.app.Sweep(t.Context())
	if r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha", nil, ""); r.status != 200 {
		t.Fatalf("session expired early: %d", r.status)
	}
	clk.Advance(2 * time.Minute)
	srv.app.Sweep(t.Context())

	srv.do(http.MethodGet, "/api/v1/sessions/team-alpha", nil, "").requireProblem(t, 404, "session_not_found")
	if _, err := os.Stat(filepath.Dir(filepath.Dir(chunk))); !os.IsNotExist(err) {
		t.Fatalf("files of the expired session remain: %v", err)
	}
	// The name can be created again with another passphrase; the old token opens nothing.
	if r := srv.join(v[2].SessionID, v[2].Fingerprint, v[2].KDF); r.status != 201 {
		t.Fatalf("recreate: %d %s", r.status, r.body)
	}
	srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, token).requireProblem(t, 401, "unauthorized")
}

func TestJoinRateLimit(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t, "--join-rate", "3", "--join-failure-rate", "100")
	srv := startServer(t, cfg, clk)
	srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF)
	srv.join(v[0].SessionID, v[0].Fingerprint, nil)
	srv.join(v[0].SessionID, v[0].Fingerprint, nil)
	r := srv.join(v[0].SessionID, v[0].Fingerprint, nil)
	r.requireProblem(t, 429, "rate_limited")
	if r.header.Get("Retry-After") != "20" {
		t.Fatalf("Retry-After = %q, want 20 (3 per minute)", r.header.Get("Retry-After"))
	}
	clk.Advance(20 * time.Second)
	if r := srv.join(v[0].SessionID, v[0].Fingerprint, nil); r.status != 200 {
		t.Fatalf("after waiting: %d %s", r.status, r.body)
	}
}

func TestWrongPassphraseRateLimitPerSession(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t, "--join-rate", "100", "--join-failure-rate", "2")
	srv := startServer(t, cfg, clk)
	srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF)
	srv.join(v[0].SessionID, v[2].Fingerprint, nil).requireProblem(t, 401, "fingerprint_mismatch")
	srv.join(v[0].SessionID, v[2].Fingerprint, nil).requireProblem(t, 401, "fingerprint_mismatch")
	srv.join(v[0].SessionID, v[0].Fingerprint, nil).requireProblem(t, 429, "rate_limited")
	if r := srv.join(v[1].SessionID, v[1].Fingerprint, v[1].KDF); r.status != 201 {
		t.Fatalf("another session must not be limited: %d", r.status)
	}
}

func TestRouterErrorsAreProblems(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	srv.do(http.MethodGet, "/api/v1/nothing", nil, "").requireProblem(t, 404, "not_found")
	srv.do(http.MethodPost, "/api/v1/nothing", nil, "").requireProblem(t, 404, "not_found")
	srv.do(http.MethodDelete, "/api/v1/config", nil, "").requireProblem(t, 405, "method_not_allowed")
	srv.do(http.MethodPut, "/api/v1/sessions/team-alpha/join", nil, "").requireProblem(t, 405, "method_not_allowed")
}

func TestConfigEndpoint(t *testing.T) {
	cfg, clk := testConfig(t, "--session-idle-timeout", "10m", "--max-item-size", "1GiB")
	srv := startServer(t, cfg, clk)
	r := srv.do(http.MethodGet, "/api/v1/config", nil, "")
	c := r.json(t)
	want := map[string]any{
		"minKdfIterations": 1000.0, "maxKdfIterations": 1e7, "minChunkSize": 65536.0,
		"maxChunkSize": 16777216.0, "defaultChunkSize": 4194304.0, "maxItemBytes": float64(1 << 30),
		"sessionIdleTimeoutSeconds": 600.0, "heartbeatSeconds": 15.0, "uploadPath": "/api/v1/uploads/",
	}
	for k, w := range want {
		if c[k] != w {
			t.Errorf("config.%s = %v, want %v", k, c[k], w)
		}
	}
	for _, k := range []string{"version", "sessionQuotaBytes", "sessionMaxItems", "joinAttemptsPerMinute"} {
		if _, ok := c[k]; !ok {
			t.Errorf("config lacks %s", k)
		}
	}
}

func TestOperationsEndpoints(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := srv.do(http.MethodGet, p, nil, ""); r.status != 200 || r.json(t)["status"] != "ok" {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	m := srv.do(http.MethodGet, "/metrics", nil, "")
	for _, want := range []string{
		"sharethings_sessions 1",
		`sharethings_http_requests_total{method="POST",route="/api/v1/sessions/:sid/join",status="201"} 1`,
		"sharethings_http_request_duration_seconds_bucket",
		"tusd_uploads_created 0",
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if r := srv.do(http.MethodGet, "/docs", nil, ""); r.status != 200 || !strings.Contains(string(r.body), "joinSession") && !strings.Contains(string(r.body), "/api/v1/sessions/{sid}/join") {
		t.Errorf("/docs: %d", r.status)
	}
	if r := srv.do(http.MethodGet, "/", nil, ""); r.status != 200 || !strings.Contains(string(r.body), "ShareThings") {
		t.Errorf("web app: %d", r.status)
	}
}

func TestReadyzFailsWhenDataDirIsNotWritable(t *testing.T) {
	// Moving the directory away works for root too, whom permissions would not stop.
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	os.Rename(cfg.DataDir, cfg.DataDir+".moved")
	t.Cleanup(func() { os.Rename(cfg.DataDir+".moved", cfg.DataDir) })
	srv.do(http.MethodGet, "/readyz", nil, "").requireProblem(t, 503, "not_ready")
}

func TestLogsHoldNoSecrets(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.joinToken(t, v[0])
	srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients?access_token="+token+"&secret=query", nil, token)
	srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, "forged.token.value")
	logs := srv.logs.String()
	if !strings.Contains(logs, "/api/v1/sessions/team-alpha/clients") {
		t.Fatalf("requests were not logged:\n%s", logs)
	}
	for _, secret := range []string{token, strings.Split(token, ".")[2], "forged.token.value", "secret=query", "access_token", string(v[0].Fingerprint)} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
