package api_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

// FuzzKDFValidate: the only accepted parameters are PBKDF2-SHA256 with iterations in
// [min, MaxKDFIterations] and a 16-byte salt; refusals are unsupported_kdf; accepted
// parameters survive the JSON round trip a join makes (salt as base64) and stay Equal.
func FuzzKDFValidate(f *testing.F) {
	salt := bytes.Repeat([]byte{7}, api.KDFSaltBytes)
	f.Add(api.KDFAlgPBKDF2, 600000, salt, 100000)
	f.Add(api.KDFAlgPBKDF2, 100000, salt, 100000)
	f.Add(api.KDFAlgPBKDF2, api.MaxKDFIterations, salt, 1)
	f.Add(api.KDFAlgPBKDF2, api.MaxKDFIterations+1, salt, 1)
	f.Add(api.KDFAlgPBKDF2, 0, salt, 0)
	f.Add(api.KDFAlgPBKDF2, -1, salt, -5)
	f.Add("pbkdf2-sha256", 600000, salt, 1)
	f.Add("PBKDF2-SHA256\x00", 600000, salt, 1)
	f.Add("scrypt", 600000, salt, 1)
	f.Add(api.KDFAlgPBKDF2, 600000, salt[:15], 1)
	f.Add(api.KDFAlgPBKDF2, 600000, append(salt, 0), 1)
	f.Add(api.KDFAlgPBKDF2, math.MaxInt, []byte(nil), math.MinInt)
	f.Fuzz(func(t *testing.T, alg string, iterations int, salt []byte, minIterations int) {
		k := api.KDF{Alg: alg, Iterations: iterations, Salt: salt}
		err := k.Validate(minIterations)
		want := alg == api.KDFAlgPBKDF2 && iterations >= minIterations && iterations <= api.MaxKDFIterations && len(salt) == api.KDFSaltBytes
		if (err == nil) != want {
			t.Fatalf("Validate(%+v, min %d) = %v, want ok=%v", k, minIterations, err, want)
		}
		if err != nil {
			wantCode(t, "KDF.Validate", err, api.EUNSUPPORTEDKDF)
			return
		}
		js, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		var back api.KDF
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("%s does not decode: %v", js, err)
		}
		if !back.Equal(k) || !k.Equal(back) || back.Validate(minIterations) != nil {
			t.Fatalf("JSON round trip %s changed %+v into %+v", js, k, back)
		}
	})
}

// FuzzSealedValidate: fingerprints and encrypted metadata are accepted exactly when their
// lengths are what AES-GCM with a 12-byte IV produces (fingerprint data = session id + tag,
// metadata data = 16 bytes of tag up to MaxMetadataData); refusals are invalid_request; an
// accepted value survives the JSON round trip byte for byte.
func FuzzSealedValidate(f *testing.F) {
	iv := make([]byte, api.FingerprintIVLen)
	f.Add("team-alpha", iv, make([]byte, len("team-alpha")+api.GCMTagBytes))
	f.Add("team-alpha", iv[:11], make([]byte, 26))
	f.Add("team-alpha", iv, make([]byte, 25))
	f.Add("", iv, make([]byte, api.GCMTagBytes))
	f.Add("Zürich", append(iv, 0), make([]byte, 23))
	f.Add("x", []byte(nil), []byte(nil))
	f.Add("x", iv, make([]byte, api.MaxMetadataData))
	f.Add("x", iv, make([]byte, api.MaxMetadataData+1))
	f.Fuzz(func(t *testing.T, sessionID string, iv, data []byte) {
		fp := api.Fingerprint{IV: iv, Data: data}
		err := fp.Validate(sessionID)
		want := len(iv) == api.FingerprintIVLen && len(data) == len(sessionID)+api.GCMTagBytes
		if (err == nil) != want {
			t.Fatalf("Fingerprint{%d-byte iv, %d-byte data}.Validate(%q) = %v, want ok=%v", len(iv), len(data), sessionID, err, want)
		}
		if err != nil {
			wantCode(t, "Fingerprint.Validate", err, api.EINVALID)
		} else {
			var back api.Fingerprint
			roundTrip(t, fp, &back)
			if !bytes.Equal(back.IV, iv) || !bytes.Equal(back.Data, data) || back.Validate(sessionID) != nil {
				t.Fatalf("fingerprint JSON round trip changed it")
			}
		}

		s := api.Sealed{IV: iv, Data: data}
		err = s.Validate()
		want = len(iv) == api.FingerprintIVLen && len(data) >= api.GCMTagBytes && len(data) <= api.MaxMetadataData
		if (err == nil) != want {
			t.Fatalf("Sealed{%d-byte iv, %d-byte data}.Validate() = %v, want ok=%v", len(iv), len(data), err, want)
		}
		if err != nil {
			wantCode(t, "Sealed.Validate", err, api.EINVALID)
			return
		}
		var back api.Sealed
		roundTrip(t, s, &back)
		if !bytes.Equal(back.IV, iv) || !bytes.Equal(back.Data, data) || back.Validate() != nil {
			t.Fatalf("metadata JSON round trip changed it")
		}
	})
}

