package e2ee_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

func randomBytes(n int64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(n)}).Read(b)
	return b
}

// sealAll runs a Sealer to the end and returns copies of its blobs, checking the shapes the
// server will check.
func sealAll(t *testing.T, it *e2ee.Item, plain []byte) [][]byte {
	t.Helper()
	size := int64(len(plain))
	// OneByteReader: the Sealer must not depend on a reader filling a chunk in one call.
	s := it.NewSealer(iotest.OneByteReader(bytes.NewReader(plain)), size, cs)
	var blobs [][]byte
	for {
		blob, index, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if index != len(blobs) || int64(len(blob)) != e2ee.BlobSize(size, cs, index) {
			t.Fatalf("blob %d: index %d, %d bytes, want %d", len(blobs), index, len(blob), e2ee.BlobSize(size, cs, index))
		}
		blobs = append(blobs, bytes.Clone(blob)) // Next reuses the slice
	}
	if len(blobs) != s.Total() || s.Total() != e2ee.ChunkCount(size, cs) {
		t.Fatalf("%d blobs, Total %d, ChunkCount %d", len(blobs), s.Total(), e2ee.ChunkCount(size, cs))
	}
	if _, _, err := s.Next(); err != io.EOF {
		t.Fatalf("Next after the end = %v, want io.EOF", err)
	}
	return blobs
}

func TestSealerOpenerRoundTrip(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	for _, size := range []int64{0, 1, cs - 1, cs, cs + 1, 3*cs + 5} {
		plain := randomBytes(size)
		blobs := sealAll(t, it, plain)
		var out bytes.Buffer
		o := it.NewOpener(&out, e2ee.Meta{Kind: "file", Size: size, ChunkSize: cs})
		for i, blob := range blobs {
			if err := o.Write(i, blob); err != nil {
				t.Fatalf("size %d: Write(%d): %v", size, i, err)
			}
		}
		if err := o.Close(); err != nil {
			t.Fatalf("size %d: Close: %v", size, err)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Errorf("size %d: got %d bytes back, not the plaintext", size, out.Len())
		}
	}
}

func TestSealerRefuses(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	plain := randomBytes(2*cs + 3)
	drain := func(s *e2ee.Sealer) (int, error) {
		for n := 0; ; n++ {
			if _, _, err := s.Next(); err != nil {
				return n, err
			}
		}
	}
	for _, tc := range []struct {
		name     string
		s        *e2ee.Sealer
		wantOK   int // blobs handed out before the error
		wantWrap error
	}{
		{"ErrShortReader", it.NewSealer(bytes.NewReader(plain[:2*cs]), int64(len(plain)), cs), 2, io.ErrUnexpectedEOF},
		{"ErrEmptyReader", it.NewSealer(bytes.NewReader(nil), 5, cs), 0, io.ErrUnexpectedEOF},
		// The last chunk is withheld: an over-long input must never complete an item.
		{"ErrExtraBytes", it.NewSealer(bytes.NewReader(plain), int64(len(plain))-1, cs), 2, nil},
		{"ErrExtraByteOnEmptyItem", it.NewSealer(bytes.NewReader([]byte{0}), 0, cs), 0, nil},
		// The first Read fills chunk 0; the second fails.
		{"ErrReaderFails", it.NewSealer(iotest.TimeoutReader(bytes.NewReader(plain)), int64(len(plain)), cs), 1, iotest.ErrTimeout},
		{"ErrNegativeSize", it.NewSealer(bytes.NewReader(nil), -1, cs), 0, nil},
		{"ErrChunkSizeTooSmall", it.NewSealer(bytes.NewReader(plain), int64(len(plain)), cs-1), 0, nil},
		{"ErrChunkSizeTooBig", it.NewSealer(bytes.NewReader(plain), int64(len(plain)), api.MaxChunkSize+1), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := drain(tc.s)
			if err == io.EOF || n != tc.wantOK {
				t.Fatalf("%d blobs then %v; want %d blobs then an error", n, err, tc.wantOK)
			}
			if tc.wantWrap != nil && !errors.Is(err, tc.wantWrap) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantWrap)
			}
			if _, _, again := tc.s.Next(); again == nil || again == io.EOF {
				t.Errorf("Next after an error = %v, want the error again", again)
			}
		})
	}
}

