package e2ee_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

// vectors mirrors testdata/protocol-vectors.json: keys hex, wire byte strings base64.
type vectors struct {
	Protocol string
	Sessions []struct {
		Passphrase     string
		SessionID      string `json:"sessionId"`
		KDF            api.KDF
		Master         string
		FingerprintKey string
		FingerprintIV  string // absent today: fingerprint.iv carries it
		Fingerprint    api.Fingerprint
		ContentKey     string
	}
	Items []vectorItem
}

type vectorItem struct {
	Session            int
	ContentID          string `json:"contentId"`
	ItemKey            string
	Plaintext          []byte
	PlaintextGenerator string
	TotalChunks        int
	Metadata           struct {
		JSON     string
		IV, Data []byte
	}
	Chunks []vectorChunk
}

type vectorChunk struct {
	Index           int
	IV              []byte
	PlaintextSHA256 string
	PlaintextLength int
	BlobLength      int64
	BlobSHA256      string
	Blob            []byte // only for small chunks
}

// generatorFormula is the only plaintextGenerator the test knows how to replay.
const generatorFormula = "byte i = (i*31 + 21 + (i>>8)) & 255"

func loadVectors(t testing.TB) *vectors {
	t.Helper()
	js, err := os.ReadFile("../../testdata/protocol-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatal(err)
	}
	if v.Protocol != "sharethings/v1" || e2ee.Prefix != v.Protocol+"|" {
		t.Fatalf("vectors are for protocol %q, package speaks %q", v.Protocol, e2ee.Prefix)
	}
	return &v
}

