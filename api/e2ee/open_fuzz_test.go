package e2ee_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

const fuzzContentID = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"

// fuzzItem derives one item key once per fuzzing process: PBKDF2 is not what is fuzzed.
func fuzzItem(f *testing.F, passphrase string) *e2ee.Item {
	f.Helper()
	keys, err := e2ee.DeriveKeys(passphrase, api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1, Salt: bytes.Repeat([]byte{3}, api.KDFSaltBytes)})
	if err != nil {
		f.Fatal(err)
	}
	return keys.Item(fuzzContentID)
}

// secretItem has a key no corpus entry was sealed with: whatever blob the fuzzer makes from
// the seeds, opening it with this key must fail.
func secretItem(f *testing.F) *e2ee.Item {
	return fuzzItem(f, rand.Text())
}

func wantErrDecrypt(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, e2ee.ErrDecrypt) {
		t.Fatalf("%s: err = %v, want one wrapping ErrDecrypt", what, err)
	}
}

// FuzzOpenChunk: a blob the server hands over opens only if it is exactly what the sender
// sealed for this item, index and count. Sealing then opening is the identity; any other
// blob — arbitrary bytes, one flipped bit, a cut, another index or count — fails with an
// error wrapping ErrDecrypt and leaves dst's contents alone.
func FuzzOpenChunk(f *testing.F) {
	it, secret := fuzzItem(f, "fuzz passphrase"), secretItem(f)
	sealed, _ := it.SealChunk(nil, []byte("Grüße aus der Schweiz!"), 1, 3)
	f.Add([]byte("Grüße aus der Schweiz!"), 1, 3, []byte(nil), uint16(0), byte(1))
	f.Add([]byte{}, 0, 1, []byte{}, uint16(0), byte(0))
	f.Add([]byte("x"), 0, 1, make([]byte, api.ChunkOverhead), uint16(5), byte(0x80))
	f.Add([]byte("x"), 0, 1, make([]byte, api.ChunkOverhead-1), uint16(0), byte(0))
	f.Add(bytes.Repeat([]byte{0xff}, 100), 2, 3, sealed, uint16(1000), byte(0xff))
	f.Add([]byte("y"), -1, -1, sealed, uint16(0), byte(0))
	f.Add([]byte("z"), 1<<31-1, 1<<31, sealed[:api.ChunkOverhead], uint16(11), byte(2))
	f.Fuzz(func(t *testing.T, plain []byte, index, total int, raw []byte, at uint16, mask byte) {
		// Arbitrary bytes from the server: never a panic, never a plaintext.
		dst := []byte("kept")
		if got, err := secret.OpenChunk(dst, raw, index, total); err == nil {
			t.Fatalf("OpenChunk accepted %d arbitrary bytes as %q", len(raw), got)
		} else {
			wantErrDecrypt(t, "arbitrary blob", err)
		}
		if string(dst) != "kept" {
			t.Fatalf("a failed open changed dst to %q", dst)
		}
		blob, err := it.SealChunk(nil, plain, index, total)
		if index < 0 || index >= total {
			if err == nil {
				t.Fatalf("SealChunk sealed index %d of %d", index, total)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) != len(plain)+api.ChunkOverhead {
			t.Fatalf("blob of %d bytes for %d plaintext bytes", len(blob), len(plain))
		}
		got, err := it.OpenChunk([]byte("prefix:"), blob, index, total)
		if err != nil || string(got) != "prefix:"+string(plain) {
			t.Fatalf("seal/open round trip: %q, %v", got, err)
		}
		if mask != 0 {
			bad := bytes.Clone(blob)
			bad[int(at)%len(bad)] ^= mask
			_, err := it.OpenChunk(nil, bad, index, total)
			wantErrDecrypt(t, "flipped byte", err)
		}
		_, err = it.OpenChunk(nil, blob[:int(at)%len(blob)], index, total)
		wantErrDecrypt(t, "cut blob", err)
		if index+1 < total {
			_, err = it.OpenChunk(nil, blob, index+1, total)
			wantErrDecrypt(t, "other index", err)
		}
		if total < 1<<62 {
			_, err = it.OpenChunk(nil, blob, index, total+1)
			wantErrDecrypt(t, "other count", err)
		}
	})
}

// FuzzOpenMeta: metadata from the server opens only when it is authentic and follows the
// protocol's rules. Arbitrary {iv, data} fail with ErrDecrypt; authentic but unusable JSON
// (wrong kind, negative size, chunk size out of range, not JSON) fails with ErrDecrypt too;
// what opens passes the rules and seals and opens again to the same value.
func FuzzOpenMeta(f *testing.F) {
	it, secret := fuzzItem(f, "fuzz passphrase"), secretItem(f)
	f.Add(make([]byte, 12), make([]byte, 32), []byte(`{"kind":"file","name":"a.txt","mime":"text/plain","size":5,"chunkSize":65536}`))
	f.Add([]byte(nil), []byte(nil), []byte(`{"kind":"text","name":"","mime":"text/plain","size":0,"chunkSize":65536,"text":{"chars":0,"lines":0}}`))
	f.Add(make([]byte, 11), make([]byte, 16), []byte(`{"kind":"image","size":10,"chunkSize":16777216,"image":{"width":1,"height":1}}`))
	f.Add(make([]byte, 13), make([]byte, 15), []byte(`{"kind":"file","size":-1,"chunkSize":65536}`))
	f.Add(make([]byte, 12), []byte{}, []byte(`{"kind":"file","size":1,"chunkSize":0}`))
	f.Add(make([]byte, 12), make([]byte, 16), []byte(`{"kind":"file","size":1,"chunkSize":16777217}`))
	f.Add(make([]byte, 12), make([]byte, 16), []byte(`{"kind":"../../x","size":1,"chunkSize":65536}`))
	f.Add(make([]byte, 12), make([]byte, 16), []byte(`not json`))
	f.Add(make([]byte, 12), make([]byte, 16), []byte(`{"kind":"file","size":1e400,"chunkSize":65536}`))
	f.Add(make([]byte, 12), make([]byte, 16), []byte(`{"kind":"file","name":"\u202egnp.exe","size":9223372036854775807,"chunkSize":65536,"extra":[1,2]}`))
	f.Fuzz(func(t *testing.T, iv, data, js []byte) {
		if _, err := secret.OpenMeta(api.Sealed{IV: iv, Data: data}); err == nil {
			t.Fatalf("OpenMeta accepted an arbitrary %d-byte iv and %d-byte data", len(iv), len(data))
		} else {
			wantErrDecrypt(t, "arbitrary metadata", err)
		}
		sealed, err := it.SealMetaJSON(js)
		if len(js)+api.GCMTagBytes > api.MaxMetadataData {
			if err == nil {
				t.Fatalf("SealMetaJSON sealed %d bytes, over the server's limit", len(js))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := sealed.Validate(); err != nil {
			t.Fatalf("sealed metadata the server refuses: %v", err)
		}
		m, err := it.OpenMeta(sealed)
		if err != nil {
			wantErrDecrypt(t, "authentic but unusable metadata", err)
			return
		}
		if m.Kind != "text" && m.Kind != "image" && m.Kind != "file" || m.Size < 0 || m.ChunkSize < api.MinChunkSize || m.ChunkSize > api.MaxChunkSize {
			t.Fatalf("OpenMeta let through metadata that breaks the rules: %+v", m)
		}
		again, err := it.SealMeta(m)
		if canon, _ := json.Marshal(m); len(canon)+api.GCMTagBytes > api.MaxMetadataData {
			// Another client's JSON can be more compact than Go's (which escapes <, > and &).
			if err == nil {
				t.Fatalf("SealMeta sealed %d bytes of JSON, over the server's limit", len(canon))
			}
			return
		}
		if err != nil {
			t.Fatalf("metadata that opened cannot be sealed again: %v", err)
		}
		if m2, err := it.OpenMeta(again); err != nil || !sameMeta(m, m2) {
			t.Fatalf("SealMeta/OpenMeta round trip: %+v, %v; want %+v", m2, err, m)
		}
	})
}

func sameMeta(a, b e2ee.Meta) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// FuzzOpener: an Opener fed arbitrary (index, blob) writes between the real chunks refuses
// every one of them without writing a byte or losing its place, still accepts the real
// chunks after them, and at Close has written exactly the plaintext. Metadata with rules
// broken makes every Write and Close fail with ErrDecrypt.
func FuzzOpener(f *testing.F) {
	it := fuzzItem(f, "fuzz passphrase")
	f.Add(uint32(0), 65536, []byte(nil))
	f.Add(uint32(65536), 65536, []byte{0, 1, 2})
	f.Add(uint32(65537), 65536, []byte{1, 0, 0, 0, 28, 9, 9})
	f.Add(uint32(200000), 65536, []byte{2, 0, 0, 0, 255, 1, 0, 0, 0, 28})
	f.Add(uint32(5), 0, []byte{0, 0, 0, 0, 1})
	f.Add(uint32(5), -65536, []byte{})
	f.Add(uint32(5), 1<<24+1, []byte{0})
	f.Fuzz(func(t *testing.T, size uint32, chunkSize int, script []byte) {
		plain := bytes.Repeat([]byte("0123456789abcdef"), int(size%(3<<16+5))/16+1)[:size%(3<<16+5)]
		m := e2ee.Meta{Kind: "file", Size: int64(len(plain)), ChunkSize: chunkSize}
		var out bytes.Buffer
		o := it.NewOpener(&out, m)
		if chunkSize < api.MinChunkSize || chunkSize > api.MaxChunkSize {
			wantErrDecrypt(t, "Write with broken metadata", o.Write(0, make([]byte, 28)))
			wantErrDecrypt(t, "Close with broken metadata", o.Close())
			return
		}
		s := it.NewSealer(bytes.NewReader(plain), int64(len(plain)), chunkSize)
		for {
			// Garbage first: script bytes pick an index near the expected one and a blob,
			// sometimes of exactly the right length.
			if len(script) >= 5 {
				index := int(int8(script[0]))
				n := int(script[1])<<8 | int(script[2])
				blob := bytes.Repeat(script[3:5], n/2+1)[:n]
				if script[4]&1 == 1 {
					blob = make([]byte, e2ee.BlobSize(m.Size, chunkSize, max(index, 0)))
				}
				script = script[5:]
				before := out.Len()
				if err := o.Write(index, blob); err == nil {
					t.Fatalf("Opener accepted a forged %d-byte chunk %d", len(blob), index)
				}
				if out.Len() != before {
					t.Fatalf("a refused chunk wrote %d bytes", out.Len()-before)
				}
			}
			blob, index, err := s.Next()
			if err != nil {
				break
			}
			if err := o.Write(index, blob); err != nil {
				t.Fatalf("real chunk %d refused after forged ones: %v", index, err)
			}
		}
		if err := o.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("opened %d bytes, want the %d-byte plaintext", out.Len(), len(plain))
		}
		// After the last chunk nothing more is accepted.
		if err := o.Write(s.Total(), make([]byte, 28)); err == nil {
			t.Fatal("a chunk past the last was accepted")
		}
	})
}
