package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sharethings/sharethings/api"
)

// tree is the on-disk layout: chunk bytes at root/{sessionId}/{contentId}/{index}.bin and the
// upload store's bookkeeping under uploads/{sessionId}/{contentId}/. Ids are validated again
// here, so no caller can turn an unchecked id into a path.
type tree struct{ root, uploads string }

func newTree(dataDir string) *tree {
	return &tree{root: filepath.Join(dataDir, "sessions"), uploads: filepath.Join(dataDir, "uploads")}
}

// dirs returns a session's directories in both trees, or, with a content id, an item's.
func (t *tree) dirs(sessionID string, contentID ...string) ([]string, error) {
	if err := api.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	parts := []string{sessionID}
	for _, cid := range contentID {
		if err := api.ValidateContentID(cid); err != nil {
			return nil, err
		}
		parts = append(parts, cid)
	}
	rel := filepath.Join(parts...)
	return []string{filepath.Join(t.root, rel), filepath.Join(t.uploads, rel)}, nil
}

// chunkPath is where chunk index of an item is stored.
func (t *tree) chunkPath(sessionID, contentID string, index int) (string, error) {
	dirs, err := t.dirs(sessionID, contentID)
	if err != nil {
		return "", err
	}
	return filepath.Join(dirs[0], strconv.Itoa(index)+".bin"), nil
}

// removeSession deletes a session's directories and everything in them; missing ones are fine.
func (t *tree) removeSession(sessionID string) error {
	dirs, err := t.dirs(sessionID)
	if err != nil {
		return err
	}
	return removeAll(dirs)
}

// removeContents deletes the directories of the given items of a session.
func (t *tree) removeContents(sessionID string, contentIDs []string) error {
	var errs []error
	for _, cid := range contentIDs {
		dirs, err := t.dirs(sessionID, cid)
		if err == nil {
			err = removeAll(dirs)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func removeAll(dirs []string) error {
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove %s: %w", d, err)
		}
	}
	return nil
}

// listDir returns the names of the entries of dir; a missing dir has none.
func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// removeOrphanDirs deletes the directories of sessions and items whose rows are gone: what is
// left when the process died between deleting rows and deleting files. Entries whose names
// are not valid ids were never written by us and are left alone.
func (db *DB) removeOrphanDirs(ctx context.Context) error {
	for _, root := range []string{db.tree.root, db.tree.uploads} {
		sessions, err := listDir(root)
		if err != nil {
			return err
		}
		for _, sid := range sessions {
			if err := db.removeOrphansOf(ctx, root, sid); err != nil {
				return err
			}
		}
	}
	return nil
}

func (db *DB) removeOrphansOf(ctx context.Context, root, sid string) error {
	if api.ValidateSessionID(sid) != nil {
		return nil
	}
	_, _, err := findSession(ctx, db.reader, sid)
	if api.ErrorCode(err) == api.ESESSIONNOTFOUND {
		return db.tree.removeSession(sid)
	} else if err != nil {
		return err
	}
	items, err := listDir(filepath.Join(root, sid))
	if err != nil {
		return err
	}
	for _, cid := range items {
		if api.ValidateContentID(cid) != nil {
			continue
		}
		_, err := findContent(ctx, db.reader, sid, cid)
		if api.ErrorCode(err) == api.ECONTENTNOTFOUND {
			err = db.tree.removeContents(sid, []string{cid})
		}
		if err != nil {
			return err
		}
	}
	return nil
}
