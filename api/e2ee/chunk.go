package e2ee

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/sharethings/sharethings/api"
)

// ChunkCount is n = max(1, ceil(size/chunkSize)): an empty item is still one empty chunk, so
// that every item has a last chunk whose arrival completes it. chunkSize must be positive.
func ChunkCount(size int64, chunkSize int) int {
	cs := int64(chunkSize)
	n := size / cs // no (size+cs-1)/cs: it overflows near the int64 limit
	if size%cs != 0 {
		n++
	}
	return int(max(n, 1))
}

// BlobSize is the encrypted length of chunk index of an item of size plaintext bytes: its
// plaintext slice plus IV and tag. It is 0 for an index outside [0, ChunkCount).
func BlobSize(size int64, chunkSize, index int) int64 {
	if index < 0 || index >= ChunkCount(size, chunkSize) {
		return 0
	}
	plain := min(int64(chunkSize), size-int64(index)*int64(chunkSize))
	return plain + api.ChunkOverhead
}

// TotalSize is the sum of BlobSize over all chunks: what the server calls totalSize.
func TotalSize(size int64, chunkSize int) int64 {
	return size + int64(ChunkCount(size, chunkSize))*api.ChunkOverhead
}

// SealChunk appends iv || AES-GCM(plaintext) to dst and returns it. The AAD binds the item,
// the index and the chunk count, so a server that reorders, swaps or truncates chunks is
// caught by OpenChunk. dst must not overlap plaintext.
func (it *Item) SealChunk(dst, plaintext []byte, index, total int) ([]byte, error) {
	if index < 0 || index >= total {
		return nil, fmt.Errorf("e2ee: chunk index %d is not below the chunk count %d", index, total)
	}
	// Grow first so that the IV and the sealed output share one array and Seal never has to
	// reallocate underneath the nonce it is reading.
	start := len(dst)
	dst = slices.Grow(dst, api.ChunkOverhead+len(plaintext))
	dst = dst[:start+ivBytes]
	iv := dst[start:]
	if err := readIV(it.Rand, iv); err != nil {
		return nil, err
	}
	return it.aead.Seal(dst, iv, plaintext, it.chunkAAD(index, total)), nil
}

// OpenChunk appends the plaintext of blob to dst and returns it. Every failure wraps
// ErrDecrypt: a short blob, a wrong tag, or a blob sealed for another index, count or item.
func (it *Item) OpenChunk(dst, blob []byte, index, total int) ([]byte, error) {
	if len(blob) < api.ChunkOverhead {
		return nil, fmt.Errorf("%w: chunk %d of item %s is %d bytes, shorter than iv and tag", ErrDecrypt, index, it.ContentID, len(blob))
	}
	out, err := it.aead.Open(dst, blob[:ivBytes], blob[ivBytes:], it.chunkAAD(index, total))
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d/%d of item %s: %s", ErrDecrypt, index, total, it.ContentID, errAuth)
	}
	return out, nil
}

// chunkAAD is P+"chunk|"+contentId+"|"+index+"|"+n, built without fmt because it runs once per
// chunk on the hot path.
func (it *Item) chunkAAD(index, total int) []byte {
	aad := make([]byte, 0, len(Prefix)+len("chunk|")+len(it.ContentID)+24)
	aad = append(aad, Prefix+"chunk|"...)
	aad = append(aad, it.ContentID...)
	aad = append(aad, '|')
	aad = strconv.AppendInt(aad, int64(index), 10)
	aad = append(aad, '|')
	return strconv.AppendInt(aad, int64(total), 10)
}
