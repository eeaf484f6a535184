package e2ee_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

// testKDF is cheap: these tests are about what happens after derivation.
var testKDF = api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1000, Salt: bytes.Repeat([]byte{7}, api.KDFSaltBytes)}

const testContentID = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"

func wantDecryptError(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, e2ee.ErrDecrypt) {
		t.Errorf("%s: err = %v, want ErrDecrypt", what, err)
	}
}

// A server that flips, reorders, swaps, truncates or re-counts chunks must be caught: the AAD
// binds contentId, index and n, and the tag covers every byte.
func TestOpenChunkDetectsTampering(t *testing.T) {
	it := deriveKeys(t, "correct horse battery staple", testKDF).Item(testContentID)
	plain := []byte("Grüße aus der Schweiz!")
	const index, total = 1, 3
	blob, err := it.SealChunk(nil, plain, index, total)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := it.OpenChunk(nil, blob, index, total); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OK: OpenChunk = %q, %v", got, err)
	}

	t.Run("ErrFlippedByte", func(t *testing.T) {
		for i := range blob {
			bad := bytes.Clone(blob)
			bad[i] ^= 0x01
			_, err := it.OpenChunk(nil, bad, index, total)
			wantDecryptError(t, fmt.Sprintf("byte %d", i), err)
		}
	})
	for _, tc := range []struct {
		name         string
		blob         []byte
		index, total int
	}{
		{"ErrOtherIndex", blob, 0, total},
		{"ErrOtherTotal", blob, index, total + 1},
		{"ErrTruncatedTotal", blob, index, index + 1},
		{"ErrTruncatedTag", blob[:len(blob)-1], index, total},
		{"ErrShorterThanIVAndTag", blob[:api.ChunkOverhead-1], index, total},
		{"ErrEmpty", nil, index, total},
		{"ErrExtended", append(bytes.Clone(blob), 0), index, total},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := it.OpenChunk(nil, tc.blob, tc.index, tc.total)
			wantDecryptError(t, tc.name, err)
		})
	}
	t.Run("ErrOtherItem", func(t *testing.T) {
		other := deriveKeys(t, "correct horse battery staple", testKDF).Item("5a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d")
		_, err := other.OpenChunk(nil, blob, index, total)
		wantDecryptError(t, "other item", err)
	})
	t.Run("ErrSwappedChunks", func(t *testing.T) {
		first, _ := it.SealChunk(nil, []byte("first"), 0, total)
		_, err := it.OpenChunk(nil, first, index, total)
		wantDecryptError(t, "chunk 0 served as chunk 1", err)
	})
}

func TestOpenMetaDetectsTampering(t *testing.T) {
	keys := deriveKeys(t, "correct horse battery staple", testKDF)
	it := keys.Item(testContentID)
	sealed, err := it.SealMeta(e2ee.Meta{Kind: "file", Name: "räport.bin", Mime: "application/octet-stream", Size: 5, ChunkSize: api.MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.OpenMeta(sealed); err != nil {
		t.Fatalf("OK: %v", err)
	}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x80; return b }

	for name, tc := range map[string]struct {
		it *e2ee.Item
		s  api.Sealed
	}{
		"ErrWrongPassphrase": {deriveKeys(t, "correct horse battery stapler", testKDF).Item(testContentID), sealed},
		"ErrOtherSalt":       {deriveKeys(t, "correct horse battery staple", e2ee.NewKDF(1000)).Item(testContentID), sealed},
		"ErrOtherItem":       {keys.Item("5a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"), sealed},
		"ErrFlippedData":     {it, api.Sealed{IV: sealed.IV, Data: flip(sealed.Data, 3)}},
		"ErrFlippedIV":       {it, api.Sealed{IV: flip(sealed.IV, 0), Data: sealed.Data}},
		"ErrShortIV":         {it, api.Sealed{IV: sealed.IV[:11], Data: sealed.Data}},
		"ErrEmpty":           {it, api.Sealed{}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.it.OpenMeta(tc.s)
			wantDecryptError(t, name, err)
		})
	}
}

// Fresh IVs: sealing the same thing twice must not give the same bytes, or a server could see
// which items are equal.
func TestSealUsesFreshIVs(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	m := e2ee.Meta{Kind: "text", Mime: "text/plain;charset=utf-8", Size: 2, ChunkSize: api.MinChunkSize}
	a, _ := it.SealMeta(m)
	b, _ := it.SealMeta(m)
	if bytes.Equal(a.IV, b.IV) || bytes.Equal(a.Data, b.Data) {
		t.Error("SealMeta twice gave the same iv or data")
	}
	c1, _ := it.SealChunk(nil, []byte("hi"), 0, 1)
	c2, _ := it.SealChunk(nil, []byte("hi"), 0, 1)
	if bytes.Equal(c1, c2) {
		t.Error("SealChunk twice gave the same blob")
	}
}

func TestSealChunkAppendsToDst(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	dst := []byte("head")
	out, err := it.SealChunk(dst, []byte("body"), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:4]) != "head" || len(out) != 4+4+api.ChunkOverhead {
		t.Fatalf("SealChunk(dst) = %d bytes starting %q", len(out), out[:4])
	}
	got, err := it.OpenChunk([]byte(">"), out[4:], 0, 1)
	if err != nil || string(got) != ">body" {
		t.Fatalf("OpenChunk(dst) = %q, %v", got, err)
	}
	if _, err := it.SealChunk(nil, nil, 1, 1); err == nil {
		t.Error("SealChunk accepted index == total")
	}
}
