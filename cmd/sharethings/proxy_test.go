package main

import (
	"bytes"
	"net/http"
	"testing"
)

// joinFrom sends a join with extra request headers.
func (s *testServer) joinFrom(v vectorSession, headers map[string]string) int {
	s.t.Helper()
	body := []byte(`{"clientName":"x","fingerprint":` + string(v.Fingerprint) + `}`)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/sessions/"+v.SessionID+"/join", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	v := loadVectors(t)
	for name, tc := range map[string]struct {
		extra      []string
		wantSecond int
	}{
		"Untrusted": {nil, http.StatusTooManyRequests},
		"Trusted":   {[]string{"--trusted-proxies", "127.0.0.1"}, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, clk := testConfig(t, append([]string{"--join-rate", "1"}, tc.extra...)...)
			srv := startServer(t, cfg, clk)
			srv.join(v[0].SessionID, v[0].Fingerprint, v[0].KDF) // creating uses 127.0.0.1's one attempt
			if got := srv.joinFrom(v[0], map[string]string{"X-Forwarded-For": "198.51.100.7"}); got != tc.wantSecond {
				t.Fatalf("join claiming another address: %d, want %d", got, tc.wantSecond)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	cfg, clk := testConfig(t, "--cors-origins", "https://app.example")
	srv := startServer(t, cfg, clk)
	request := func(method, origin string) http.Header {
		req, _ := http.NewRequest(method, srv.url+"/api/v1/config", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header
	}
	if h := request(http.MethodGet, "https://app.example"); h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Expose-Headers") == "" {
		t.Fatalf("allowed origin: %v", h)
	}
	if h := request(http.MethodOptions, "https://app.example"); h.Get("Access-Control-Allow-Headers") == "" || h.Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("preflight: %v", h)
	}
	if h := request(http.MethodGet, "https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin allowed: %v", h)
	}
}
