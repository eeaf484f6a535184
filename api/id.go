package api

import (
	"regexp"
	"strconv"
)

var (
	sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	uuidPattern      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ValidateSessionID accepts exactly the session ids of PROTOCOL §1. It runs before an id
// touches the database or becomes a directory name.
func ValidateSessionID(id string) error {
	if !sessionIDPattern.MatchString(id) {
		return Errorf(EINVALIDSESSIONID, "session id must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit")
	}
	return nil
}

// ValidateContentID accepts a canonical lowercase UUID.
func ValidateContentID(id string) error {
	if !uuidPattern.MatchString(id) {
		return Errorf(EINVALIDCONTENTID, "content id must be a lowercase canonical UUID")
	}
	return nil
}

// IsUUID reports whether s is a canonical lowercase UUID (client ids have this form).
func IsUUID(s string) bool { return uuidPattern.MatchString(s) }

// ParseChunkIndex parses a decimal chunk index with no sign and no leading zeros.
func ParseChunkIndex(s string) (int, error) {
	bad := Errorf(EINVALID, "chunk index must be a decimal number without sign or leading zeros")
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, bad
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxChunks {
		return 0, bad // no item has a chunk there
	}
	return n, nil
}
