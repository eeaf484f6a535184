package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.DataDir != "./data" || cfg.SessionIdleTimeout != 10*time.Minute ||
		cfg.MinKDFIterations != 100000 || cfg.MaxChunkSize != 16<<20 || cfg.MaxItemBytes != 2<<30 ||
		cfg.Heartbeat != 15*time.Second || cfg.JWTSecret != nil || cfg.CORSOrigins != nil {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestParseConfigPrecedence(t *testing.T) {
	e := env(map[string]string{"SHARETHINGS_ADDR": ":9000", "SHARETHINGS_DATA_DIR": "/srv/st", "SHARETHINGS_CORS_ORIGINS": "https://a.example, https://b.example"})
	cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:7000", "--max-item-size", "64KiB"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7000" || cfg.DataDir != "/srv/st" || cfg.MaxItemBytes != 64<<10 ||
		len(cfg.CORSOrigins) != 2 || cfg.CORSOrigins[1] != "https://b.example" {
		t.Fatalf("flags must override the environment, which overrides defaults: %+v", cfg)
	}
}

func TestParseConfigRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		mention string
	}{
		{[]string{"--addr", "8080"}, nil, "--addr"},
		{nil, map[string]string{"SHARETHINGS_ADDR": "nope"}, "SHARETHINGS_ADDR"},
		{[]string{"--session-idle-timeout", "soon"}, nil, "--session-idle-timeout"},
		{[]string{"--session-idle-timeout", "0s"}, nil, "--session-idle-timeout"},
		{[]string{"--min-kdf-iterations", "-5"}, nil, "--min-kdf-iterations"},
		{[]string{"--max-chunk-size", "1KiB"}, nil, "--max-chunk-size"},
		{[]string{"--max-item-size", "lots"}, nil, "--max-item-size"},
		{nil, map[string]string{"SHARETHINGS_SESSION_QUOTA": "10GB"}, "SHARETHINGS_SESSION_QUOTA"},
		{[]string{"--heartbeat", "30s"}, nil, "--heartbeat"},
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.local"}, nil, "--trusted-proxies"},
		{[]string{"--jwt-secret", "abcd"}, nil, "--jwt-secret"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--tls-cert", "cert.pem"}, nil, "--tls-key"},
		{[]string{"--no-such-flag"}, nil, "no-such-flag"},
		{[]string{"stray"}, nil, "stray"},
	} {
		_, err := ParseConfig(tc.args, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.mention) || strings.Contains(err.Error(), "\n") {
			t.Errorf("args %v env %v: error %v must be one line naming %s", tc.args, tc.env, err, tc.mention)
		}
	}
}

// TestParseConfigKeepsSecretsOutOfErrors: a bad signing key or database URL is refused
// without being repeated, since start-up errors end up in logs.
func TestParseConfigKeepsSecretsOutOfErrors(t *testing.T) {
	for _, tc := range []struct{ flag, env, value string }{
		{"--jwt-secret", "SHARETHINGS_JWT_SECRET", "c0ffee-almost-a-key"},
		{"--database-url", "SHARETHINGS_DATABASE_URL", "mysql://app:hunter2@db/sharethings"},
	} {
		for _, errOf := range []func() error{
			func() error { _, err := ParseConfig([]string{tc.flag, tc.value}, env(nil)); return err },
			func() error { _, err := ParseConfig(nil, env(map[string]string{tc.env: tc.value})); return err },
		} {
			if err := errOf(); err == nil || strings.Contains(err.Error(), tc.value) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: error %v must refuse the value without showing it", tc.flag, err)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "64KiB": 64 << 10, "16MiB": 16 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40, "5B": 5} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5GiB", "10GB", "99999999999TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestBadSettingStopsStartupWithOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--session-idle-timeout", "forever"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "--session-idle-timeout") {
		t.Fatalf("stderr %q must be one line naming the setting", stderr.String())
	}
}

func TestDefaultHealthURL(t *testing.T) {
	if got := defaultHealthURL(":8443", true); got != "https://127.0.0.1:8443/healthz" {
		t.Errorf("with TLS: %s", got)
	}
	for addr, want := range map[string]string{
		"": "http://127.0.0.1:8080/healthz", ":9000": "http://127.0.0.1:9000/healthz",
		"0.0.0.0:80": "http://127.0.0.1:80/healthz", "[::1]:8080": "http://[::1]:8080/healthz",
	} {
		if got := defaultHealthURL(addr, false); got != want {
			t.Errorf("defaultHealthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
