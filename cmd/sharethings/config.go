package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sharethings/sharethings/api"
)

// Config is everything the server reads from flags and SHARETHINGS_* variables.
type Config struct {
	Addr                  string
	DataDir               string
	DatabaseURL           string
	SessionIdleTimeout    time.Duration
	SweepInterval         time.Duration
	TokenTTL              time.Duration
	JoinAttemptsPerMinute int
	JoinFailuresPerMinute int
	MinKDFIterations      int
	MaxChunkSize          int
	MaxItemBytes          int64
	SessionQuotaBytes     int64
	SessionMaxItems       int
	Heartbeat             time.Duration
	RetentionMaxAge       time.Duration
	RetentionMaxItems     int
	UploadExpiry          time.Duration
	MinFreeDiskBytes      int64
	EventRetention        time.Duration
	MaxSubscribers        int
	MaxSessionSubscribers int
	CORSOrigins           []string
	TrustedProxies        []string
	TLSCert, TLSKey       string
	JWTSecret             []byte
	LogFormat             string
	LogLevel              string

	// Now is the clock for everything time-based; tests set it, flags cannot.
	Now api.Clock
	// PresenceCheck is how often presence is looked at (not a flag: the grace it serves is
	// fixed by the protocol). Tests that drive the checks themselves stretch both loops.
	PresenceCheck time.Duration
	// StreamWriteTimeout is how long an event stream may take to accept a frame before the
	// subscriber is cut off; it resumes with Last-Event-ID (not a flag: PROTOCOL §6 says 10 s).
	StreamWriteTimeout time.Duration
}

// setting is one configuration knob: its flag, its environment variable, its default and how
// to parse it. The table below is the single source for parsing, --help and the README table.
type setting struct {
	flag, def, usage string
	set              func(c *Config, v string) error
}

// secretSettings hold credentials: the signing key, and a database URL's password.
var secretSettings = map[string]bool{"jwt-secret": true, "database-url": true}

// shown is how a value appears in an error: never, for a secret.
func (s setting) shown(v string) string {
	if secretSettings[s.flag] {
		return "(not shown)"
	}
	return strconv.Quote(v)
}

func (s setting) env() string {
	return "SHARETHINGS_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
}

func settings() []setting {
	return []setting{
		{"addr", ":8080", "listen address (host:port)", func(c *Config, v string) error { return parseAddr(v, &c.Addr) }},
		{"data-dir", "./data", "directory for the database, the signing key and chunk files (shared by every instance when scaling out)", func(c *Config, v string) error { return nonEmpty(v, &c.DataDir) }},
		{"database-url", "", "postgres:// URL of a PostgreSQL database to use instead of SQLite in the data directory, so several instances can serve the same sessions", parseDatabaseURL},
		{"session-idle-timeout", "10m", "delete a session with no activity for this long", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.SessionIdleTimeout })},
		{"sweep-interval", "1m", "how often idle sessions, retention and unfinished uploads are looked at", durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.SweepInterval })},
		{"token-ttl", "1h", "lifetime of a session token (clients refresh before it ends)", durationAtLeast(time.Minute, func(c *Config) *time.Duration { return &c.TokenTTL })},
		{"join-rate", "10", "join attempts per minute per client address", intIn(1, 1_000_000, func(c *Config) *int { return &c.JoinAttemptsPerMinute })},
		{"join-failure-rate", "30", "wrong passphrases per minute per session", intIn(1, 1_000_000, func(c *Config) *int { return &c.JoinFailuresPerMinute })},
		{"min-kdf-iterations", "100000", "fewest PBKDF2 iterations a new session may use", intIn(1, api.MaxKDFIterations, func(c *Config) *int { return &c.MinKDFIterations })},
		{"max-chunk-size", "16MiB", "largest plaintext chunk size clients may use (64KiB-16MiB)", func(c *Config, v string) error { return parseChunkSize(v, &c.MaxChunkSize) }},
		{"max-item-size", "2GiB", "largest item, in encrypted bytes", sizeAtLeast(1, func(c *Config) *int64 { return &c.MaxItemBytes })},
		{"session-quota", "10GiB", "encrypted bytes one session may hold", sizeAtLeast(1, func(c *Config) *int64 { return &c.SessionQuotaBytes })},
		{"session-max-items", "1000", "items one session may hold", intIn(1, 1_000_000_000, func(c *Config) *int { return &c.SessionMaxItems })},
		{"retention-max-age", "0s", "delete unpinned items older than this (0s: keep until the session ends)", durationAtLeast(0, func(c *Config) *time.Duration { return &c.RetentionMaxAge })},
		{"retention-max-items", "0", "keep only this many newest unpinned items per session (0: no limit)", intIn(0, 1_000_000_000, func(c *Config) *int { return &c.RetentionMaxItems })},
		{"upload-expiry", "1h", "remove an unfinished upload untouched for this long", durationAtLeast(time.Minute, func(c *Config) *time.Duration { return &c.UploadExpiry })},
		{"min-free-disk", "256MiB", "refuse new items and uploads when the data disk has less free space", sizeAtLeast(0, func(c *Config) *int64 { return &c.MinFreeDiskBytes })},
		{"event-retention", "24h", "keep the event log this long for replay (older: clients resync)", durationAtLeast(time.Minute, func(c *Config) *time.Duration { return &c.EventRetention })},
		{"max-subscribers", "10000", "event streams open at once on this server", intIn(1, 1_000_000, func(c *Config) *int { return &c.MaxSubscribers })},
		{"max-session-subscribers", "1000", "event streams open at once in one session", intIn(1, 1_000_000, func(c *Config) *int { return &c.MaxSessionSubscribers })},
		{"heartbeat", "15s", "interval of event-stream heartbeats (1s-15s)", durationIn(time.Second, 15*time.Second, func(c *Config) *time.Duration { return &c.Heartbeat })},
		{"cors-origins", "", "comma-separated origins allowed to call the API from a browser, or *", func(c *Config, v string) error { c.CORSOrigins = splitList(v); return nil }},
		{"trusted-proxies", "", "comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed", func(c *Config, v string) error { return parseProxies(v, &c.TrustedProxies) }},
		{"tls-cert", "", "TLS certificate file (serve HTTPS when set with --tls-key)", func(c *Config, v string) error { c.TLSCert = v; return nil }},
		{"tls-key", "", "TLS private key file", func(c *Config, v string) error { c.TLSKey = v; return nil }},
		{"jwt-secret", "", "hex token-signing key of 32+ bytes; generated into the data dir when empty", func(c *Config, v string) error { return parseSecret(v, &c.JWTSecret) }},
		{"log-format", "text", "log format: text or json", oneOf([]string{"text", "json"}, func(c *Config) *string { return &c.LogFormat })},
		{"log-level", "info", "log level: debug, info, warn or error", oneOf([]string{"debug", "info", "warn", "error"}, func(c *Config) *string { return &c.LogLevel })},
	}
}

