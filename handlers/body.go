package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// maxJSONBody bounds every JSON request body; the largest legitimate one (an announce with
// encrypted metadata) is far smaller.
const maxJSONBody = 64 << 10

// decodeJSON reads one JSON object into v, refusing other media types, bodies over
// maxJSONBody, malformed JSON and trailing data, all as invalid_request.
func decodeJSON(c *gin.Context, v any) error {
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		return api.Errorf(api.EINVALID, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return api.Errorf(api.EINVALID, "body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return api.Errorf(api.EINVALID, "body is larger than %d bytes", maxJSONBody)
	case errors.As(err, &typeErr):
		return api.Errorf(api.EINVALID, "field %q has the wrong type", typeErr.Field)
	case errors.Is(err, io.EOF):
		return api.Errorf(api.EINVALID, "body is empty")
	}
	return api.Errorf(api.EINVALID, "body is not valid JSON: %v", err)
}
