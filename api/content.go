package api

import (
	"context"
	"time"
)

// Limits on announced items that the protocol fixes (PROTOCOL §2).
const (
	ChunkOverhead   = FingerprintIVLen + GCMTagBytes // iv || ciphertext || tag
	MaxMetadataData = 16 << 10
	// MaxChunks bounds an item's chunk count, and so every chunk index a request may name.
	MaxChunks = 1 << 30
)

// Sealed is an AES-GCM encrypted blob and its IV: the encrypted metadata of an item.
type Sealed struct {
	IV   []byte `json:"iv" swaggertype:"string" format:"byte" example:"TWyLqsnoByZFZIOi"`
	Data []byte `json:"data" swaggertype:"string" format:"byte" example:"Jp0rWpnnZhXcExxLJh9Wx2LWkRNASnZcuWXVVDLr+1UH0ibx"`
} //@name Sealed

// Validate checks the shape of encrypted metadata: a 12-byte IV and a ciphertext with its tag,
// no larger than MaxMetadataData.
func (s Sealed) Validate() error {
	if len(s.IV) != FingerprintIVLen || len(s.Data) < GCMTagBytes || len(s.Data) > MaxMetadataData {
		return Errorf(EINVALID, "metadata must be {iv: 12 bytes, data: 16 to %d bytes}", MaxMetadataData)
	}
	return nil
}

// Content is one shared item: text, image or file. The server knows only its sizes and its
// encrypted metadata.
type Content struct {
	ID          string `json:"contentId" example:"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"`
	SessionID   string `json:"-"`
	SenderID    string `json:"senderId"`
	SenderName  string `json:"senderName"`
	TotalChunks int    `json:"totalChunks" example:"3"`
	// TotalSize is the sum of the encrypted chunk blobs the server stores.
	TotalSize      int64     `json:"totalSize" example:"131157"`
	ChunkSize      int       `json:"chunkSize" example:"65536"`
	ReceivedChunks int       `json:"receivedChunks" example:"1"`
	Complete       bool      `json:"complete"`
	Pinned         bool      `json:"pinned"`
	Metadata       Sealed    `json:"metadata"`
	CreatedAt      time.Time `json:"createdAt" format:"date-time"`
	UpdatedAt      time.Time `json:"updatedAt" format:"date-time"`
} //@name Item

// Chunk is one stored encrypted chunk.
type Chunk struct {
	Index  int    `json:"index"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256" example:"3ba86713e0bddfa824acee47a25c7c93edf6129843d0645b5c26e654344d2be7"`
} //@name Chunk

// BlobLength is the encrypted length of chunk i of an item: the plaintext slice plus IV and
// tag. Every chunk but the last holds exactly ChunkSize plaintext bytes.
func (c *Content) BlobLength(i int) int64 {
	full := int64(c.ChunkSize + ChunkOverhead)
	if i < c.TotalChunks-1 {
		return full
	}
	return c.TotalSize - int64(c.TotalChunks-1)*full
}

// ValidateCounts checks that totalChunks, totalSize and chunkSize describe a real encryption
// of some plaintext: n = max(1, ceil(size/chunkSize)) chunks of size+28 bytes each.
func (c *Content) ValidateCounts(maxChunkSize int) error {
	if c.ChunkSize < MinChunkSize || c.ChunkSize > maxChunkSize {
		return Errorf(EINVALID, "chunkSize must be from %d to %d", MinChunkSize, maxChunkSize)
	}
	if c.TotalChunks < 1 || c.TotalChunks > MaxChunks {
		return Errorf(EINVALID, "totalChunks must be at least 1")
	}
	n := int64(c.TotalChunks)
	plain := c.TotalSize - n*ChunkOverhead
	lo, hi := (n-1)*int64(c.ChunkSize)+1, n*int64(c.ChunkSize)
	if n == 1 {
		lo = 0
	}
	if plain < lo || plain > hi {
		return Errorf(EINVALID, "totalSize %d does not fit %d chunks of chunkSize %d", c.TotalSize, c.TotalChunks, c.ChunkSize)
	}
	return nil
}

// ContentOrder is the order of a listing; pinned items come first in both.
type ContentOrder int

