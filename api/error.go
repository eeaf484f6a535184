package api

import (
	"errors"
	"fmt"
)

// Error codes: the stable vocabulary clients branch on (PROTOCOL §4). The HTTP layer maps each
// to one status; nothing else invents codes.
const (
	ECONFLICT            = "conflict"
	EINTERNAL            = "internal"
	EINVALID             = "invalid_request"
	EINVALIDSESSIONID    = "invalid_session_id"
	EINVALIDCONTENTID    = "invalid_content_id"
	EUNSUPPORTEDKDF      = "unsupported_kdf"
	ECHUNKOUTOFRANGE     = "chunk_out_of_range"
	EUNAUTHORIZED        = "unauthorized"
	ETOKENEXPIRED        = "token_expired"
	ECLIENTLEFT          = "client_left"
	EFINGERPRINTMISMATCH = "fingerprint_mismatch"
	EFORBIDDEN           = "forbidden"
	ESESSIONNOTFOUND     = "session_not_found"
	ECONTENTNOTFOUND     = "content_not_found"
	ENOTFOUND            = "not_found"
	EMETHODNOTALLOWED    = "method_not_allowed"
	ESESSIONEXISTS       = "session_exists"
	ECHUNKEXISTS         = "chunk_exists"
	ECHUNKINPROGRESS     = "chunk_in_progress"
	ETOOLARGE            = "too_large"
	EQUOTAEXCEEDED       = "quota_exceeded"
	ERATELIMITED         = "rate_limited"
	ERANGENOTSATISFIABLE = "range_not_satisfiable"
	ESTORAGEFULL         = "storage_full"
	ENOTREADY            = "not_ready"
	ETOOMANYSUBSCRIBERS  = "too_many_subscribers"
)

// Error is an error a client may see: a stable Code and a human Message safe to show.
// Any other error is internal; its text is logged, never sent.
type Error struct {
	Code    string
	Message string
	// Extra members for the problem body, e.g. the uploadUrl of chunk_in_progress.
	Extra map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("sharethings error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of an *Error in err's chain, or "internal error" so that
// internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
