package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fanout is the subscribers of one round: one goroutine and one raw TCP connection each, no
// net/http transport (which would add two goroutines per connection).
type fanout struct {
	epoch    time.Time
	openBy   time.Time      // streams not open by then fail
	index    map[string]int // content id → event number; read-only while streams run
	streams  []*stream
	received atomic.Int64   // deliveries seen, all streams
	arrived  []atomic.Int32 // per event: streams that have it
	ended    atomic.Int64   // streams that ended while the round still ran
	wg       sync.WaitGroup
}

// stream is what one subscriber saw.
type stream struct {
	recv []int64 // when event i arrived, ns after the epoch; 0: never
	err  error   // why the stream ended before the round did
}

func newFanout(ids []string, subscribers int) *fanout {
	f := &fanout{epoch: time.Now(), index: make(map[string]int, len(ids)), streams: make([]*stream, subscribers),
		arrived: make([]atomic.Int32, len(ids))}
	for i, id := range ids {
		f.index[id] = i
	}
	for i := range f.streams {
		f.streams[i] = &stream{recv: make([]int64, len(ids))}
	}
	return f
}

// now is the time since the epoch, never 0.
func (f *fanout) now() int64 { return max(1, int64(time.Since(f.epoch))) }

// open starts every subscriber; each reports on opened once: nil when its stream is open,
// or why it could not open it. At most parallel are opening at once.
func (f *fanout) open(ctx context.Context, addr string, srv server, parallel int, opened chan<- error) {
	sem := make(chan struct{}, parallel)
	for i, st := range f.streams {
		f.wg.Add(1)
		go f.subscribe(ctx, addr, srv.streamRequest(i), srv.opensWithRetry(), sem, opened, st)
	}
}

func (f *fanout) subscribe(ctx context.Context, addr string, req []byte, withRetry bool, sem chan struct{}, opened chan<- error, st *stream) {
	defer f.wg.Done()
	sem <- struct{}{}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		<-sem
		opened <- err
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(f.openBy)
	body, err := startStream(conn, req, withRetry)
	conn.SetDeadline(time.Time{})
	<-sem
	opened <- err
	if err != nil {
		return
	}
	err = f.read(body, st)
	if ctx.Err() == nil {
		st.err = err
		f.ended.Add(1)
	}
}

// startStream sends req and reads the answer's headers (and, withRetry, the frames up to the
// "retry:" line that ShareThings sends once the subscriber is registered).
func startStream(conn net.Conn, req []byte, withRetry bool) (*bufio.Reader, error) {
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, 2048), nil)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b := make([]byte, 512)
		n, _ := res.Body.Read(b)
		return nil, fmt.Errorf("stream refused: %s %s", res.Status, bytes.TrimSpace(b[:n]))
	}
	body := bufio.NewReaderSize(res.Body, 2048)
	for withRetry {
		line, err := body.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("waiting for the retry frame: %w", err)
		}
		withRetry = !bytes.HasPrefix(line, []byte("retry:"))
	}
	return body, nil
}

// read records the deliveries of one stream until it ends.
func (f *fanout) read(body *bufio.Reader, st *stream) error {
	continued := false // the last read ended mid-line (longer than the buffer)
	for {
		line, err := body.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
		if !continued && bytes.HasPrefix(line, []byte("data:")) {
			f.see(line, st)
		}
		continued = err != nil
	}
}

var contentIDKey = []byte(`"contentId":"`)

// see records the arrival of the event whose data line this is, the first time it arrives.
func (f *fanout) see(line []byte, st *stream) {
	i := bytes.Index(line, contentIDKey)
	if i < 0 || len(line) < i+len(contentIDKey)+36 {
		return
	}
	id := line[i+len(contentIDKey) : i+len(contentIDKey)+36]
	n, ok := f.index[string(id)]
	if ok && st.recv[n] == 0 {
		st.recv[n] = f.now()
		f.received.Add(1)
		f.arrived[n].Add(1)
	}
}

// everywhere reports whether event i has reached every stream still open.
func (f *fanout) everywhere(i int) bool {
	return int64(f.arrived[i].Load()) >= int64(len(f.streams))-f.ended.Load()
}

// close ends every stream and waits for their goroutines.
func (f *fanout) close(cancel context.CancelFunc) {
	cancel()
	f.wg.Wait()
}
