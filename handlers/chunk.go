package handlers

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// downloadChunk godoc
//
//	@Summary		Download one encrypted chunk
//	@Description	The stored blob (iv || ciphertext || tag). Supports a single Range and If-None-Match against the ETag, which is the blob's SHA-256. The token may also come as the access_token query parameter, for links.
//	@ID				downloadChunk
//	@Tags			contents
//	@Produce		application/octet-stream
//	@Param			sid				path		string	true	"Session id"
//	@Param			cid				path		string	true	"Content id"
//	@Param			index			path		integer	true	"Chunk index"
//	@Param			Range			header		string	false	"bytes=start-end"
//	@Param			access_token	query		string	false	"session token, when no Authorization header can be sent"
//	@Success		200				{file}		binary
//	@Success		206				{file}		binary
//	@Header			200				{string}	ETag	"quoted lowercase hex SHA-256 of the blob"
//	@Failure		400				{object}	Problem	"chunk_out_of_range, invalid_request, invalid_content_id"
//	@Failure		401				{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403				{object}	Problem	"forbidden"
//	@Failure		404				{object}	Problem	"content_not_found, not_found (not stored yet)"
//	@Failure		416				{object}	Problem	"range_not_satisfiable"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/contents/{cid}/chunks/{index} [get]
func (s *Server) downloadChunk(c *gin.Context) {
	index, err := api.ParseChunkIndex(c.Param("index"))
	if err != nil {
		writeError(c, err)
		return
	}
	sid, cid := c.Param("sid"), c.Param("cid")
	chunk, err := s.Contents.FindChunk(c.Request.Context(), sid, cid, index)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := checkRange(c.Request, chunk.Size); err != nil {
		c.Header("Content-Range", "bytes */"+itoa(chunk.Size))
		writeError(c, err)
		return
	}
	path, err := s.Chunks.ChunkPath(sid, cid, index)
	if err != nil {
		writeError(c, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		writeError(c, err)
		return
	}
	defer f.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+chunk.SHA256+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	// ServeContent answers Range, If-Range and If-None-Match from the headers set above.
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, f)
}

// checkRange refuses a Range header ServeContent would answer with a plain-text 416, so every
// error stays a problem. Several ranges are served as the whole blob (allowed by RFC 9110),
// which spares clients multipart parsing.
func checkRange(r *http.Request, size int64) error {
	spec := r.Header.Get("Range")
	if spec == "" {
		return nil
	}
	ranges, ok := strings.CutPrefix(spec, "bytes=")
	if ok && strings.Contains(ranges, ",") {
		r.Header.Del("Range")
		return nil
	}
	if !ok || !satisfiable(ranges, size) {
		return api.Errorf(api.ERANGENOTSATISFIABLE, "range %q does not fit a %d-byte chunk", spec, size)
	}
	return nil
}

// satisfiable reports whether "a-b", "a-" or "-n" selects at least one byte of size.
func satisfiable(spec string, size int64) bool {
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return false
	}
	if first == "" {
		n, err := parseUint(last)
		return err == nil && n > 0 && size > 0
	}
	start, err := parseUint(first)
	if err != nil || start >= size {
		return false
	}
	if last == "" {
		return true
	}
	end, err := parseUint(last)
	return err == nil && end >= start
}
