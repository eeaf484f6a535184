package e2ee

import (
	"errors"
	"fmt"
	"io"

	"github.com/sharethings/sharethings/api"
)

// Sealer cuts a plaintext stream into sealed chunk blobs, one chunk in memory at a time, so a
// multi-gigabyte file costs one chunk of memory, not its size.
type Sealer struct {
	it        *Item
	r         io.Reader
	size      int64
	chunkSize int
	total     int
	next      int
	plain     []byte
	blob      []byte
	err       error // sticky: after a failure the stream position is unknown
}

// NewSealer reads exactly size bytes from r in chunkSize pieces. The size is announced before
// the first chunk, so a reader that ends early or has more is an error, never a silent
// truncation; callers with a stream of unknown length (stdin) buffer it to a file first.
func (it *Item) NewSealer(r io.Reader, size int64, chunkSize int) *Sealer {
	s := &Sealer{it: it, r: r, size: size, chunkSize: chunkSize}
	switch {
	case size < 0:
		s.err = fmt.Errorf("e2ee: size %d is negative", size)
	case chunkSize < api.MinChunkSize || chunkSize > api.MaxChunkSize:
		s.err = fmt.Errorf("e2ee: chunkSize %d is not from %d to %d", chunkSize, api.MinChunkSize, api.MaxChunkSize)
	default:
		s.total = ChunkCount(size, chunkSize)
	}
	return s
}

// Total is the number of chunks the item has.
func (s *Sealer) Total() int { return s.total }

// Next returns the next blob and its index, or io.EOF after the last. The returned slice is
// reused by the next call.
func (s *Sealer) Next() (blob []byte, index int, err error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	if s.next == s.total {
		return nil, 0, io.EOF
	}
	index = s.next
	plain, err := s.read(index)
	if err != nil {
		s.err = err
		return nil, 0, err
	}
	s.blob, err = s.it.SealChunk(s.blob[:0], plain, index, s.total)
	if err != nil {
		s.err = err
		return nil, 0, err
	}
	s.next++
	return s.blob, index, nil
}

// read fills the plaintext of chunk index. For the last chunk it also makes sure r is done,
// before that chunk is sealed, so an over-long input never completes an item.
func (s *Sealer) read(index int) ([]byte, error) {
	n := BlobSize(s.size, s.chunkSize, index) - api.ChunkOverhead
	if s.plain == nil {
		s.plain = make([]byte, min(int64(s.chunkSize), s.size)) // small items, small buffers
	}
	plain := s.plain[:n]
	if got, err := io.ReadFull(s.r, plain); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			done := int64(index)*int64(s.chunkSize) + int64(got)
			return nil, fmt.Errorf("e2ee: input ended after %d of %d bytes: %w", done, s.size, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("e2ee: reading chunk %d: %w", index, err)
	}
	if index == s.total-1 {
		var extra [1]byte
		switch _, err := io.ReadFull(s.r, extra[:]); {
		case err == nil:
			return nil, fmt.Errorf("e2ee: input is longer than the announced %d bytes", s.size)
		case !errors.Is(err, io.EOF):
			return nil, fmt.Errorf("e2ee: reading past the last chunk: %w", err)
		}
	}
	return plain, nil
}

// Opener writes the plaintext of an item's chunks, given in order, to w, checking each against
// the metadata: the index must be the next one, the blob exactly BlobSize long, and at Close
// every chunk and every byte must have arrived.
type Opener struct {
	it      *Item
	w       io.Writer
	meta    Meta
	total   int
	next    int
	written int64
	plain   []byte
	err     error // sticky: set when meta is invalid or w failed
}

// NewOpener starts opening the item described by m. A mistake in m is reported by the first
// Write or Close.
func (it *Item) NewOpener(w io.Writer, m Meta) *Opener {
	o := &Opener{it: it, w: w, meta: m}
	if err := m.validate(); err != nil {
		o.err = fmt.Errorf("%w: item %s: %w", ErrDecrypt, it.ContentID, err)
		return o
	}
	o.total = ChunkCount(m.Size, m.ChunkSize)
	return o
}

// Write opens chunk index and writes its plaintext to w. Nothing reaches w unless the chunk is
// authentic. An out-of-order, wrong-length or unauthentic chunk leaves the Opener as it was,
// so the caller may fetch that chunk again and retry.
func (o *Opener) Write(index int, blob []byte) error {
	if o.err != nil {
		return o.err
	}
	if index != o.next {
		return fmt.Errorf("e2ee: chunk %d of item %s out of order: want chunk %d of %d", index, o.it.ContentID, o.next, o.total)
	}
	if want := BlobSize(o.meta.Size, o.meta.ChunkSize, index); int64(len(blob)) != want {
		return fmt.Errorf("%w: chunk %d of item %s is %d bytes, want %d", ErrDecrypt, index, o.it.ContentID, len(blob), want)
	}
	plain, err := o.it.OpenChunk(o.plain[:0], blob, index, o.total)
	if err != nil {
		return err
	}
	o.plain = plain
	n, err := o.w.Write(plain)
	o.written += int64(n)
	if err != nil {
		o.err = fmt.Errorf("e2ee: writing chunk %d: %w", index, err)
		return o.err
	}
	o.next++
	return nil
}

// Close reports whether the whole item arrived. It does not close w.
func (o *Opener) Close() error {
	switch {
	case o.err != nil:
		return o.err
	case o.next < o.total:
		return fmt.Errorf("e2ee: item %s ended after %d of %d chunks: %w", o.it.ContentID, o.next, o.total, io.ErrUnexpectedEOF)
	case o.written != o.meta.Size:
		// Unreachable while BlobSize and ChunkCount agree; kept because a silent short file is
		// the one failure a user would never notice.
		return fmt.Errorf("e2ee: item %s has %d bytes, metadata says %d", o.it.ContentID, o.written, o.meta.Size)
	}
	return nil
}