func roundTrip(t *testing.T, v, back any) {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, back); err != nil {
		t.Fatalf("%s does not decode: %v", js, err)
	}
}

// FuzzContentCounts: ValidateCounts accepts exactly the (totalChunks, totalSize, chunkSize)
// that the client's encryption (package e2ee) produces for some plaintext size, and
// BlobLength then gives each chunk's blob length as the client will upload it: the blob
// lengths sum to totalSize, every blob but the last is chunkSize+28, the last holds at least
// one plaintext byte unless the item is one empty chunk. Refusals are invalid_request.
func FuzzContentCounts(f *testing.F) {
	const cs = api.MinChunkSize
	for _, c := range []struct {
		n      int
		size   int64
		cs, mx int
	}{
		{1, 28, cs, api.MaxChunkSize},                   // empty item
		{1, 29, cs, api.MaxChunkSize},                   // one byte
		{1, cs + 28, cs, api.MaxChunkSize},              // exactly one full chunk
		{2, cs + 28 + 29, cs, api.MaxChunkSize},         // a full chunk and one byte
		{2, 2*cs + 56, cs, api.MaxChunkSize},            // two full chunks
		{2, cs + 56, cs, api.MaxChunkSize},              // an empty last chunk: refused
		{3, 131157, cs, api.MaxChunkSize},               // the OpenAPI example
		{0, 0, cs, api.MaxChunkSize},                    // no chunks
		{1, 27, cs, api.MaxChunkSize},                   // less than the overhead
		{1, 28, cs - 1, api.MaxChunkSize},               // chunk size too small
		{1, 28, api.MaxChunkSize + 1, api.MaxChunkSize}, // chunk size too big
		{1 << 30, (1<<30)*int64(cs+28) - cs + 1, cs, api.MaxChunkSize},
		{1<<30 + 1, 0, cs, api.MaxChunkSize},
		{-1, math.MaxInt64, cs, api.MaxChunkSize},
		{2, math.MinInt64, api.MaxChunkSize, api.MaxChunkSize},
	} {
		f.Add(c.n, c.size, c.cs, c.mx)
	}
	f.Fuzz(func(t *testing.T, totalChunks int, totalSize int64, chunkSize, maxChunkSize int) {
		// The server's maximum is configured between the protocol's bounds (cmd's config).
		maxChunkSize = api.MinChunkSize + int(uint(maxChunkSize)%uint(api.MaxChunkSize-api.MinChunkSize+1))
		c := &api.Content{TotalChunks: totalChunks, TotalSize: totalSize, ChunkSize: chunkSize}
		err := c.ValidateCounts(maxChunkSize)

		// What a client would have encrypted, if anything.
		n := int64(totalChunks)
		plain := int64(-1)
		if chunkSize >= api.MinChunkSize && chunkSize <= maxChunkSize && n >= 1 && n <= 1<<30 {
			plain = totalSize - n*api.ChunkOverhead
		}
		want := plain >= 0 && e2ee.ChunkCount(plain, chunkSize) == totalChunks && e2ee.TotalSize(plain, chunkSize) == totalSize
		if (err == nil) != want {
			t.Fatalf("ValidateCounts(%d chunks, %d bytes, chunkSize %d, max %d) = %v, want ok=%v", totalChunks, totalSize, chunkSize, maxChunkSize, err, want)
		}
		if err != nil {
			wantCode(t, "ValidateCounts", err, api.EINVALID)
			return
		}
		full := int64(chunkSize + api.ChunkOverhead)
		last := c.BlobLength(totalChunks - 1)
		for _, i := range []int{0, totalChunks / 2, totalChunks - 2, totalChunks - 1} {
			if i < 0 {
				continue
			}
			if got, want := c.BlobLength(i), e2ee.BlobSize(plain, chunkSize, i); got != want {
				t.Fatalf("BlobLength(%d) = %d, the client seals %d bytes", i, got, want)
			}
			if i < totalChunks-1 && c.BlobLength(i) != full {
				t.Fatalf("BlobLength(%d) = %d, want a full chunk of %d", i, c.BlobLength(i), full)
			}
		}
		if (n-1)*full+last != totalSize {
			t.Fatalf("blob lengths add up to %d, not totalSize %d", (n-1)*full+last, totalSize)
		}
		if last < api.ChunkOverhead || last > full || (totalChunks > 1 && last == api.ChunkOverhead) {
			t.Fatalf("last blob of %d bytes: not 1..chunkSize plaintext bytes plus overhead", last)
		}
		// Completeness the other way: the client's encryption of the same size is accepted.
		again := &api.Content{TotalChunks: e2ee.ChunkCount(plain, chunkSize), TotalSize: e2ee.TotalSize(plain, chunkSize), ChunkSize: chunkSize}
		if err := again.ValidateCounts(maxChunkSize); err != nil {
			t.Fatalf("the encryption of %d bytes in %d-byte chunks is refused: %v", plain, chunkSize, err)
		}
	})
}
