package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	r3 "github.com/r3labs/sse/v2"
)

// The baseline is what the issue measured for reference: r3labs/sse v2.10.0 with no database,
// AutoReplay off, one stream, no authentication and no heartbeats. Its only work per event is
// one JSON encoding of a body shaped like ShareThings' content.created data.
const baselineStream = "events"

// baselineItem mirrors the data of a ShareThings content.created event, so both servers write
// frames of about the same size.
type baselineItem struct {
	ContentID      string           `json:"contentId"`
	SenderID       string           `json:"senderId"`
	SenderName     string           `json:"senderName"`
	TotalChunks    int              `json:"totalChunks"`
	TotalSize      int              `json:"totalSize"`
	ChunkSize      int              `json:"chunkSize"`
	ReceivedChunks int              `json:"receivedChunks"`
	Complete       bool             `json:"complete"`
	Pinned         bool             `json:"pinned"`
	Metadata       baselineMetadata `json:"metadata"`
	CreatedAt      time.Time        `json:"createdAt"`
	UpdatedAt      time.Time        `json:"updatedAt"`
}

type baselineMetadata struct {
	IV   string `json:"iv"`
	Data string `json:"data"`
}

// serveBaseline runs the bare server until it is signalled: GET /events?stream=events streams,
// POST /publish?contentId=… publishes one event, GET /healthz answers 200.
func serveBaseline(addr string) int {
	srv := r3.New()
	srv.AutoReplay = false
	srv.AutoStream = false
	srv.CreateStream(baselineStream)
	var lastID atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /events", srv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		data, err := json.Marshal(baselineEvent(r.URL.Query().Get("contentId")))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		id := strconv.FormatInt(lastID.Add(1), 10)
		srv.Publish(baselineStream, &r3.Event{ID: []byte(id), Event: []byte("content.created"), Data: data})
		w.WriteHeader(http.StatusCreated)
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// SIGTERM ends the process outright: there is nothing to flush.
	if err := hs.Serve(l); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	}
	return 0
}

func baselineEvent(contentID string) baselineItem {
	now := time.Now().UTC()
	return baselineItem{
		ContentID: contentID, SenderID: "16d09266-61b5-43a7-9eef-9fbaa9b98478", SenderName: "load",
		TotalChunks: 1, TotalSize: 128, ChunkSize: 65536,
		Metadata:  baselineMetadata{IV: "TWyLqsnoByZFZIOi", Data: "Jp0rWpnnZhXcExxLJh9Wx2LW"},
		CreatedAt: now, UpdatedAt: now,
	}
}
