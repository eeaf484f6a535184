package api_test

import (
	"strings"
	"testing"

	"github.com/sharethings/sharethings/api"
)

func TestValidateSessionID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"team-alpha", true}, {"Q", true}, {"a_b-C9", true}, {strings.Repeat("a", 64), true},
		{"", false}, {strings.Repeat("a", 65), false}, {"../x", false}, {"a/b", false},
		{"Zürich", false}, {"-lead", false}, {"_lead", false}, {"a b", false}, {"a.b", false},
		{"a\x00", false}, {"a%2Fb", false},
	} {
		err := api.ValidateSessionID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateSessionID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
		if err != nil && api.ErrorCode(err) != api.EINVALIDSESSIONID {
			t.Errorf("ValidateSessionID(%q) code = %s", tc.id, api.ErrorCode(err))
		}
	}
}

func TestValidateContentID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", true},
		{"0F8E4C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B", false},
		{"0f8e4c1a2b3d4e5f8a9b0c1d2e3f4a5b", false},
		{"../../etc/passwd", false}, {"", false},
		{"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b/", false},
	} {
		if err := api.ValidateContentID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateContentID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestParseChunkIndex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"123456", 123456, true},
		{"", 0, false}, {"01", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.0", 0, false},
		{"0x1", 0, false}, {"9999999999", 0, false}, {" 1", 0, false},
	} {
		got, err := api.ParseChunkIndex(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseChunkIndex(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestKDFValidate(t *testing.T) {
	salt := make([]byte, 16)
	for name, tc := range map[string]struct {
		kdf api.KDF
		ok  bool
	}{
		"OK":             {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 600000, Salt: salt}, true},
		"AtMinimum":      {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 100000, Salt: salt}, true},
		"AtMaximum":      {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 10_000_000, Salt: salt}, true},
		"BelowMinimum":   {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 99999, Salt: salt}, false},
		"AboveMaximum":   {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 10_000_001, Salt: salt}, false},
		"OtherAlgorithm": {api.KDF{Alg: "scrypt", Iterations: 600000, Salt: salt}, false},
		"ShortSalt":      {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 600000, Salt: salt[:15]}, false},
		"LongSalt":       {api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 600000, Salt: make([]byte, 17)}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.kdf.Validate(100000)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && api.ErrorCode(err) != api.EUNSUPPORTEDKDF {
				t.Fatalf("code = %s, want unsupported_kdf", api.ErrorCode(err))
			}
		})
	}
}

func TestFingerprintValidate(t *testing.T) {
	iv := make([]byte, 12)
	if err := (api.Fingerprint{IV: iv, Data: make([]byte, 10+16)}).Validate("team-alpha"); err != nil {
		t.Fatalf("well-formed fingerprint refused: %v", err)
	}
	for name, fp := range map[string]api.Fingerprint{
		"ShortIV":   {IV: iv[:11], Data: make([]byte, 26)},
		"ShortData": {IV: iv, Data: make([]byte, 25)},
		"Empty":     {},
	} {
		if err := fp.Validate("team-alpha"); api.ErrorCode(err) != api.EINVALID {
			t.Errorf("%s: got %v, want invalid_request", name, err)
		}
	}
}

func TestNormalizeClientName(t *testing.T) {
	if got, err := api.NormalizeClientName("  Alice's phone \t"); err != nil || got != "Alice's phone" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := api.NormalizeClientName(strings.Repeat("é", 64)); err != nil {
		t.Fatalf("64 characters (128 bytes) refused: %v", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 65), "a\nb", "bell\a", "\xff"} {
		if _, err := api.NormalizeClientName(bad); api.ErrorCode(err) != api.EINVALID {
			t.Errorf("NormalizeClientName(%q) = %v, want invalid_request", bad, err)
		}
	}
}

func TestErrorCodeOfPlainErrorIsInternal(t *testing.T) {
	err := strings.NewReader("").UnreadByte()
	if api.ErrorCode(err) != api.EINTERNAL || api.ErrorMessage(err) != "internal error" {
		t.Fatalf("plain error leaked: %s / %s", api.ErrorCode(err), api.ErrorMessage(err))
	}
}
