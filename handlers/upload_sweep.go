package handlers

// Settling unfinished uploads: at start-up after a stop or a crash, and periodically.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/sharethings/sharethings/api"
)

// creationGrace is how long writing a new upload's .info may take: an unreadable one older
// than this was cut short by a crash.
const creationGrace = time.Minute

// RecoverUploads settles the unfinished uploads a stopped or killed server left, before it
// serves (see settleUploads). A server alone creates no upload before it serves, so every
// unreadable .info is a crash's; where other instances share the uploads, those begun within
// creationGrace are left to the next sweep: another instance may be creating them now.
func (s *Server) RecoverUploads(ctx context.Context) error {
	begunBefore := s.now()
	if s.UploadLocks != nil {
		begunBefore = begunBefore.Add(-creationGrace)
	}
	return s.settleUploads(ctx, begunBefore)
}

// SweepUploads settles unfinished uploads periodically (see settleUploads).
func (s *Server) SweepUploads(ctx context.Context) error {
	return s.settleUploads(ctx, s.now().Add(-creationGrace))
}

// settleUploads removes the uploads begun before begunBefore whose .info tusd cannot read
// (see dropUnreadable), records those whose bytes are all there (the process died between
// the last byte and the commit, or a recording failed), and removes those untouched for
// UploadExpiry with their partial bytes.
func (s *Server) settleUploads(ctx context.Context, begunBefore time.Time) error {
	pending, err := s.Uploads.ListUploads(ctx)
	if err != nil {
		return err
	}
	stale := s.now().Add(-s.Options.UploadExpiry)
	var errs []error
	for _, up := range pending {
		if !up.CreatedAt.After(begunBefore) {
			dropped, err := s.uploads.dropUnreadable(ctx, up)
			if dropped || err != nil {
				errs = append(errs, err)
				continue
			}
		}
		errs = append(errs, s.uploads.settle(ctx, up, stale))
	}
	return errors.Join(errs...)
}

// dropUnreadable removes an upload whose .info tusd cannot read. tusd writes the .info while
// it creates the upload, before it answers; a process killed in the middle leaves it empty or
// cut, and tusd would then answer 500 to every HEAD and PATCH, while new creations for the
// chunk would be sent to that upload. Nothing of it was acknowledged (its creation was never
// answered), so it is forgotten and the client's next creation starts the chunk afresh. Only
// for uploads no creation can still be writing.
func (u *uploads) dropUnreadable(ctx context.Context, up *api.Upload) (bool, error) {
	_, err := u.store.GetUpload(ctx, up.ID)
	var cut *json.SyntaxError
	if !errors.As(err, &cut) {
		return false, nil // readable, gone, or failing for another reason: not this case
	}
	path, err := u.s.Chunks.ChunkPath(up.SessionID, up.ContentID, up.Index)
	if err != nil {
		return false, err
	}
	return true, u.remove(ctx, up, path)
}

func (u *uploads) settle(ctx context.Context, up *api.Upload, stale time.Time) error {
	path, err := u.s.Chunks.ChunkPath(up.SessionID, up.ContentID, up.Index)
	if err != nil {
		return err
	}
	st, statErr := os.Stat(path)
	switch {
	case statErr == nil && st.Size() == up.Size:
		return u.finish(ctx, up.ID, path)
	case up.CreatedAt.After(stale) || statErr == nil && st.ModTime().After(stale):
		return nil // still in progress, or resumable for a while yet
	}
	return u.remove(ctx, up, path)
}

// remove deletes an unfinished upload: its partial chunk file, its .info and its row.
func (u *uploads) remove(ctx context.Context, up *api.Upload, path string) error {
	for _, p := range []string{path, filepath.Join(u.s.Chunks.UploadDir(), up.ID+".info")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return u.s.Uploads.AbandonUpload(ctx, up.ID)
}
