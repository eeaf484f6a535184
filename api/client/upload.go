package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/sharethings/sharethings/api"
)

const (
	tusVersion = "1.0.0"
	// defaultUploadPath is the tus creation URL of protocol v1, used until the server names
	// one in an announce or config answer.
	defaultUploadPath = apiPrefix + "/uploads/"
)

var (
	// errChunkStored ends an upload whose chunk the server already has.
	errChunkStored = errors.New("client: chunk already stored")
	// errUploadGone means the upload being resumed no longer exists (it expired and was
	// swept): the next attempt creates a new one.
	errUploadGone = errors.New("client: the unfinished upload is gone")
)

func (c *Client) rememberUploadURL(u string) {
	if u == "" {
		return
	}
	c.mu.Lock()
	c.uploadURL = u
	c.mu.Unlock()
}

func (c *Client) creationURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uploadURL != "" {
		return c.uploadURL
	}
	return defaultUploadPath
}

// UploadChunk uploads the encrypted blob of chunk index of an announced item with tus 1.0:
// a creation POST, then one PATCH of everything the server has not confirmed. After a
// network error or a 5xx/429 answer it backs off and resumes the same upload with HEAD and
// PATCH from the confirmed offset, so the blob is read again (hence an io.ReaderAt) only from
// there. An unfinished upload left by an earlier run (409 chunk_in_progress) is resumed the
// same way; a chunk already stored (409 chunk_exists) is success.
//
// progress (may be nil) gets the bytes sent so far: the server's confirmed offset after a
// HEAD or PATCH, and in between the bytes of the current PATCH written to the connection.
// After a broken connection it falls back to the confirmed offset, so it may go down. It may
// run on the transport's goroutine, but never concurrently with itself and never after
// UploadChunk returns.
func (c *Client) UploadChunk(ctx context.Context, contentID string, index int, blob io.ReaderAt, size int64, progress func(sent int64)) error {
	sid := c.CurrentSession()
	if sid == "" {
		return errNotJoined
	}
	u := &chunkUpload{c: c, sid: sid, contentID: contentID, index: index, blob: blob, size: size, progress: progress, offset: -1}
	bo := c.newBackoff()
	for {
		before := u.confirmed
		err := u.attempt(ctx)
		switch {
		case err == nil || errors.Is(err, errChunkStored):
			return nil
		case !retryable(err):
			return err
		}
		if u.confirmed > before {
			bo.reset() // progress: only consecutive failures count against the budget
		}
		if err := bo.wait(ctx, err, retryFloor(err)); err != nil {
			return err
		}
	}
}

// chunkUpload is the state one UploadChunk keeps across its attempts.
type chunkUpload struct {
	c              *Client
	sid, contentID string
	index          int
	blob           io.ReaderAt
	size           int64
	progress       func(int64)
	url            string // the upload once created; kept so that a retry resumes it
	offset         int64  // bytes the server confirmed; -1 when unknown (ask with HEAD)
	confirmed      int64  // the most the server ever confirmed
}

// attempt creates the upload if there is none yet, learns the offset if unknown, and sends
// the rest.
func (u *chunkUpload) attempt(ctx context.Context) error {
	if u.url == "" {
		if err := u.create(ctx); err != nil {
			return err
		}
	}
	if u.offset < 0 {
		if err := u.head(ctx); err != nil {
			return err
		}
	}
	for u.offset < u.size {
		if err := u.patch(ctx); err != nil {
			u.offset = -1 // some bytes may have landed: ask before sending again
			return err
		}
	}
	return nil
}

// create asks for a new upload, or is sent to the unfinished one of this chunk.
func (u *chunkUpload) create(ctx context.Context) error {
	req, err := u.c.newRequest(ctx, http.MethodPost, u.c.creationURL(), nil, true)
	if err != nil {
		return err
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Upload-Length", strconv.FormatInt(u.size, 10))
	req.Header.Set("Upload-Metadata", tusMetadata("sessionId", u.sid, "contentId", u.contentID, "chunkIndex", strconv.Itoa(u.index)))
	res, err := u.c.httpClient().Do(req)
	if err != nil {
		return transient(ctx, err)
	}
	defer drain(res)
	if err := checkStatus(res); err != nil {
		return u.createRefused(err)
	}
	// tusd's Location is absolute; a relative one is resolved like a browser would.
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil || res.Header.Get("Location") == "" {
		return fmt.Errorf("client: tus creation answered %d without a usable Location", res.StatusCode)
	}
	u.url, u.offset = loc.String(), 0
	return nil
}

// createRefused turns the two conflicts into outcomes: the chunk is there, or an upload of
// it is to be resumed.
func (u *chunkUpload) createRefused(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Code == api.ECHUNKEXISTS:
		return errChunkStored
	case e.Code == api.ECHUNKINPROGRESS && e.UploadURL != "":
		u.url, u.offset = e.UploadURL, -1
		return nil
	}
	return err
}

