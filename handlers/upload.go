package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"github.com/tus/tusd/v2/pkg/prometheuscollector"
	expslog "golang.org/x/exp/slog"

	"github.com/sharethings/sharethings/api"
)

// uploadIDPattern is the only upload id form we hand out, {session}/{content}/{index}-{random}.
// It is checked before tusd sees an id, so no id can reach the filesystem unvalidated, and
// its first segment names the session the upload belongs to.
var uploadIDPattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]{0,63})/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/(0|[1-9][0-9]{0,8})-[0-9a-f]{16}$`)

type uploadBaseKey struct{}

// uploads is the tus mount: tusd with a file store that writes chunk bytes straight to their
// final path, guarded by our authentication and checks.
type uploads struct {
	s     *Server
	store filestore.FileStore
	tus   *tusd.Handler
}

func newUploads(s *Server) (*uploads, error) {
	u := &uploads{s: s, store: filestore.New(s.Chunks.UploadDir())}
	u.store.DirModePerm, u.store.FileModePerm = 0o700, 0o600
	// Only the core and a lock: no termination, concatenation or deferred length, so
	// OPTIONS advertises exactly creation and creation-with-upload.
	composer := tusd.NewStoreComposer()
	composer.UseCore(u.store)
	if s.UploadLocks != nil {
		sharedLocker{s.UploadLocks}.UseIn(composer)
	} else {
		memorylocker.New().UseIn(composer)
	}
	tus, err := tusd.NewHandler(tusd.Config{
		StoreComposer:             composer,
		BasePath:                  uploadPath,
		MaxSize:                   int64(s.Options.MaxChunkSize + api.ChunkOverhead),
		DisableDownload:           true,
		DisableTermination:        true,
		DisableConcatenation:      true,
		Cors:                      &tusd.CorsConfig{Disable: true}, // the cors middleware answers
		RespectForwardedHeaders:   len(s.Options.TrustedProxies) > 0,
		PreUploadCreateCallback:   u.beforeCreate,
		PreFinishResponseCallback: u.beforeFinishResponse,
		Logger:                    expslog.New(expslog.NewTextHandler(os.Stderr, &expslog.HandlerOptions{Level: expslog.LevelWarn})),
	})
	if err != nil {
		return nil, err
	}
	u.tus = tus
	// tusd's own counters: uploads created and finished, bytes received, errors by kind.
	s.Metrics.MustRegister(prometheuscollector.New(tus.Metrics))
	return u, nil
}

// mount registers the tus routes: the creation URL with and without its trailing slash, and
// every upload under it.
func (u *uploads) mount(v1 *gin.RouterGroup) {
	h := gin.WrapH(http.StripPrefix(apiPrefix+"/uploads", u.tus))
	g := v1.Group("/uploads", u.gate)
	g.Any("", h)
	g.Any("/*any", h)
}

// gate admits a tus request: OPTIONS for discovery, POST on the creation URL, HEAD and PATCH on
// an upload of the caller's own session; everything else (termination, also through
// X-HTTP-Method-Override, and downloads) is refused before tusd sees it.
func (u *uploads) gate(c *gin.Context) {
	// The gate must judge the method tusd will run. tusd honours X-HTTP-Method-Override on
	// POST only: on any other request the header would make the gate judge one method while
	// tusd runs another (a PATCH claiming to be OPTIONS skipped authentication), so it is
	// refused there.
	method := c.Request.Method
	override := c.GetHeader("X-HTTP-Method-Override")
	if override != "" && method == http.MethodPost {
		method = strings.ToUpper(override)
	}
	id := strings.TrimPrefix(c.Param("any"), "/")
	switch {
	case override != "" && c.Request.Method != http.MethodPost:
		abortWithError(c, api.EMETHODNOTALLOWED, "X-HTTP-Method-Override is honoured on POST only")
		return
	case method == http.MethodOptions && c.Request.Method == http.MethodOptions:
		c.Next()
		return
	case method == http.MethodPost && id == "", (method == http.MethodHead || method == http.MethodPatch) && id != "":
	default:
		abortWithError(c, api.EMETHODNOTALLOWED, "uploads accept POST on %s and HEAD or PATCH on an upload", uploadPath)
		return
	}
	claims := u.s.authenticate(c, "", false)
	if claims == nil {
		return
	}
	if id != "" && !u.ownUpload(c, claims, id) {
		return
	}
	if err := u.checkBody(c, method, id); err != nil {
		writeError(c, err)
		return
	}
	if method == http.MethodPost {
		if err := u.checkLength(c.GetHeader("Upload-Length")); err != nil {
			writeError(c, err)
			return
		}
		ctx := context.WithValue(c.Request.Context(), uploadBaseKey{}, u.baseURL(c))
		c.Request = c.Request.WithContext(ctx)
	}
	c.Writer = &closeIfCut{ResponseWriter: c.Writer, req: c.Request}
	c.Next()
}

// baseURL is the absolute creation URL as this client reaches it, like tusd's Location.
func (u *uploads) baseURL(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	if len(u.s.Options.TrustedProxies) > 0 && c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + uploadPath
}

// closeIfCut ends the connection after answering a request whose reading was cut short: tusd
// interrupts a PATCH when another request takes over its upload by setting the connection's
// read deadline to the past, and a connection in that state would fail every later request
// sent on it.
type closeIfCut struct {
	gin.ResponseWriter
	req *http.Request
}

func (w *closeIfCut) WriteHeader(status int) {
	if w.req.Context().Err() != nil {
		w.Header().Set("Connection", "close")
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets tusd's http.ResponseController reach the connection for its deadlines.
func (w *closeIfCut) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ownUpload lets through only ids of the caller's session (others get 404, as if they did not
// exist), first recording an upload that finished but whose recording failed (tusd answers a
// retried final PATCH without calling the finish hook again).
func (u *uploads) ownUpload(c *gin.Context, claims *Claims, id string) bool {
	m := uploadIDPattern.FindStringSubmatch(id)
	if m == nil || m[1] != claims.SessionID {
		abortWithError(c, api.ENOTFOUND, "no such upload")
		return false
	}
	if err := u.finishIfComplete(c.Request.Context(), id); err != nil {
		writeError(c, err)
		return false
	}
	return true
}

// checkBody refuses a body that could run past the end of its upload before tusd reads any
// of it: tusd creates the upload (POST) or stores what fits (PATCH) before it notices the
// excess, so such a request would be answered 413 yet leave an upload behind or even record
// the chunk. A body must therefore come with its Content-Length, and fit.
func (u *uploads) checkBody(c *gin.Context, method, id string) error {
	r := c.Request
	if method != http.MethodPost && method != http.MethodPatch {
		return nil
	}
	if r.ContentLength < 0 {
		return api.Errorf(api.EINVALID, "send the chunk's bytes with a Content-Length")
	}
	room, err := u.room(c, method, id)
	if err != nil || r.ContentLength <= room {
		return nil // tusd's own checks answer malformed headers and unknown uploads
	}
	return api.Errorf(api.ETOOLARGE, "the body is %d bytes, more than the %d the upload has left", r.ContentLength, room)
}

// room is how many bytes a creation or PATCH may carry: the upload's length, or what is left
// of it after Upload-Offset.
func (u *uploads) room(c *gin.Context, method, id string) (int64, error) {
	if method == http.MethodPost {
		return parseUint(c.GetHeader("Upload-Length"))
	}
	offset, err := parseUint(c.GetHeader("Upload-Offset"))
	if err != nil {
		return 0, err
	}
	up, err := u.s.Uploads.FindUpload(c.Request.Context(), id)
	if err != nil {
		return 0, err
	}
	return up.Size - offset, nil
}

func (u *uploads) checkLength(raw string) error {
	n, err := parseUint(raw)
	if err != nil {
		return api.Errorf(api.EINVALID, "Upload-Length must be the chunk's encrypted length")
	}
	if max := int64(u.s.Options.MaxChunkSize + api.ChunkOverhead); n > max {
		return api.Errorf(api.ETOOLARGE, "a chunk may be at most %d bytes", max)
	}
	return nil
}

// beforeCreate checks an upload's metadata against the token and the announced item, then
// gives it an id in the caller's session and the chunk's final path as its storage.
func (u *uploads) beforeCreate(hook tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	up, err := u.uploadFromHook(hook)
	if err == nil {
		err = u.begin(hook.Context, up)
	}
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusProblem(err)
	}
	path, err := u.s.Chunks.ChunkPath(up.SessionID, up.ContentID, up.Index)
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusProblem(err)
	}
	// Only the three keys are kept: a client must not get anything else (a file name, say)
	// written to the server's disk in the clear.
	meta := tusd.MetaData{"sessionId": up.SessionID, "contentId": up.ContentID, "chunkIndex": strconv.Itoa(up.Index)}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{ID: up.ID, MetaData: meta, Storage: map[string]string{"Path": path}}, nil
}

// uploadFromHook validates the Upload-Metadata of a creation request.
func (u *uploads) uploadFromHook(hook tusd.HookEvent) (*api.Upload, error) {
	claims := ClaimsFrom(hook.Context)
	meta := hook.Upload.MetaData
	if hook.Upload.SizeIsDeferred {
		return nil, api.Errorf(api.EINVALID, "Upload-Length is required: deferred length is not supported")
	}
	if err := api.ValidateSessionID(meta["sessionId"]); err != nil {
		return nil, err
	}
	if meta["sessionId"] != claims.SessionID {
		return nil, api.Errorf(api.EFORBIDDEN, "this token is for another session")
	}
	if err := api.ValidateContentID(meta["contentId"]); err != nil {
		return nil, err
	}
	index, err := api.ParseChunkIndex(meta["chunkIndex"])
	if err != nil {
		return nil, err
	}
	if err := u.s.checkFreeDisk(hook.Upload.Size); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s/%s/%d-%s", claims.SessionID, meta["contentId"], index, randomHex(8))
	return &api.Upload{ID: id, SessionID: claims.SessionID, ContentID: meta["contentId"], Index: index, Size: hook.Upload.Size}, nil
}

// begin records the upload. A chunk already being uploaded sends the client to that upload,
// unless that upload's files are gone (it was never created, or was swept), in which case it
// is forgotten and this one takes its place.
func (u *uploads) begin(ctx context.Context, up *api.Upload) error {
	err := u.s.Uploads.BeginUpload(ctx, up)
	var running *api.Error
	if !errors.As(err, &running) || running.Code != api.ECHUNKINPROGRESS {
		return err
	}
	other, _ := running.Extra["uploadId"].(string)
	if _, getErr := u.store.GetUpload(ctx, other); !errors.Is(getErr, tusd.ErrNotFound) && !errors.Is(getErr, os.ErrNotExist) {
		base, _ := ctx.Value(uploadBaseKey{}).(string)
		running.Extra = map[string]any{"uploadUrl": base + other}
		return running
	}
	if err := u.s.Uploads.AbandonUpload(ctx, other); err != nil {
		return err
	}
	return u.s.Uploads.BeginUpload(ctx, up)
}

// beforeFinishResponse records the finished chunk before the final PATCH is answered, so an
// acknowledged chunk is on disk and in the database.
func (u *uploads) beforeFinishResponse(hook tusd.HookEvent) (tusd.HTTPResponse, error) {
	if err := u.finish(hook.Context, hook.Upload.ID, hook.Upload.Storage["Path"]); err != nil {
		return tusd.HTTPResponse{}, tusProblem(err)
	}
	return tusd.HTTPResponse{}, nil
}

// finishIfComplete records an unfinished upload whose bytes are all there.
func (u *uploads) finishIfComplete(ctx context.Context, id string) error {
	up, err := u.s.Uploads.FindUpload(ctx, id)
	if api.ErrorCode(err) == api.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	path, err := u.s.Chunks.ChunkPath(up.SessionID, up.ContentID, up.Index)
	if err != nil {
		return err
	}
	if st, err := os.Stat(path); err != nil || st.Size() != up.Size {
		return nil
	}
	return u.finish(ctx, id, path)
}

// finish makes the chunk durable, hashes it and records it. Two requests may race to finish
// the same upload (a HEAD arriving during the final PATCH): the second finds the upload gone
// and succeeds if the chunk is recorded. Recording is not cut short when the request that
// triggered it is: the bytes are all there and the client may already count on them.
func (u *uploads) finish(ctx context.Context, id, path string) error {
	ctx = context.WithoutCancel(ctx)
	sum, err := syncAndHash(path)
	if err != nil {
		return err
	}
	err = u.s.Uploads.FinishUpload(ctx, id, sum)
	if api.ErrorCode(err) != api.ENOTFOUND {
		return err
	}
	m := uploadIDPattern.FindStringSubmatch(id)
	index, _ := strconv.Atoi(m[3])
	if _, chunkErr := u.s.Contents.FindChunk(ctx, m[1], m[2], index); chunkErr != nil {
		return err
	}
	return nil
}

func syncAndHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// tusProblem turns an error into a tusd error whose body is our problem document.
func tusProblem(err error) tusd.Error {
	if api.ErrorCode(err) == api.EINTERNAL {
		slog.Error("upload failed", "err", err)
	}
	body, _ := json.Marshal(ProblemBody(err))
	status := ErrorStatus(err)
	return tusd.Error{
		ErrorCode: api.ErrorCode(err),
		Message:   api.ErrorMessage(err),
		HTTPResponse: tusd.HTTPResponse{
			StatusCode: status,
			Body:       string(body) + "\n",
			Header:     tusd.HTTPHeader{"Content-Type": problemContentType, "Cache-Control": "no-store"},
		},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