func TestOpenerRefuses(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	size := int64(2*cs + 3)
	meta := e2ee.Meta{Kind: "file", Size: size, ChunkSize: cs}
	blobs := sealAll(t, it, randomBytes(size))

	t.Run("ErrOutOfOrder", func(t *testing.T) {
		var out bytes.Buffer
		o := it.NewOpener(&out, meta)
		if err := o.Write(1, blobs[1]); err == nil || out.Len() != 0 {
			t.Errorf("Write(1) first = %v, wrote %d bytes", err, out.Len())
		}
		if err := o.Write(0, blobs[0]); err != nil {
			t.Errorf("chunk 0 after a refused chunk 1: %v", err)
		}
		if err := o.Write(0, blobs[0]); err == nil {
			t.Error("chunk 0 accepted twice")
		}
	})
	t.Run("ErrWrongBlobLength", func(t *testing.T) {
		o := it.NewOpener(io.Discard, meta)
		wantDecryptError(t, "long blob", o.Write(0, append(bytes.Clone(blobs[0]), 0)))
		wantDecryptError(t, "short blob", o.Write(0, blobs[0][:len(blobs[0])-1]))
		wantDecryptError(t, "last chunk as first", o.Write(0, blobs[2]))
	})
	t.Run("ErrTampered", func(t *testing.T) {
		var out bytes.Buffer
		bad := bytes.Clone(blobs[0])
		bad[100] ^= 1
		wantDecryptError(t, "flipped byte", it.NewOpener(&out, meta).Write(0, bad))
		if out.Len() != 0 {
			t.Errorf("%d unauthentic bytes reached the writer", out.Len())
		}
	})
	t.Run("ErrCloseBeforeLastChunk", func(t *testing.T) {
		o := it.NewOpener(io.Discard, meta)
		for i := range 2 {
			if err := o.Write(i, blobs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.Close(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Close after 2 of 3 chunks = %v, want io.ErrUnexpectedEOF", err)
		}
	})
	t.Run("ErrWriterFails", func(t *testing.T) {
		w := failingWriter{}
		o := it.NewOpener(w, meta)
		if err := o.Write(0, blobs[0]); !errors.Is(err, errDiskFull) {
			t.Errorf("Write = %v, want the writer's error", err)
		}
		if err := o.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("Close = %v, want the writer's error", err)
		}
	})
	t.Run("ErrInvalidMeta", func(t *testing.T) {
		o := it.NewOpener(io.Discard, e2ee.Meta{Kind: "file", Size: size})
		wantDecryptError(t, "chunkSize 0", o.Write(0, blobs[0]))
		wantDecryptError(t, "chunkSize 0", o.Close())
	})
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func BenchmarkSealChunk(b *testing.B) {
	it := deriveKeys(b, "pw", testKDF).Item(testContentID)
	plain := randomBytes(api.DefaultChunkSize)
	var blob []byte
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		blob, _ = it.SealChunk(blob[:0], plain, 0, 1)
	}
}

func BenchmarkOpenChunk(b *testing.B) {
	it := deriveKeys(b, "pw", testKDF).Item(testContentID)
	blob, _ := it.SealChunk(nil, randomBytes(api.DefaultChunkSize), 0, 1)
	var plain []byte
	b.SetBytes(api.DefaultChunkSize)
	for b.Loop() {
		plain, _ = it.OpenChunk(plain[:0], blob, 0, 1)
	}
}

func BenchmarkDeriveKeys(b *testing.B) {
	kdf := e2ee.NewKDF(600000)
	for b.Loop() {
		deriveKeys(b, "correct horse battery staple", kdf)
	}
}