func deriveKeys(t testing.TB, passphrase string, kdf api.KDF) *e2ee.Keys {
	t.Helper()
	k, err := e2ee.DeriveKeys(passphrase, kdf)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func equalHex(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != want {
		t.Errorf("%s = %x, want %s", name, got, want)
	}
}

func equalBytes(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %s, want %s", name, base64.StdEncoding.EncodeToString(got), base64.StdEncoding.EncodeToString(want))
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestVectorSessions(t *testing.T) {
	v := loadVectors(t)
	for _, s := range v.Sessions {
		t.Run(fmt.Sprintf("%s,%d", s.SessionID, s.KDF.Iterations), func(t *testing.T) {
			k := deriveKeys(t, s.Passphrase, s.KDF)
			equalHex(t, "master", k.Master, s.Master)
			equalHex(t, "fingerprintKey", k.FingerprintKey, s.FingerprintKey)
			equalHex(t, "contentKey", k.ContentKey, s.ContentKey)
			if s.FingerprintIV != "" {
				equalHex(t, "fingerprintIV", k.FingerprintIV, s.FingerprintIV)
			}
			equalBytes(t, "fingerprintIV", k.FingerprintIV, s.Fingerprint.IV)
			fp := k.Fingerprint(s.SessionID)
			equalBytes(t, "fingerprint.iv", fp.IV, s.Fingerprint.IV)
			equalBytes(t, "fingerprint.data", fp.Data, s.Fingerprint.Data)
			if err := fp.Validate(s.SessionID); err != nil {
				t.Errorf("server would refuse the fingerprint: %v", err)
			}
		})
	}
}

// The vectors include a passphrase in decomposed form (NFD); its keys must be those of the
// composed form, as a browser that normalises would derive.
func TestVectorPassphraseIsNFCNormalised(t *testing.T) {
	v := loadVectors(t)
	tested := 0
	for _, s := range v.Sessions {
		nfc := norm.NFC.String(s.Passphrase)
		if nfc == s.Passphrase {
			continue
		}
		tested++
		k := deriveKeys(t, nfc, s.KDF)
		equalHex(t, "master of the NFC form", k.Master, s.Master)
		nfd := deriveKeys(t, norm.NFD.String(s.Passphrase), s.KDF)
		equalHex(t, "master of the NFD form", nfd.Master, s.Master)
	}
	if tested == 0 {
		t.Fatal("no vector has a passphrase that is not NFC")
	}
}

func TestVectorItems(t *testing.T) {
	v := loadVectors(t)
	keys := map[int]*e2ee.Keys{}
	for _, vi := range v.Items {
		t.Run(vi.ContentID, func(t *testing.T) {
			s := v.Sessions[vi.Session]
			if keys[vi.Session] == nil {
				keys[vi.Session] = deriveKeys(t, s.Passphrase, s.KDF)
			}
			it := keys[vi.Session].Item(vi.ContentID)
			equalHex(t, "itemKey", it.Key(), vi.ItemKey)
			t.Run("Metadata", func(t *testing.T) { checkVectorMeta(t, it, vi) })
			t.Run("Chunks", func(t *testing.T) {
				m, plain := vectorPlaintext(t, vi.Plaintext, vi.PlaintextGenerator, vi.Metadata.JSON)
				if n := e2ee.ChunkCount(m.Size, m.ChunkSize); n != vi.TotalChunks || len(vi.Chunks) != n {
					t.Fatalf("ChunkCount = %d, vector has totalChunks %d and %d chunks", n, vi.TotalChunks, len(vi.Chunks))
				}
				for _, c := range vi.Chunks {
					piece := plain[c.Index*m.ChunkSize : min(len(plain), (c.Index+1)*m.ChunkSize)]
					checkVectorChunk(t, it, m, vi.TotalChunks, c, piece)
				}
			})
		})
	}
}

// checkVectorMeta seals the vector's JSON with the vector's IV, byte for byte, and opens the
// vector's ciphertext.
func checkVectorMeta(t *testing.T, it *e2ee.Item, vi vectorItem) {
	t.Helper()
	md := vi.Metadata
	it.Rand = bytes.NewReader(md.IV)
	sealed, err := it.SealMetaJSON([]byte(md.JSON))
	if err != nil {
		t.Fatal(err)
	}
	equalBytes(t, "iv", sealed.IV, md.IV)
	equalBytes(t, "data", sealed.Data, md.Data)

	m, err := it.OpenMeta(api.Sealed{IV: md.IV, Data: md.Data})
	if err != nil {
		t.Fatal(err)
	}
	// Another client's JSON need not be Go's; compare SealMeta only where they agree.
	if remarshalled, _ := json.Marshal(m); string(remarshalled) != md.JSON {
		t.Logf("json.Marshal(Meta) = %s differs from the vector; SealMeta not compared", remarshalled)
		return
	}
	it.Rand = bytes.NewReader(md.IV)
	if sealed, err = it.SealMeta(m); err != nil {
		t.Fatal(err)
	}
	equalBytes(t, "SealMeta data", sealed.Data, md.Data)
}

// checkVectorChunk seals one chunk with the vector's IV and opens the vector's blob (or, where
// the vector gives only its hash, the blob just checked against that hash).
func checkVectorChunk(t *testing.T, it *e2ee.Item, m e2ee.Meta, total int, c vectorChunk, piece []byte) {
	t.Helper()
	if len(piece) != c.PlaintextLength || sha256Hex(piece) != c.PlaintextSHA256 {
		t.Fatalf("chunk %d: plaintext %d bytes sha256 %s, vector %d bytes %s", c.Index, len(piece), sha256Hex(piece), c.PlaintextLength, c.PlaintextSHA256)
	}
	it.Rand = bytes.NewReader(c.IV)
	blob, err := it.SealChunk(nil, piece, c.Index, total)
	if err != nil {
		t.Fatal(err)
	}
	if size := e2ee.BlobSize(m.Size, m.ChunkSize, c.Index); int64(len(blob)) != c.BlobLength || size != c.BlobLength {
		t.Errorf("chunk %d: blob %d bytes, BlobSize %d, vector %d", c.Index, len(blob), size, c.BlobLength)
	}
	if sha256Hex(blob) != c.BlobSHA256 {
		t.Errorf("chunk %d: blob sha256 %s, want %s", c.Index, sha256Hex(blob), c.BlobSHA256)
	}
	if c.Blob != nil {
		equalBytes(t, "blob", blob, c.Blob)
		blob = c.Blob
	}
	got, err := it.OpenChunk(nil, blob, c.Index, total)
	if err != nil || !bytes.Equal(got, piece) {
		t.Errorf("chunk %d: OpenChunk = %d bytes, %v; want the plaintext back", c.Index, len(got), err)
	}
}

// vectorPlaintext returns the item's metadata and plaintext, given inline (base64) or by a
// generator, and checks the plaintext has the size the metadata announces.
func vectorPlaintext(t *testing.T, inline []byte, generator, metaJSON string) (e2ee.Meta, []byte) {
	t.Helper()
	var m e2ee.Meta
	if err := json.Unmarshal([]byte(metaJSON), &m); err != nil {
		t.Fatal(err)
	}
	plain := inline
	switch generator {
	case "":
	case generatorFormula:
		plain = make([]byte, m.Size)
		for i := range plain {
			plain[i] = byte((i*31 + 21 + (i >> 8)) & 255)
		}
	default:
		t.Fatalf("unknown plaintextGenerator %q", generator)
	}
	if int64(len(plain)) != m.Size {
		t.Fatalf("plaintext is %d bytes, metadata says %d", len(plain), m.Size)
	}
	return m, plain
}
