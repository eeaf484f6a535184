package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// Listing page sizes (PROTOCOL §4).
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// AnnounceRequest describes an item before its chunks are uploaded.
type AnnounceRequest struct {
	ContentID   string     `json:"contentId" example:"0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"`
	TotalChunks int        `json:"totalChunks" example:"3"`
	TotalSize   int64      `json:"totalSize" example:"131157"`
	ChunkSize   int        `json:"chunkSize" example:"65536"`
	Metadata    api.Sealed `json:"metadata"`
} //@name AnnounceRequest

// AnnounceResponse is the announced item and where to upload its chunks.
type AnnounceResponse struct {
	Item *api.Content `json:"item"`
	// UploadURL is the tus creation URL for the item's chunks.
	UploadURL string `json:"uploadUrl" example:"/api/v1/uploads/"`
} //@name AnnounceResponse

// ContentList is one page of a session's items.
type ContentList struct {
	Items []*api.Content `json:"items"`
	// NextCursor fetches the next page; null on the last.
	NextCursor *string `json:"nextCursor"`
} //@name ContentList

// ContentDetail is an item with the chunks stored so far.
type ContentDetail struct {
	*api.Content
	Chunks []api.Chunk `json:"chunks"`
} //@name ItemDetail

// ContentPatch changes an item; absent fields stay.
type ContentPatch struct {
	Pinned   *bool       `json:"pinned,omitempty"`
	Metadata *api.Sealed `json:"metadata,omitempty"`
} //@name ItemPatch

// announceContent godoc
//
//	@Summary		Announce an item
//	@Description	Declares an item's chunk count, encrypted size, chunk size and encrypted metadata before its chunks are uploaded through tus. The counts must describe a real encryption: every chunk but the last holds chunkSize plaintext bytes, and each blob adds 28 bytes. The item counts toward the session's quotas from now on.
//	@ID				announceContent
//	@Tags			contents
//	@Accept			json
//	@Produce		json
//	@Param			sid		path		string			true	"Session id"
//	@Param			body	body		AnnounceRequest	true	"The item"
//	@Success		201		{object}	AnnounceResponse
//	@Failure		400		{object}	Problem	"invalid_request, invalid_content_id"
//	@Failure		401		{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403		{object}	Problem	"forbidden"
//	@Failure		409		{object}	Problem	"conflict: already announced"
//	@Failure		413		{object}	Problem	"too_large, quota_exceeded"
//	@Failure		507		{object}	Problem	"storage_full"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/contents [post]
func (s *Server) announceContent(c *gin.Context) {
	var req AnnounceRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	claims := ClaimsFrom(c.Request.Context())
	item := &api.Content{
		ID: req.ContentID, SessionID: claims.SessionID, SenderID: claims.ClientID(), SenderName: claims.Name,
		TotalChunks: req.TotalChunks, TotalSize: req.TotalSize, ChunkSize: req.ChunkSize, Metadata: req.Metadata,
	}
	if err := s.checkAnnounce(item); err != nil {
		writeError(c, err)
		return
	}
	if err := s.Contents.CreateContent(c.Request.Context(), item, s.contentLimits()); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, AnnounceResponse{Item: item, UploadURL: uploadPath})
}

func (s *Server) checkAnnounce(item *api.Content) error {
	if err := api.ValidateContentID(item.ID); err != nil {
		return err
	}
	if err := item.ValidateCounts(s.Options.MaxChunkSize); err != nil {
		return err
	}
	if err := item.Metadata.Validate(); err != nil {
		return err
	}
	if item.TotalSize > s.Options.MaxItemBytes {
		return api.Errorf(api.ETOOLARGE, "items may be at most %d encrypted bytes", s.Options.MaxItemBytes)
	}
	return s.checkFreeDisk(item.TotalSize)
}

// checkFreeDisk refuses writes that would take the data disk below its floor.
func (s *Server) checkFreeDisk(need int64) error {
	free, err := s.Chunks.FreeBytes()
	if err != nil {
		return err
	}
	if free-need < s.Options.MinFreeDiskBytes {
		return api.Errorf(api.ESTORAGEFULL, "the server is out of disk space")
	}
	return nil
}

func (s *Server) contentLimits() api.ContentLimits {
	o := s.Options
	return api.ContentLimits{MaxChunkSize: o.MaxChunkSize, MaxItemBytes: o.MaxItemBytes, SessionQuotaBytes: o.SessionQuotaBytes, SessionMaxItems: o.SessionMaxItems}
}

