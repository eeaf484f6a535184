package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sharethings/sharethings/handlers"
	"github.com/sharethings/sharethings/sse"
	"github.com/sharethings/sharethings/storage"
	"github.com/sharethings/sharethings/web"
)

const (
	// shutdownTimeout bounds how long a stop waits for requests in flight.
	shutdownTimeout = 10 * time.Second
	// presenceGrace is how long a client stays present after its stream closes or its last
	// poll (PROTOCOL §6).
	presenceGrace = 30 * time.Second
)

// App is one running server: the same type production and the end-to-end tests start.
type App struct {
	cfg      *Config
	db       *storage.DB
	hub      *sse.Hub
	handlers *handlers.Server
	server   *http.Server
	listener net.Listener
	// cancelBase ends every request context (open streams, uploads) at shutdown.
	cancelBase context.CancelFunc
}

// OpenApp opens the data directory and binds the listen address, without serving yet.
func OpenApp(ctx context.Context, cfg *Config) (*App, error) {
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db.Now = cfg.Now
	hub := sse.NewHub(db, sse.Options{
		WriteTimeout:        cfg.StreamWriteTimeout,
		MaxSubscribers:      cfg.MaxSubscribers,
		MaxPerSession:       cfg.MaxSessionSubscribers,
		ReplayPage:          500,
		PollWait:            25 * time.Second,
		ReconnectRetryDelay: 3 * time.Second,
	})
	db.Broker = hub
	db.FollowOthers(storage.Relay{CatchUp: hub.CatchUp, SessionExpired: hub.Expire})
	app := &App{cfg: cfg, db: db, hub: hub}
	handler, err := app.handler()
	if err == nil {
		// Chunks whose last byte landed just before a crash are recorded before anyone asks,
		// and uploads whose creation a crash cut short are forgotten.
		err = app.handlers.RecoverUploads(ctx)
	}
	if err == nil {
		app.listener, err = net.Listen("tcp", cfg.Addr)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	baseCtx, cancel := context.WithCancel(context.Background())
	app.cancelBase = cancel
	app.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No ReadTimeout or WriteTimeout: uploads and event streams are long by design.
		BaseContext: func(net.Listener) context.Context { return baseCtx },
	}
	app.server.RegisterOnShutdown(cancel)
	return app, nil
}

func (a *App) handler() (http.Handler, error) {
	secret := a.cfg.JWTSecret
	if secret == nil {
		var err error
		if secret, err = storage.LoadOrCreateSecret(a.cfg.DataDir); err != nil {
			return nil, fmt.Errorf("token signing key: %w", err)
		}
	}
	tokens := handlers.NewTokens(secret, a.cfg.TokenTTL, a.cfg.Now)
	services := handlers.Services{Sessions: a.db, Contents: a.db, Uploads: a.db, Chunks: a.db, Presence: a.db, Events: a.hub}
	if a.db.Shared() {
		// Other instances serve the same sessions: limits and upload locks live in the database.
		services.RateLimits, services.UploadLocks = a.db, a.db
	}
	s := handlers.NewServer(services, tokens, handlers.Options{
		MinKDFIterations:      a.cfg.MinKDFIterations,
		DefaultChunkSize:      min(4<<20, a.cfg.MaxChunkSize),
		MaxChunkSize:          a.cfg.MaxChunkSize,
		MaxItemBytes:          a.cfg.MaxItemBytes,
		SessionQuotaBytes:     a.cfg.SessionQuotaBytes,
		SessionMaxItems:       a.cfg.SessionMaxItems,
		SessionIdleTimeout:    a.cfg.SessionIdleTimeout,
		TokenTTL:              a.cfg.TokenTTL,
		JoinAttemptsPerMinute: a.cfg.JoinAttemptsPerMinute,
		JoinFailuresPerMinute: a.cfg.JoinFailuresPerMinute,
		Heartbeat:             a.cfg.Heartbeat,
		MinFreeDiskBytes:      a.cfg.MinFreeDiskBytes,
		UploadExpiry:          a.cfg.UploadExpiry,
		RetentionMaxAge:       a.cfg.RetentionMaxAge,
		RetentionMaxItems:     a.cfg.RetentionMaxItems,
		CORSOrigins:           a.cfg.CORSOrigins,
		TrustedProxies:        a.cfg.TrustedProxies,
	}, a.cfg.Now)
	s.Ready = a.ready
	s.Web = web.Handler()
	s.RegisterGauge("sharethings_sessions", "Sessions that exist now.", func() float64 {
		n, err := a.db.CountSessions(context.Background())
		if err != nil {
			return -1
		}
		return float64(n)
	})
	s.RegisterGauge("sharethings_database_connections", "Database connections open now.", func() float64 { return float64(a.db.Connections()) })
	s.RegisterGauge("sharethings_event_subscribers", "Event streams open now.", func() float64 { return float64(a.hub.Subscribers()) })
	a.handlers = s
	return s.Handler()
}