// head reads the confirmed offset of the upload.
func (u *chunkUpload) head(ctx context.Context) error {
	req, err := u.c.newRequest(ctx, http.MethodHead, u.url, nil, true)
	if err != nil {
		return err
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	res, err := u.c.httpClient().Do(req)
	if err != nil {
		return transient(ctx, err)
	}
	defer drain(res)
	if err := u.uploadGone(checkStatus(res)); err != nil {
		return err
	}
	if l := res.Header.Get("Upload-Length"); l != "" && l != strconv.FormatInt(u.size, 10) {
		return fmt.Errorf("client: upload %s has length %s, the blob %d", u.url, l, u.size)
	}
	off, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 || off > u.size {
		return fmt.Errorf("client: HEAD %s answered Upload-Offset %q", u.url, res.Header.Get("Upload-Offset"))
	}
	u.offset = off
	u.report(off)
	return nil
}

// patch sends every byte from the confirmed offset to the end of the blob.
func (u *chunkUpload) patch(ctx context.Context) error {
	body := &progressReader{r: io.NewSectionReader(u.blob, u.offset, u.size-u.offset), base: u.offset, report: u.progress}
	defer body.stop()
	req, err := u.c.newRequest(ctx, http.MethodPatch, u.url, body, true)
	if err != nil {
		return err
	}
	req.ContentLength = u.size - u.offset
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Upload-Offset", strconv.FormatInt(u.offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res, err := u.c.httpClient().Do(req)
	if err != nil {
		return transient(ctx, err)
	}
	defer drain(res)
	if err := checkStatus(res); err != nil {
		// 409 is tusd's offset mismatch: the HEAD of the next attempt sets it right.
		if res.StatusCode == http.StatusConflict {
			return transient(ctx, err)
		}
		return u.uploadGone(err)
	}
	off, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off <= u.offset || off > u.size {
		// No progress would loop here for ever; the backoff bounds the attempts instead.
		return transient(ctx, fmt.Errorf("client: PATCH %s answered Upload-Offset %q after %d", u.url, res.Header.Get("Upload-Offset"), u.offset))
	}
	body.stop()
	u.offset = off
	u.report(off)
	return nil
}

// uploadGone forgets an upload the server answers 404 or 410 for, so the next attempt
// creates a new one (or learns the chunk is stored).
func (u *chunkUpload) uploadGone(err error) error {
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusGone) {
		u.url, u.offset = "", -1
		return &transientError{fmt.Errorf("%w: %w", errUploadGone, err)}
	}
	return err
}

// report passes on an offset the server confirmed.
func (u *chunkUpload) report(sent int64) {
	u.confirmed = max(u.confirmed, sent)
	if u.progress != nil {
		u.progress(sent)
	}
}

// tusMetadata encodes Upload-Metadata from key, value pairs: comma-separated
// "key base64(value)".
func tusMetadata(kv ...string) string {
	var out []byte
	for i := 0; i+1 < len(kv); i += 2 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1]))...)
	}
	return string(out)
}

// progressReader reports the bytes of a PATCH body as the transport reads them. The
// transport reads on its own goroutine and may still be reading when the request has failed:
// stop makes sure nothing is reported after it returns.
type progressReader struct {
	r      io.Reader
	base   int64
	report func(int64)

	mu      sync.Mutex
	sent    int64
	stopped bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += int64(n)
	if n > 0 && !p.stopped && p.report != nil {
		p.report(p.base + p.sent)
	}
	return n, err
}

func (p *progressReader) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
}

// drain reads what is left of a small answer so the connection can be reused, and closes
// it.
func drain(res *http.Response) {
	io.Copy(io.Discard, io.LimitReader(res.Body, maxProblemBody))
	res.Body.Close()
}
