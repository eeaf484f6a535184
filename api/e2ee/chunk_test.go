package e2ee_test

import (
	"testing"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

const cs = api.MinChunkSize

func TestChunkArithmetic(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      int64
		chunks    int
		lastBlob  int64
		totalSize int64
	}{
		{"EmptyIsOneEmptyChunk", 0, 1, 28, 28},
		{"OneByte", 1, 1, 29, 29},
		{"JustUnderAChunk", cs - 1, 1, cs - 1 + 28, cs - 1 + 28},
		{"ExactlyAChunk", cs, 1, cs + 28, cs + 28},
		{"JustOverAChunk", cs + 1, 2, 29, cs + 1 + 56},
		{"ThreeChunksAndABit", 3*cs + 5, 4, 33, 3*cs + 5 + 4*28},
		{"VectorFile", 131073, 3, 29, 131073 + 3*28},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := e2ee.ChunkCount(tc.size, cs)
			if n != tc.chunks {
				t.Fatalf("ChunkCount = %d, want %d", n, tc.chunks)
			}
			if got := e2ee.BlobSize(tc.size, cs, n-1); got != tc.lastBlob {
				t.Errorf("BlobSize(last) = %d, want %d", got, tc.lastBlob)
			}
			var sum int64
			for i := range n {
				sum += e2ee.BlobSize(tc.size, cs, i)
			}
			if got := e2ee.TotalSize(tc.size, cs); got != tc.totalSize || sum != got {
				t.Errorf("TotalSize = %d, sum of BlobSize %d, want %d", got, sum, tc.totalSize)
			}
			if e2ee.BlobSize(tc.size, cs, -1) != 0 || e2ee.BlobSize(tc.size, cs, n) != 0 {
				t.Error("BlobSize of a chunk that does not exist is not 0")
			}
			agreeWithServer(t, tc.size, n)
		})
	}
	t.Run("HugeSizeDoesNotOverflow", func(t *testing.T) {
		const size = 1<<63 - 1
		if n := e2ee.ChunkCount(size, api.MaxChunkSize); n != 1<<39 {
			t.Errorf("ChunkCount(MaxInt64) = %d", n)
		}
	})
}

// agreeWithServer checks that the server's own idea of the counts (api.Content) accepts what
// the client announces and expects the same blob lengths.
func agreeWithServer(t *testing.T, size int64, n int) {
	t.Helper()
	c := api.Content{TotalChunks: n, ChunkSize: cs, TotalSize: e2ee.TotalSize(size, cs)}
	if err := c.ValidateCounts(api.MaxChunkSize); err != nil {
		t.Errorf("server refuses the counts: %v", err)
	}
	for i := range n {
		if c.BlobLength(i) != e2ee.BlobSize(size, cs, i) {
			t.Errorf("chunk %d: server expects %d bytes, client sends %d", i, c.BlobLength(i), e2ee.BlobSize(size, cs, i))
		}
	}
}