// URL is the base URL clients use to reach this server.
func (a *App) URL() string {
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + a.listener.Addr().String()
}

// Serve serves until ctx is cancelled, then shuts down gracefully: open streams and uploads
// are told to stop at once, other requests get shutdownTimeout to finish.
func (a *App) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.serve() }()
	go every(ctx, a.cfg.SweepInterval, a.Sweep)
	go every(ctx, a.cfg.PresenceCheck, a.ExpirePresence)
	go every(ctx, a.cfg.Heartbeat, a.hub.Heartbeat)
	slog.Info("sharethings listening", "url", a.URL(), "data_dir", a.cfg.DataDir, "database", a.db.Engine())

	select {
	case err := <-errc:
		a.close()
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := a.server.Shutdown(shutdownCtx)
	a.close()
	slog.Info("sharethings stopped")
	return err
}

func (a *App) serve() error {
	var err error
	if a.cfg.TLSCert != "" {
		err = a.server.ServeTLS(a.listener, a.cfg.TLSCert, a.cfg.TLSKey)
	} else {
		err = a.server.Serve(a.listener)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (a *App) close() {
	a.cancelBase()
	a.server.Close()
	a.handlers.CloseStreams() // Shutdown does not wait for streams it no longer holds
	a.hub.Close()
	a.db.Close()
}

// every runs fn each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// ExpirePresence records client.left for clients with no stream and no poll within the grace.
// Where other instances share the database (and cannot know about our streams), the clients
// holding streams here are marked seen first, so that their checks keep them present too.
func (a *App) ExpirePresence(ctx context.Context) {
	holding, _ := a.hub.Holding()
	if a.db.Shared() {
		logError("mark stream holders seen", a.db.MarkSeen(ctx, holding))
	}
	_, err := a.db.ExpirePresence(ctx, a.cfg.Now().Add(-presenceGrace), holding)
	logError("expire presence", err)
}

// Sweep deletes every session idle for longer than the idle timeout with all it owns, applies
// item retention, and settles unfinished uploads.
func (a *App) Sweep(ctx context.Context) {
	now := a.cfg.Now()
	// A session someone listens to is active, however quiet.
	_, streaming := a.hub.Holding()
	logError("touch streaming sessions", a.db.TouchSessions(ctx, streaming))
	ids, err := a.db.ExpireSessions(ctx, now.Add(-a.cfg.SessionIdleTimeout))
	for _, id := range ids {
		slog.Info("session expired", "session", id)
		a.hub.Expire(id)
	}
	logError("expire sessions", err)
	_, err = a.db.PruneEvents(ctx, now.Add(-a.cfg.EventRetention))
	logError("prune events", err)
	var cutoff time.Time
	if a.cfg.RetentionMaxAge > 0 {
		cutoff = now.Add(-a.cfg.RetentionMaxAge)
	}
	if a.cfg.RetentionMaxAge > 0 || a.cfg.RetentionMaxItems > 0 {
		n, err := a.db.ApplyRetention(ctx, cutoff, a.cfg.RetentionMaxItems)
		if n > 0 {
			slog.Info("retention removed items", "count", n)
		}
		logError("apply retention", err)
	}
	logError("settle uploads", a.handlers.SweepUploads(ctx))
	logError("prune rate limits", a.db.PruneRateLimits(ctx))
}

// openDatabase opens PostgreSQL when a database URL is configured, else SQLite in the data
// directory. Errors never show the URL: it may hold a password.
func openDatabase(ctx context.Context, cfg *Config) (*storage.DB, error) {
	if cfg.DatabaseURL == "" {
		db, err := storage.Open(ctx, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("open data directory %s: %w", cfg.DataDir, err)
		}
		return db, nil
	}
	db, err := storage.OpenPostgres(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL database (data directory %s): %w", cfg.DataDir, err)
	}
	return db, nil
}

func logError(what string, err error) {
	if err != nil {
		slog.Error(what, "err", err)
	}
}

// ready reports whether the database answers and the data directory takes writes.
func (a *App) ready(ctx context.Context) error {
	if err := a.db.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	f, err := os.CreateTemp(a.cfg.DataDir, ".readyz-*")
	if err != nil {
		return fmt.Errorf("data directory not writable: %w", err)
	}
	f.Close()
	return os.Remove(filepath.Clean(f.Name()))
}
