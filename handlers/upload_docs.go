package handlers

// The tus routes are served by tusd; these functions exist only to carry their OpenAPI
// annotations. Clients should use a tus client library (tus-js-client, go-tus, TUSKit …) rather
// than calling these by hand.

// tusOptions godoc
//
//	@Summary		tus discovery
//	@Description	Advertises the tus version and extensions (creation, creation-with-upload) and the largest upload. Needs no token.
//	@ID				tusOptions
//	@Tags			uploads
//	@Success		204
//	@Header			204	{string}	Tus-Version		"1.0.0"
//	@Header			204	{string}	Tus-Extension	"creation,creation-with-upload"
//	@Header			204	{integer}	Tus-Max-Size	"largest chunk blob in bytes"
//	@Router			/api/v1/uploads [options]
func tusOptions() {}

// tusCreate godoc
//
//	@Summary		Start uploading one encrypted chunk (tus creation)
//	@Description	Upload-Metadata carries sessionId, contentId and chunkIndex (tus encoding: key and base64 value). Upload-Length must be exactly the chunk's blob length. With Content-Type application/offset+octet-stream the request may carry the bytes too (creation-with-upload), so a small item is one request. When the last byte lands, the chunk is fsynced and recorded before the answer.
//	@ID				tusCreate
//	@Tags			uploads
//	@Accept			application/offset+octet-stream
//	@Param			Tus-Resumable	header		string	true	"1.0.0"
//	@Param			Upload-Length	header		integer	true	"the chunk's encrypted length"
//	@Param			Upload-Metadata	header		string	true	"sessionId <b64>,contentId <b64>,chunkIndex <b64>"
//	@Param			body			body		string	false	"first bytes of the chunk (creation-with-upload)"
//	@Success		201
//	@Header			201				{string}	Location		"URL of the new upload"
//	@Header			201				{integer}	Upload-Offset	"bytes stored"
//	@Failure		400				{object}	Problem			"invalid_request, invalid_session_id, invalid_content_id, chunk_out_of_range"
//	@Failure		401				{object}	Problem			"unauthorized, token_expired, client_left"
//	@Failure		403				{object}	Problem			"forbidden: metadata names another session"
//	@Failure		404				{object}	Problem			"content_not_found: not announced"
//	@Failure		409				{object}	Problem			"chunk_exists, or chunk_in_progress with uploadUrl to resume"
//	@Failure		413				{object}	Problem			"too_large"
//	@Failure		507				{object}	Problem			"storage_full"
//	@Security		BearerAuth
//	@Router			/api/v1/uploads [post]
func tusCreate() {}

// tusHead godoc
//
//	@Summary		Ask how much of an upload the server has (tus resume)
//	@ID				tusHead
//	@Tags			uploads
//	@Param			uploadId		path	string	true	"the path after /api/v1/uploads/ in Location"
//	@Param			Tus-Resumable	header	string	true	"1.0.0"
//	@Success		200
//	@Header			200	{integer}	Upload-Offset	"bytes stored"
//	@Header			200	{integer}	Upload-Length	"total bytes"
//	@Failure		401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		404	{object}	Problem	"not_found: no such upload in this session"
//	@Security		BearerAuth
//	@Router			/api/v1/uploads/{uploadId} [head]
func tusHead() {}

// tusPatch godoc
//
//	@Summary		Append bytes to an upload (tus)
//	@Description	Send the bytes from Upload-Offset on. The request that completes the chunk is answered once the chunk is durable and recorded.
//	@ID				tusPatch
//	@Tags			uploads
//	@Accept			application/offset+octet-stream
//	@Param			uploadId		path	string	true	"the path after /api/v1/uploads/ in Location"
//	@Param			Tus-Resumable	header	string	true	"1.0.0"
//	@Param			Upload-Offset	header	integer	true	"the current offset (from HEAD)"
//	@Param			body			body	string	true	"the next bytes"
//	@Success		204
//	@Header			204	{integer}	Upload-Offset	"new offset"
//	@Failure		401	{object}	Problem	"unauthorized, token_expired, client_left"
//	@Failure		404	{object}	Problem	"not_found: no such upload in this session"
//	@Failure		409	{string}	string	"offset mismatch (tus protocol error)"
//	@Security		BearerAuth
//	@Router			/api/v1/uploads/{uploadId} [patch]
func tusPatch() {}
