package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sharethings/sharethings/api"
)

// tree is the on-disk layout of chunk bytes: root/{sessionId}/{contentId}/{index}.bin.
// Ids are validated again here, so no caller can turn an unchecked id into a path.
type tree struct{ root string }

func (t *tree) sessionDir(sessionID string) (string, error) {
	if err := api.ValidateSessionID(sessionID); err != nil {
		return "", err
	}
	return filepath.Join(t.root, sessionID), nil
}

// removeSession deletes a session's directory and everything in it; a missing one is fine.
func (t *tree) removeSession(sessionID string) error {
	dir, err := t.sessionDir(sessionID)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove files of session %s: %w", sessionID, err)
	}
	return nil
}

// sessionDirs lists the names of the directories under root.
func (t *tree) sessionDirs() ([]string, error) {
	entries, err := os.ReadDir(t.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// removeOrphanDirs deletes session directories whose session row is gone: what is left when
// the process died between deleting a session and deleting its files. Entries that are not
// valid session ids were never written by us and are left alone.
func (db *DB) removeOrphanDirs(ctx context.Context) error {
	names, err := db.tree.sessionDirs()
	if err != nil {
		return err
	}
	for _, name := range names {
		if api.ValidateSessionID(name) != nil {
			continue
		}
		_, _, err := findSession(ctx, db.reader, name)
		if api.ErrorCode(err) == api.ESESSIONNOTFOUND {
			err = db.tree.removeSession(name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
