package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// DownloadChunk writes the stored blob of chunk index of an item to w and returns how many
// bytes it wrote. When the connection breaks (or the server answers 5xx/429) it backs off and
// asks for the rest with Range: bytes=<written>-, so nothing is written twice. At the end it
// checks the length and the ETag (the blob's SHA-256) against what it wrote: a mismatch is
// an error, and w then holds bytes the caller must not trust. A chunk not uploaded yet is an
// *Error with code not_found.
func (c *Client) DownloadChunk(ctx context.Context, contentID string, index int, w io.Writer) (int64, error) {
	path, err := c.chunkPath(contentID, index)
	if err != nil {
		return 0, err
	}
	d := &chunkDownload{c: c, path: path, sink: &hashingWriter{w: w, h: sha256.New()}, total: -1}
	bo := c.newBackoff()
	for {
		before := d.sink.n
		err := d.attempt(ctx)
		if err == nil {
			return d.sink.n, d.verify()
		}
		if !retryable(err) {
			return d.sink.n, err
		}
		if d.sink.n > before {
			bo.reset() // progress: only consecutive failures count against the budget
		}
		if err := bo.wait(ctx, err, retryFloor(err)); err != nil {
			return d.sink.n, err
		}
	}
}

// ErrChecksum is a downloaded chunk whose bytes do not hash to the ETag the server recorded
// when the chunk was uploaded: the stored blob was altered or damaged.
var ErrChecksum = errors.New("client: chunk does not match its recorded SHA-256")

// chunkDownload is the state one DownloadChunk keeps across its attempts.
type chunkDownload struct {
	c     *Client
	path  string
	sink  *hashingWriter
	etag  string // as first answered; a resumed answer must carry the same
	total int64  // the blob's length once known, else -1
}

// attempt fetches what is missing: the whole blob the first time, the rest after a break.
func (d *chunkDownload) attempt(ctx context.Context) error {
	req, err := d.c.newRequest(ctx, http.MethodGet, d.path, nil, true)
	if err != nil {
		return err
	}
	// Identity keeps byte counts and offsets those of the stored blob.
	req.Header.Set("Accept-Encoding", "identity")
	if d.sink.n > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(d.sink.n, 10)+"-")
		if d.etag != "" {
			req.Header.Set("If-Range", d.etag)
		}
	}
	res, err := d.c.httpClient().Do(req)
	if err != nil {
		return transient(ctx, err)
	}
	defer res.Body.Close()
	skip, err := d.accept(res)
	if err != nil || res.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return err
	}
	// A server that ignored the Range sends the whole blob again: pass over what we have.
	if _, err := io.CopyN(io.Discard, res.Body, skip); err != nil {
		return transient(ctx, err)
	}
	if _, err := io.Copy(d.sink, res.Body); err != nil {
		if d.sink.err != nil {
			return fmt.Errorf("client: writing chunk: %w", d.sink.err)
		}
		return transient(ctx, err)
	}
	return nil
}

// accept checks an answer's status and headers and returns how many leading bytes of its
// body are already written.
func (d *chunkDownload) accept(res *http.Response) (skip int64, err error) {
	switch {
	case res.StatusCode == http.StatusOK:
		skip = d.sink.n
		if res.ContentLength >= 0 {
			d.total = res.ContentLength
		}
	case res.StatusCode == http.StatusPartialContent:
		start, total, ok := parseContentRange(res.Header.Get("Content-Range"))
		if !ok || start != d.sink.n {
			return 0, fmt.Errorf("client: asked for bytes from %d, got Content-Range %q", d.sink.n, res.Header.Get("Content-Range"))
		}
		d.total = total
	case res.StatusCode == http.StatusRequestedRangeNotSatisfiable && d.total >= 0 && d.sink.n == d.total:
		// Everything had arrived when the connection broke: nothing is missing.
		return 0, nil
	default:
		return 0, checkStatus(res)
	}
	tag := res.Header.Get("ETag")
	if d.etag != "" && tag != d.etag {
		return 0, fmt.Errorf("client: chunk changed while downloading (ETag %s, then %s)", d.etag, tag)
	}
	d.etag = tag
	return skip, nil
}

// verify checks the finished download against the length and the ETag.
func (d *chunkDownload) verify() error {
	if d.total >= 0 && d.sink.n != d.total {
		return fmt.Errorf("client: downloaded %d bytes of a %d-byte chunk", d.sink.n, d.total)
	}
	want := strings.TrimPrefix(d.etag, "W/")
	want = strings.Trim(want, `"`)
	if want == "" {
		return errors.New("client: the chunk came without an ETag to check it against")
	}
	if got := hex.EncodeToString(d.sink.h.Sum(nil)); got != want {
		return fmt.Errorf("%w: SHA-256 %s, ETag %s", ErrChecksum, got, want)
	}
	return nil
}

// parseContentRange reads "bytes start-end/total".
func parseContentRange(v string) (start, total int64, ok bool) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, false
	}
	rng, size, ok := strings.Cut(spec, "/")
	first, last, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	total, err3 := strconv.ParseInt(size, 10, 64)
	valid := err1 == nil && err2 == nil && err3 == nil && start >= 0 && end >= start && total > end
	return start, total, valid
}

// hashingWriter writes to the caller's writer and hashes what it accepted. It keeps the
// writer's own error apart, since a full disk is no reason to retry the network.
type hashingWriter struct {
	w   io.Writer
	h   hash.Hash
	n   int64
	err error
}

func (s *hashingWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}
