package handlers

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// codeStatus is the one table from error codes to HTTP statuses. Nothing else picks a status
// for an error.
var codeStatus = map[string]int{
	api.EINVALID:             http.StatusBadRequest,
	api.EINVALIDSESSIONID:    http.StatusBadRequest,
	api.EINVALIDCONTENTID:    http.StatusBadRequest,
	api.EUNSUPPORTEDKDF:      http.StatusBadRequest,
	api.ECHUNKOUTOFRANGE:     http.StatusBadRequest,
	api.EUNAUTHORIZED:        http.StatusUnauthorized,
	api.ETOKENEXPIRED:        http.StatusUnauthorized,
	api.ECLIENTLEFT:          http.StatusUnauthorized,
	api.EFINGERPRINTMISMATCH: http.StatusUnauthorized,
	api.EFORBIDDEN:           http.StatusForbidden,
	api.ESESSIONNOTFOUND:     http.StatusNotFound,
	api.ECONTENTNOTFOUND:     http.StatusNotFound,
	api.ENOTFOUND:            http.StatusNotFound,
	api.EMETHODNOTALLOWED:    http.StatusMethodNotAllowed,
	api.ESESSIONEXISTS:       http.StatusConflict,
	api.ECHUNKEXISTS:         http.StatusConflict,
	api.ECHUNKINPROGRESS:     http.StatusConflict,
	api.ECONFLICT:            http.StatusConflict,
	api.ETOOLARGE:            http.StatusRequestEntityTooLarge,
	api.EQUOTAEXCEEDED:       http.StatusRequestEntityTooLarge,
	api.ERATELIMITED:         http.StatusTooManyRequests,
	api.ERANGENOTSATISFIABLE: http.StatusRequestedRangeNotSatisfiable,
	api.ESTORAGEFULL:         http.StatusInsufficientStorage,
	api.ENOTREADY:            http.StatusServiceUnavailable,
	api.ETOOMANYSUBSCRIBERS:  http.StatusServiceUnavailable,
	api.EINTERNAL:            http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem detail with the stable code clients branch on.
type Problem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Unauthorized"`
	Status int    `json:"status" example:"401"`
	Detail string `json:"detail" example:"wrong passphrase for session \"team-alpha\""`
	Code   string `json:"code" example:"fingerprint_mismatch"`
} //@name Problem

// problemContentType is the media type of every error body.
const problemContentType = "application/problem+json"

// ErrorStatus returns the HTTP status for err's code.
func ErrorStatus(err error) int { return codeStatus[api.ErrorCode(err)] }

// ProblemBody builds the problem document for err, including any extra members it carries.
func ProblemBody(err error) map[string]any {
	status := ErrorStatus(err)
	body := map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"detail": api.ErrorMessage(err),
		"code":   api.ErrorCode(err),
	}
	if e, ok := err.(*api.Error); ok {
		for k, v := range e.Extra {
			body[k] = v
		}
	}
	return body
}

// writeError answers with err as a problem and stops the handler chain.
func writeError(c *gin.Context, err error) {
	c.Abort()
	writeProblem(c.Writer, c.Request, err)
}

// writeProblem writes err as a problem+json body. Internal errors are logged with their
// detail and shown as "internal error".
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	if api.ErrorCode(err) == api.EINTERNAL {
		slog.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", problemContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(ErrorStatus(err))
	json.NewEncoder(w).Encode(ProblemBody(err))
}

// abortWithError is writeError for middleware readability.
func abortWithError(c *gin.Context, code, format string, args ...any) {
	writeError(c, api.Errorf(code, format, args...))
}

// noRoute answers unknown paths. An unknown path under /api/v1/sessions/ whose first segment is
// not a valid session id is the client's malformed id (empty, or with an encoded slash that
// split it), so it gets invalid_session_id rather than a bare 404.
func noRoute(c *gin.Context) {
	if rest, ok := strings.CutPrefix(c.Request.URL.EscapedPath(), apiPrefix+"/sessions/"); ok {
		seg, _, _ := strings.Cut(rest, "/")
		if api.ValidateSessionID(seg) != nil {
			abortWithError(c, api.EINVALIDSESSIONID, "session id must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
			return
		}
	}
	abortWithError(c, api.ENOTFOUND, "no such path: %s", c.Request.URL.Path)
}

func noMethod(c *gin.Context) {
	abortWithError(c, api.EMETHODNOTALLOWED, "method %s is not allowed here", c.Request.Method)
}

// recovery turns a panic into a logged internal error instead of a dropped connection.
func recovery(c *gin.Context, recovered any) {
	writeError(c, fmt.Errorf("panic: %v", recovered))
}
