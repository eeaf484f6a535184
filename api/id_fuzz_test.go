package api_test

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sharethings/sharethings/api"
)

// wantCode fails unless err is an *api.Error with the given code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: err = %v, want an *api.Error with code %s", what, err, code)
	}
}

// safePathComponent is what an id must be before it becomes a directory name: one clean,
// non-empty path element that cannot climb out of its parent on any platform.
func safePathComponent(t *testing.T, what, id string) {
	t.Helper()
	switch {
	case id == "" || id == "." || id == "..":
		t.Fatalf("%s %q is not a name", what, id)
	case strings.ContainsAny(id, "/\\:\x00"):
		t.Fatalf("%s %q holds a separator or NUL", what, id)
	case strings.Contains(id, ".."):
		t.Fatalf("%s %q holds \"..\"", what, id)
	case filepath.Base(id) != id || filepath.Clean(id) != id || filepath.IsAbs(id):
		t.Fatalf("%s %q is not one clean relative element", what, id)
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			t.Fatalf("%s %q holds %U: ids are printable ASCII", what, id, r)
		}
	}
}

// FuzzValidateSessionID: an accepted session id is a safe directory name of the protocol's
// form (PROTOCOL §1); anything else is refused with invalid_session_id.
func FuzzValidateSessionID(f *testing.F) {
	for _, s := range []string{
		"team-alpha", "Q", "a_b-C9", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"", ".", "..", "../x", "a/b", "a\\b", "a\x00", "a%2Fb", "-lead", "_lead", "Zürich",
		"a\n", "a b", "a.b", "ＡＢＣ", "a\u200b", "0", "9-", "A_" + strings.Repeat("-", 62),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := api.ValidateSessionID(id)
		if want := isSessionID(id); (err == nil) != want {
			t.Fatalf("ValidateSessionID(%q) = %v, want ok=%v", id, err, want)
		}
		if err != nil {
			wantCode(t, "ValidateSessionID("+strconv.Quote(id)+")", err, api.EINVALIDSESSIONID)
			return
		}
		safePathComponent(t, "session id", id)
		if len(id) < 1 || len(id) > 64 {
			t.Fatalf("session id %q is %d bytes, want 1-64", id, len(id))
		}
	})
}

// isSessionID is PROTOCOL §1's rule written out without a regular expression.
func isSessionID(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// FuzzValidateContentID: accepted content ids are canonical lowercase UUIDs, so decoding
// their 16 bytes and formatting them again gives the same string; they are safe directory
// names; IsUUID agrees; everything else is invalid_content_id.
func FuzzValidateContentID(f *testing.F) {
	for _, s := range []string{
		"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", "0F8E4C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B",
		"0f8e4c1a2b3d4e5f8a9b0c1d2e3f4a5b", "{0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b}",
		"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b/", "../../etc/passwd", "", "00000000-0000-0000-0000-000000000000",
		"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5g", "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b\n",
		"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := api.ValidateContentID(id)
		if api.IsUUID(id) != (err == nil) {
			t.Fatalf("IsUUID(%q) = %v but ValidateContentID = %v", id, api.IsUUID(id), err)
		}
		raw, canonical := decodeUUID(id)
		if canonical != (err == nil) {
			t.Fatalf("ValidateContentID(%q) = %v, want ok=%v", id, err, canonical)
		}
		if err != nil {
			wantCode(t, "ValidateContentID("+strconv.Quote(id)+")", err, api.EINVALIDCONTENTID)
			if up := strings.ToUpper(id); up != id && api.ValidateContentID(strings.ToLower(id)) == nil && api.ValidateContentID(up) == nil {
				t.Fatalf("both cases of %q accepted", id)
			}
			return
		}
		safePathComponent(t, "content id", id)
		if got := formatUUID(raw); got != id {
			t.Fatalf("decode/format of %q gives %q", id, got)
		}
	})
}

// decodeUUID reads the 16 bytes of a canonical lowercase UUID, reporting whether s is one.
func decodeUUID(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	if strings.ToLower(s) != s {
		return nil, false
	}
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		return nil, false
	}
	return raw, true
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FuzzParseChunkIndex: parse then format is the identity (no sign, no leading zeros, no
// spaces survive), indexes are never negative, and refusals are invalid_request. The other
// direction too: every index a client can announce formats to a string that parses back.
func FuzzParseChunkIndex(f *testing.F) {
	for _, s := range []string{"0", "7", "123456", "999999999", "1000000000", "", "01", "00", "-1", "+1",
		"1.0", "0x1", "9999999999", " 1", "1 ", "١", "1e3", "\x00", "18446744073709551617"} {
		f.Add(s, int64(len(s)))
	}
	f.Add("0", int64(-1))
	f.Add("0", int64(1<<30))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		i, err := api.ParseChunkIndex(s)
		if err != nil {
			wantCode(t, "ParseChunkIndex("+strconv.Quote(s)+")", err, api.EINVALID)
			if i != 0 {
				t.Fatalf("ParseChunkIndex(%q) refused but returned %d", s, i)
			}
		} else if i < 0 || strconv.Itoa(i) != s {
			t.Fatalf("ParseChunkIndex(%q) = %d: not the canonical form", s, i)
		}
		// Every index of an announced item (totalChunks <= 1<<30) must round-trip.
		if n >= 0 && n < 1<<30 {
			if got, err := api.ParseChunkIndex(strconv.FormatInt(n, 10)); err != nil || int64(got) != n {
				t.Fatalf("ParseChunkIndex(%d) = %d, %v", n, got, err)
			}
		}
	})
}