// ParseConfig reads defaults, then SHARETHINGS_* variables, then flags. An error names the
// setting and the source of the bad value in one line.
func ParseConfig(args []string, getenv func(string) string) (*Config, error) {
	cfg := &Config{Now: time.Now, PresenceCheck: 5 * time.Second, StreamWriteTimeout: 10 * time.Second}
	fs := flag.NewFlagSet("sharethings serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var badFlag error
	for _, s := range settings() {
		if err := s.set(cfg, s.def); err != nil {
			panic(fmt.Sprintf("default of --%s: %v", s.flag, err))
		}
		if v := getenv(s.env()); v != "" {
			if err := s.set(cfg, v); err != nil {
				return nil, fmt.Errorf("invalid %s=%s: %v", s.env(), s.shown(v), err)
			}
		}
		fs.Func(s.flag, s.usage, func(v string) error {
			if err := s.set(cfg, v); err != nil {
				badFlag = fmt.Errorf("invalid --%s=%s: %v", s.flag, s.shown(v), err)
				return err
			}
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		if badFlag != nil {
			return nil, badFlag
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("invalid --tls-cert/--tls-key: set both or neither")
	}
	return cfg, nil
}

// PrintSettings writes the settings table, for --help.
func PrintSettings(w io.Writer) {
	for _, s := range settings() {
		fmt.Fprintf(w, "  --%-22s %-36s %s (default %q)\n", s.flag, s.env(), s.usage, s.def)
	}
}

func nonEmpty(v string, dst *string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	*dst = v
	return nil
}

func parseAddr(v string, dst *string) error {
	if _, port, err := net.SplitHostPort(v); err != nil {
		return errors.New("must be host:port, e.g. :8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("port must be 0-65535")
	}
	*dst = v
	return nil
}

func durationIn(lo, hi time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			return fmt.Errorf("must be a duration from %s to %s, written like 90s, 10m or 1h", lo, hi)
		}
		*field(c) = d
		return nil
	}
}

func durationAtLeast(lo time.Duration, field func(*Config) *time.Duration) func(*Config, string) error {
	return durationIn(lo, 100*365*24*time.Hour, field)
}

func intIn(lo, hi int, field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

func oneOf(allowed []string, field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}

// parseSize reads a byte count such as 1048576, 64KiB, 16MiB or 2GiB.
func parseSize(v string) (int64, error) {
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 || n > (1<<62)/u.mult {
				break
			}
			return n * u.mult, nil
		}
	}
	return 0, errors.New("must be a size such as 1048576, 64KiB, 16MiB or 2GiB")
}

func sizeAtLeast(lo int64, field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		if n < lo {
			return fmt.Errorf("must be at least %d bytes", lo)
		}
		*field(c) = n
		return nil
	}
}

func parseChunkSize(v string, dst *int) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	if n < api.MinChunkSize || n > api.MaxChunkSize {
		return fmt.Errorf("must be from %d to %d bytes", api.MinChunkSize, api.MaxChunkSize)
	}
	*dst = int(n)
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseProxies(v string, dst *[]string) error {
	list := splitList(v)
	for _, p := range list {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR", p)
		}
	}
	*dst = list
	return nil
}

func parseSecret(v string, dst *[]byte) error {
	if v == "" {
		*dst = nil
		return nil
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 32 {
		return errors.New("must be at least 32 bytes, hex-encoded (64+ hex digits)")
	}
	*dst = key
	return nil
}

// parseDatabaseURL accepts an empty value (SQLite) or a postgres:// or postgresql:// URL.
func parseDatabaseURL(c *Config, v string) error {
	if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("must be a postgres:// URL")
	}
	c.DatabaseURL = v
	return nil
}
