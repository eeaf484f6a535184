package main

import (
	"io"
	"log/slog"
)

// setTestLogger sends the server's logs to w so tests can inspect them.
func setTestLogger(w io.Writer) {
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
}
