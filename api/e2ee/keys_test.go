package e2ee_test

import (
	"bytes"
	"testing"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/e2ee"
)

func TestNewKDF(t *testing.T) {
	a, b := e2ee.NewKDF(600000), e2ee.NewKDF(600000)
	if a.Alg != api.KDFAlgPBKDF2 || a.Iterations != 600000 || len(a.Salt) != api.KDFSaltBytes {
		t.Fatalf("NewKDF = %+v", a)
	}
	if bytes.Equal(a.Salt, b.Salt) {
		t.Error("two sessions got the same salt")
	}
	if err := a.Validate(600000); err != nil {
		t.Errorf("the server would refuse NewKDF's parameters: %v", err)
	}
}

func TestDeriveKeysRefuses(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, api.KDFSaltBytes)
	for name, kdf := range map[string]api.KDF{
		"ErrOtherAlg":         {Alg: "scrypt", Iterations: 1000, Salt: salt},
		"ErrZeroIterations":   {Alg: api.KDFAlgPBKDF2, Iterations: 0, Salt: salt},
		"ErrTooManyIteration": {Alg: api.KDFAlgPBKDF2, Iterations: api.MaxKDFIterations + 1, Salt: salt},
		"ErrShortSalt":        {Alg: api.KDFAlgPBKDF2, Iterations: 1000, Salt: salt[:15]},
		"ErrLongSalt":         {Alg: api.KDFAlgPBKDF2, Iterations: 1000, Salt: append(bytes.Clone(salt), 1)},
	} {
		t.Run(name, func(t *testing.T) {
			if k, err := e2ee.DeriveKeys("pw", kdf); err == nil {
				t.Errorf("DeriveKeys(%+v) = %v, want an error", kdf, k)
			}
		})
	}
}

func TestDeriveKeysNormalisesPassphrase(t *testing.T) {
	for name, tc := range map[string]struct {
		a, b string
		same bool
	}{
		"OKComposedAndDecomposed": {"caf\u00e9", "cafe\u0301", true},
		"OKHangulJamo":            {"\uac00", "\u1100\u1161", true},
		"OKDifferentWords":        {"café", "cafe", false},
		"OKCaseMatters":           {"Café", "café", false},
		// NFC, not NFKC: compatibility characters stay distinct.
		"OKLigatureNotFolded": {"\ufb01le", "file", false},
	} {
		t.Run(name, func(t *testing.T) {
			a := deriveKeys(t, tc.a, testKDF)
			b := deriveKeys(t, tc.b, testKDF)
			if bytes.Equal(a.Master, b.Master) != tc.same {
				t.Errorf("masters of %q and %q equal = %v, want %v", tc.a, tc.b, !tc.same, tc.same)
			}
		})
	}
}

func TestFingerprintIsDeterministic(t *testing.T) {
	k := deriveKeys(t, "pw", testKDF)
	a, b := k.Fingerprint("team-alpha"), k.Fingerprint("team-alpha")
	if !bytes.Equal(a.IV, b.IV) || !bytes.Equal(a.Data, b.Data) {
		t.Error("the same keys gave two fingerprints: the server could not compare them")
	}
	if c := k.Fingerprint("team-beta"); bytes.Equal(a.Data, c.Data) {
		t.Error("two sessions share a fingerprint")
	}
}

func TestOpenMeta(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	open := func(js string) (e2ee.Meta, error) {
		s, err := it.SealMetaJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return it.OpenMeta(s)
	}

	t.Run("OKExtras", func(t *testing.T) {
		m, err := open(`{"kind":"image","name":"a.png","mime":"image/png","size":9,"chunkSize":65536,"image":{"width":3,"height":4}}`)
		if err != nil || m.Image == nil || *m.Image != (e2ee.ImageMeta{Width: 3, Height: 4}) || m.Text != nil {
			t.Errorf("OpenMeta = %+v, %v", m, err)
		}
	})
	t.Run("OKUnknownFieldsIgnored", func(t *testing.T) {
		m, err := open(`{"kind":"text","name":"","mime":"text/plain","size":1,"chunkSize":16777216,"text":{"chars":1,"lines":1},"v2":{"x":1}}`)
		if err != nil || m.Text == nil || m.Text.Lines != 1 {
			t.Errorf("OpenMeta = %+v, %v", m, err)
		}
	})
	for name, js := range map[string]string{
		"ErrUnknownKind":       `{"kind":"video","size":1,"chunkSize":65536}`,
		"ErrNegativeSize":      `{"kind":"file","size":-1,"chunkSize":65536}`,
		"ErrChunkSizeTooSmall": `{"kind":"file","size":1,"chunkSize":65535}`,
		"ErrChunkSizeTooBig":   `{"kind":"file","size":1,"chunkSize":16777217}`,
		"ErrNotJSON":           `kind=file`,
		"ErrWrongType":         `{"kind":"file","size":"1","chunkSize":65536}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := open(js)
			wantDecryptError(t, name, err)
		})
	}
}

func TestSealMetaRefusesWhatReceiversRefuse(t *testing.T) {
	it := deriveKeys(t, "pw", testKDF).Item(testContentID)
	for name, m := range map[string]e2ee.Meta{
		"ErrNoKind":       {Size: 1, ChunkSize: api.MinChunkSize},
		"ErrNoChunkSize":  {Kind: "file", Size: 1},
		"ErrNegativeSize": {Kind: "file", Size: -1, ChunkSize: api.MinChunkSize},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := it.SealMeta(m); err == nil {
				t.Errorf("SealMeta(%+v) succeeded", m)
			}
		})
	}
	t.Run("ErrTooLarge", func(t *testing.T) {
		if _, err := it.SealMetaJSON(make([]byte, api.MaxMetadataData)); err == nil {
			t.Error("SealMetaJSON sealed metadata the server refuses")
		}
	})
}