const (
	NewestFirst ContentOrder = iota
	OldestFirst
)

// ContentFilter selects a page of a session's items.
type ContentFilter struct {
	SessionID string
	Order     ContentOrder
	Limit     int
	// Cursor is the opaque nextCursor of the previous page, or empty for the first.
	Cursor string
}

// ContentUpdate changes an item; nil fields stay as they are.
type ContentUpdate struct {
	Pinned   *bool
	Metadata *Sealed
}

// ContentLimits are the quotas an announce is checked against.
type ContentLimits struct {
	MaxChunkSize      int
	MaxItemBytes      int64
	SessionQuotaBytes int64
	SessionMaxItems   int
}

// ContentService keeps items and their chunks.
type ContentService interface {
	// CreateContent announces an item and records content.created. Errors: EINVALID,
	// ECONFLICT (id already announced), ETOOLARGE, EQUOTAEXCEEDED.
	CreateContent(ctx context.Context, c *Content, limits ContentLimits) error
	// FindContent returns an item and its stored chunks. Errors: ECONTENTNOTFOUND.
	FindContent(ctx context.Context, sessionID, contentID string) (*Content, []Chunk, error)
	// ListContents returns a page of items and the cursor of the next page ("" at the end).
	ListContents(ctx context.Context, f ContentFilter) ([]*Content, string, error)
	// UpdateContent pins, unpins or renames an item and records content.updated.
	UpdateContent(ctx context.Context, sessionID, contentID string, u ContentUpdate) (*Content, error)
	// DeleteContent removes an item, its rows and its files, and records content.deleted.
	DeleteContent(ctx context.Context, sessionID, contentID string) error
	// ClearContents removes every item of a session and records session.cleared.
	ClearContents(ctx context.Context, sessionID string) error
	// FindChunk returns a stored chunk. Errors: ECONTENTNOTFOUND, ECHUNKOUTOFRANGE, ENOTFOUND.
	FindChunk(ctx context.Context, sessionID, contentID string, index int) (*Chunk, error)
}

// Upload is an accepted, unfinished tus upload of one chunk.
type Upload struct {
	ID        string
	SessionID string
	ContentID string
	Index     int
	Size      int64
	CreatedAt time.Time
}

// UploadService tracks chunk uploads from acceptance to recording.
type UploadService interface {
	// BeginUpload accepts an upload of one chunk after checking it against the announced
	// item. Errors: ECONTENTNOTFOUND, ECHUNKOUTOFRANGE, EINVALID (wrong length), ECHUNKEXISTS,
	// ECHUNKINPROGRESS (Extra["uploadId"] names the unfinished upload).
	BeginUpload(ctx context.Context, u *Upload) error
	// FinishUpload records the finished chunk with its SHA-256, records content.chunk and, for
	// the last chunk, completes the item, all in one transaction. Recording twice is a no-op.
	FinishUpload(ctx context.Context, uploadID, sha256Hex string) error
	// FindUpload returns an unfinished upload. Errors: ENOTFOUND.
	FindUpload(ctx context.Context, uploadID string) (*Upload, error)
	// ListUploads returns every unfinished upload, oldest first.
	ListUploads(ctx context.Context) ([]*Upload, error)
	// AbandonUpload forgets an unfinished upload; its files are the caller's to remove.
	AbandonUpload(ctx context.Context, uploadID string) error
}

// UploadLocks lets one request at a time, on any instance, work on an unfinished upload.
type UploadLocks interface {
	// LockUpload waits until the upload is the caller's alone, asking its holder to let go,
	// or until ctx ends. released is called when someone else asks the caller to let go.
	LockUpload(ctx context.Context, uploadID string, released func()) (unlock func(), err error)
}

// ChunkStore is where chunk bytes live on disk.
type ChunkStore interface {
	// ChunkPath is the absolute path of chunk index of an item; it validates the ids first.
	ChunkPath(sessionID, contentID string, index int) (string, error)
	// UploadDir is the absolute directory for the upload store's bookkeeping.
	UploadDir() string
	// FreeBytes is the space left on the data disk.
	FreeBytes() (int64, error)
}
