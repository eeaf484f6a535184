package main

// The tus client of the upload tests: web/tools/tus-upload.mjs (tus-js-client) run under Node,
// its printed events read as they come.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// requireNodeTools fails the test when the uploader cannot run: CI must run these tests, so a
// missing Node or tus-js-client is an error to fix, not a reason to skip.
func requireNodeTools(t *testing.T) {
	t.Helper()
	requireNodePackage(t, "tus-js-client")
}

// uploadJob is the JSON job tus-upload.mjs reads from stdin.
type uploadJob struct {
	Endpoint       string           `json:"endpoint"`
	Token          string           `json:"token"`
	SessionID      string           `json:"sessionId"`
	ContentID      string           `json:"contentId"`
	Chunks         []uploadJobChunk `json:"chunks"`
	PatchSize      int              `json:"patchSize,omitempty"`
	RetryDelays    []int            `json:"retryDelays,omitempty"`
	StopAfterBytes int64            `json:"stopAfterBytes,omitempty"`
	Resume         map[int]string   `json:"resume,omitempty"`
}

type uploadJobChunk struct {
	Index int    `json:"index"`
	Path  string `json:"path"`
}

// uploadEvent is one line of the uploader's output.
type uploadEvent struct {
	Event   string `json:"event"` // created, resumed, progress, done, aborted, error
	Index   int    `json:"index"`
	URL     string `json:"url"`
	Sent    int64  `json:"sent"`
	Total   int64  `json:"total"`
	Status  int    `json:"status"`
	Body    string `json:"body"`
	Message string `json:"message"`
}

// uploader is one running tus-upload.mjs whose events arrive as they are printed, so a test
// can act at a given point of an upload without sleeping.
type uploader struct {
	t      *testing.T
	events chan uploadEvent // closed when the process has exited
	seen   []uploadEvent
	stdout syncBuffer
	stderr syncBuffer
	err    error // the exit status; valid once events is closed
}

func startUploader(t *testing.T, job uploadJob) *uploader {
	t.Helper()
	requireNodeTools(t)
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := nodeTool(t, "tus-upload.mjs")
	cmd.Stdin = bytes.NewReader(raw)
	u := &uploader{t: t, events: make(chan uploadEvent, 1<<14)}
	cmd.Stderr = &u.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go func() {
		// The buffer is far larger than any job's output, so node never blocks on its stdout.
		readToolOutput(stdout, &u.stdout, func(line []byte) {
			var ev uploadEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				ev = uploadEvent{Event: "unparsable", Message: string(line)}
			}
			u.events <- ev
		})
		u.err = cmd.Wait()
		close(u.events)
	}()
	t.Cleanup(func() {
		for range u.events { // the context has killed the process; wait for it to be reaped
		}
	})
	return u
}

// next returns the next event, or false once the uploader has exited and all were read.
func (u *uploader) next() (uploadEvent, bool) {
	ev, ok := <-u.events
	if ok {
		u.seen = append(u.seen, ev)
	}
	return ev, ok
}

// finish reads the remaining events and returns every event of the run.
func (u *uploader) finish() []uploadEvent {
	for _, ok := u.next(); ok; _, ok = u.next() {
	}
	return u.seen
}

// fatalf fails the test with everything the uploader printed.
func (u *uploader) fatalf(format string, args ...any) {
	u.t.Helper()
	u.t.Fatalf(format+"\nuploader exit: %v\nstdout:\n%s\nstderr:\n%s", append(args, u.err, u.stdout.String(), u.stderr.String())...)
}

// requireDone waits for the uploader and requires a clean exit with every chunk of the job done.
func (u *uploader) requireDone(job uploadJob) []uploadEvent {
	u.t.Helper()
	events := u.finish()
	if u.err != nil {
		u.fatalf("uploader failed")
	}
	done := map[int]bool{}
	for _, ev := range events {
		switch ev.Event {
		case "done":
			done[ev.Index] = true
		case "error", "aborted", "unparsable":
			u.fatalf("unexpected %s event", ev.Event)
		}
	}
	for _, c := range job.Chunks {
		if !done[c.Index] {
			u.fatalf("chunk %d has no done event", c.Index)
		}
	}
	return events
}

func runUploader(t *testing.T, job uploadJob) []uploadEvent {
	t.Helper()
	return startUploader(t, job).requireDone(job)
}

// newUploadJob is the job that uploads the given chunks of it to s as team-alpha. It writes
// their blobs to files now: edits made to the blobs before it count, later ones do not.
func newUploadJob(t *testing.T, s *testServer, token string, it *item, indexes ...int) uploadJob {
	t.Helper()
	dir := t.TempDir()
	job := uploadJob{Endpoint: s.url + uploadPath, Token: token, SessionID: "team-alpha", ContentID: it.id}
	for _, i := range indexes {
		path := filepath.Join(dir, strconv.Itoa(i)+".blob")
		if err := os.WriteFile(path, it.blobs[i], 0o600); err != nil {
			t.Fatal(err)
		}
		job.Chunks = append(job.Chunks, uploadJobChunk{Index: i, Path: path})
	}
	return job
}

func findEvent(events []uploadEvent, name string) *uploadEvent {
	for i := range events {
		if events[i].Event == name {
			return &events[i]
		}
	}
	return nil
}