// listContents godoc
//
//	@Summary		List a session's items
//	@Description	Pinned items first, then newest first (or oldest with order=oldest); ties broken by contentId. Pages with limit (default 50, at most 200) and the cursor of the previous page.
//	@ID				listContents
//	@Tags			contents
//	@Produce		json
//	@Param			sid		path		string	true	"Session id"
//	@Param			order	query		string	false	"newest (default) or oldest"	Enums(newest, oldest)
//	@Param			limit	query		integer	false	"page size, 1-200"
//	@Param			cursor	query		string	false	"nextCursor of the previous page"
//	@Success		200		{object}	ContentList
//	@Failure		400		{object}	Problem	"invalid_request"
//	@Failure		401		{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403		{object}	Problem	"forbidden"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/contents [get]
func (s *Server) listContents(c *gin.Context) {
	f, err := contentFilter(c)
	if err != nil {
		writeError(c, err)
		return
	}
	items, next, err := s.Contents.ListContents(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	page := ContentList{Items: items}
	if next != "" {
		page.NextCursor = &next
	}
	c.JSON(http.StatusOK, page)
}

func contentFilter(c *gin.Context) (api.ContentFilter, error) {
	f := api.ContentFilter{SessionID: c.Param("sid"), Limit: defaultPageSize, Cursor: c.Query("cursor")}
	switch c.Query("order") {
	case "", "newest":
	case "oldest":
		f.Order = api.OldestFirst
	default:
		return f, api.Errorf(api.EINVALID, "order must be newest or oldest")
	}
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return f, api.Errorf(api.EINVALID, "limit must be a whole number of at least 1")
		}
		f.Limit = min(n, maxPageSize)
	}
	return f, nil
}

// getContent godoc
//
//	@Summary	Get one item and its stored chunks
//	@ID			getContent
//	@Tags		contents
//	@Produce	json
//	@Param		sid	path		string	true	"Session id"
//	@Param		cid	path		string	true	"Content id"
//	@Success	200	{object}	ContentDetail
//	@Failure	400	{object}	Problem	"invalid_content_id"
//	@Failure	401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure	403	{object}	Problem	"forbidden"
//	@Failure	404	{object}	Problem	"content_not_found"
//	@Security	BearerAuth
//	@Router		/api/v1/sessions/{sid}/contents/{cid} [get]
func (s *Server) getContent(c *gin.Context) {
	item, chunks, err := s.Contents.FindContent(c.Request.Context(), c.Param("sid"), c.Param("cid"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, ContentDetail{Content: item, Chunks: chunks})
}

// updateContent godoc
//
//	@Summary		Pin, unpin or rename an item
//	@Description	Renaming sends new encrypted metadata (sealed with a fresh IV).
//	@ID				updateContent
//	@Tags			contents
//	@Accept			json
//	@Produce		json
//	@Param			sid		path		string			true	"Session id"
//	@Param			cid		path		string			true	"Content id"
//	@Param			body	body		ContentPatch	true	"What to change"
//	@Success		200		{object}	api.Content
//	@Failure		400		{object}	Problem	"invalid_request, invalid_content_id"
//	@Failure		401		{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		403		{object}	Problem	"forbidden"
//	@Failure		404		{object}	Problem	"content_not_found"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/contents/{cid} [patch]
func (s *Server) updateContent(c *gin.Context) {
	var req ContentPatch
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Pinned == nil && req.Metadata == nil {
		writeError(c, api.Errorf(api.EINVALID, "nothing to change: send pinned or metadata"))
		return
	}
	if req.Metadata != nil {
		if err := req.Metadata.Validate(); err != nil {
			writeError(c, err)
			return
		}
	}
	item, err := s.Contents.UpdateContent(c.Request.Context(), c.Param("sid"), c.Param("cid"), api.ContentUpdate{Pinned: req.Pinned, Metadata: req.Metadata})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, item)
}

// deleteContent godoc
//
//	@Summary	Delete an item with its chunks
//	@ID			deleteContent
//	@Tags		contents
//	@Param		sid	path	string	true	"Session id"
//	@Param		cid	path	string	true	"Content id"
//	@Success	204
//	@Failure	400	{object}	Problem	"invalid_content_id"
//	@Failure	401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure	403	{object}	Problem	"forbidden"
//	@Failure	404	{object}	Problem	"content_not_found"
//	@Security	BearerAuth
//	@Router		/api/v1/sessions/{sid}/contents/{cid} [delete]
func (s *Server) deleteContent(c *gin.Context) {
	if err := s.Contents.DeleteContent(c.Request.Context(), c.Param("sid"), c.Param("cid")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// clearContents godoc
//
//	@Summary	Delete every item of the session
//	@ID			clearContents
//	@Tags		contents
//	@Param		sid	path	string	true	"Session id"
//	@Success	204
//	@Failure	401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure	403	{object}	Problem	"forbidden"
//	@Security	BearerAuth
//	@Router		/api/v1/sessions/{sid}/contents [delete]
func (s *Server) clearContents(c *gin.Context) {
	if err := s.Contents.ClearContents(c.Request.Context(), c.Param("sid")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// validContentID refuses a malformed content id in the path.
func validContentID(c *gin.Context) {
	if err := api.ValidateContentID(c.Param("cid")); err != nil {
		writeError(c, err)
		return
	}
	c.Next()
}
