package e2ee

import (
	"bytes"
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sharethings/sharethings/api"
)

// Item holds the key of one shared item. An Item is safe for concurrent use when Rand is nil
// or itself safe for concurrent use.
type Item struct {
	ContentID string
	// Rand supplies IVs; nil means crypto/rand. Tests set it to replay the vectors' IVs.
	Rand io.Reader

	key  []byte
	aead cipher.AEAD // built once: AES key expansion is not free on 4 MiB-chunk hot paths
}

// Key returns a copy of the derived item key, for the vector tests.
func (it *Item) Key() []byte { return bytes.Clone(it.key) }

// Meta is the plaintext item metadata. Receivers ignore fields they do not know.
type Meta struct {
	Kind      string     `json:"kind"`
	Name      string     `json:"name"`
	Mime      string     `json:"mime"`
	Size      int64      `json:"size"`
	ChunkSize int        `json:"chunkSize"`
	Image     *ImageMeta `json:"image,omitempty"`
	Text      *TextMeta  `json:"text,omitempty"`
}

// ImageMeta is the optional extra of an image item.
type ImageMeta struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// TextMeta is the optional extra of a text item.
type TextMeta struct {
	Chars int `json:"chars"`
	Lines int `json:"lines"`
}

// Item kinds of protocol v1.
const (
	kindText  = "text"
	kindImage = "image"
	kindFile  = "file"
)

// validate applies the rules a receiver checks before trusting sizes: without them a sender
// could make receivers divide by zero or allocate absurd buffers.
func (m Meta) validate() error {
	switch {
	case m.Kind != kindText && m.Kind != kindImage && m.Kind != kindFile:
		return fmt.Errorf("metadata kind %q is not text, image or file", m.Kind)
	case m.Size < 0:
		return fmt.Errorf("metadata size %d is negative", m.Size)
	case m.ChunkSize < api.MinChunkSize || m.ChunkSize > api.MaxChunkSize:
		return fmt.Errorf("metadata chunkSize %d is not from %d to %d", m.ChunkSize, api.MinChunkSize, api.MaxChunkSize)
	}
	return nil
}

// SealMeta encrypts m with a fresh IV. It refuses metadata a receiver would refuse, so the
// mistake shows up at the sender.
func (it *Item) SealMeta(m Meta) (api.Sealed, error) {
	if err := m.validate(); err != nil {
		return api.Sealed{}, fmt.Errorf("e2ee: %w", err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		return api.Sealed{}, fmt.Errorf("e2ee: %w", err)
	}
	return it.SealMetaJSON(js)
}

// SealMetaJSON encrypts js byte for byte with a fresh IV; the vectors need the exact bytes
// another client produced. It refuses only what the server would refuse for its size.
func (it *Item) SealMetaJSON(js []byte) (api.Sealed, error) {
	if len(js)+api.GCMTagBytes > api.MaxMetadataData {
		return api.Sealed{}, fmt.Errorf("e2ee: metadata of %d bytes is over the limit of %d", len(js), api.MaxMetadataData-api.GCMTagBytes)
	}
	iv := make([]byte, ivBytes)
	if err := readIV(it.Rand, iv); err != nil {
		return api.Sealed{}, err
	}
	data := it.aead.Seal(nil, iv, js, it.metaAAD())
	return api.Sealed{IV: iv, Data: data}, nil
}

// OpenMeta decrypts and checks the metadata of the item. Every failure wraps ErrDecrypt.
func (it *Item) OpenMeta(s api.Sealed) (Meta, error) {
	// GCM panics on a nonce of the wrong length; the IV comes from the server, so check.
	if len(s.IV) != ivBytes {
		return Meta{}, fmt.Errorf("%w: metadata iv is %d bytes, not %d", ErrDecrypt, len(s.IV), ivBytes)
	}
	js, err := it.aead.Open(nil, s.IV, s.Data, it.metaAAD())
	if err != nil {
		return Meta{}, fmt.Errorf("%w: metadata of item %s: %s", ErrDecrypt, it.ContentID, errAuth)
	}
	var m Meta
	if err := json.Unmarshal(js, &m); err != nil {
		return Meta{}, fmt.Errorf("%w: metadata of item %s: %w", ErrDecrypt, it.ContentID, err)
	}
	if err := m.validate(); err != nil {
		return Meta{}, fmt.Errorf("%w: item %s: %w", ErrDecrypt, it.ContentID, err)
	}
	return m, nil
}

// metaAAD binds the metadata to its item, so a server cannot show one item's name on another.
func (it *Item) metaAAD() []byte {
	return []byte(Prefix + "meta|" + it.ContentID)
}
