package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
)

// opened is an item whose metadata this client could decrypt and check.
type opened struct {
	content api.Content
	meta    e2ee.Meta
	item    *e2ee.Item
}

// label names an item in messages: its name if it has one, and its id.
func (o *opened) label() string {
	return fmt.Sprintf("%s (%s)", displayName(o.meta), o.content.ID)
}

// openItem decrypts an item's metadata and checks it against what the server announced: a
// server that swapped sizes or counts is caught before a byte is written.
func (s *session) openItem(c api.Content) (*opened, error) {
	item := s.keys.Item(c.ID)
	meta, err := item.OpenMeta(c.Metadata)
	if err != nil {
		return nil, integrityError{fmt.Errorf("item %s: metadata does not decrypt: %w", c.ID, err)}
	}
	if meta.ChunkSize != c.ChunkSize || e2ee.ChunkCount(meta.Size, meta.ChunkSize) != c.TotalChunks ||
		e2ee.TotalSize(meta.Size, meta.ChunkSize) != c.TotalSize {
		return nil, integrityError{fmt.Errorf("item %s: its metadata does not match the announced sizes", c.ID)}
	}
	return &opened{content: c, meta: meta, item: item}, nil
}

// download writes an item's plaintext to w, one chunk in memory at a time; a chunk that fails
// verification stops it with an error naming the item.
func (s *session) download(ctx context.Context, o *opened, w io.Writer, p *progress) error {
	opener := o.item.NewOpener(w, o.meta)
	var blob bytes.Buffer
	var moved int64
	for i := range o.content.TotalChunks {
		blob.Reset()
		_, err := s.api.DownloadChunk(ctx, o.content.ID, i, &blob)
		if err == nil {
			err = opener.Write(i, blob.Bytes())
		}
		if errors.Is(err, e2ee.ErrDecrypt) || errors.Is(err, client.ErrChecksum) {
			return integrityError{fmt.Errorf("%s: chunk %d failed verification (tampered with, or not this session's): refused", o.label(), i)}
		}
		if err != nil {
			return fmt.Errorf("%s: chunk %d: %w", o.label(), i, err)
		}
		moved += int64(blob.Len())
		p.set(moved)
	}
	if err := opener.Close(); err != nil {
		return integrityError{fmt.Errorf("%s: %w", o.label(), err)}
	}
	return nil
}

// writeVerified writes an item's plaintext to w only once every chunk has been verified, so a
// refused item writes nothing; it waits in an unlinked temporary file meanwhile.
func (s *session) writeVerified(ctx context.Context, o *opened, w io.Writer) error {
	spool, err := os.CreateTemp("", "sharethings-item-*")
	if err != nil {
		return err
	}
	os.Remove(spool.Name())
	defer spool.Close()
	if err := s.download(ctx, o, spool, newProgress(nil, "", 0, true)); err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(w, spool)
	return err
}

// saveItem downloads an item into dir under a safe form of its name. An existing file is
// kept unless force, the item then taking the next free "name (n).ext".
func (s *session) saveItem(ctx context.Context, o *opened, dir string, force, quiet bool, stderr io.Writer) (string, error) {
	tmp, err := s.downloadFile(ctx, o, dir, quiet, stderr)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	return placeFile(tmp, filepath.Join(dir, safeName(o.meta.Name, o.content.ID)), force)
}

// downloadFile downloads an item into a new temporary file in dir and returns its name, so
// that a refused or interrupted item never leaves a file under a real name. The caller gives
// it its final name, or removes it.
func (s *session) downloadFile(ctx context.Context, o *opened, dir string, quiet bool, stderr io.Writer) (string, error) {
	tmp, err := os.CreateTemp(dir, ".sharethings-*.part")
	if err != nil {
		return "", err
	}
	p := newProgress(stderr, displayName(o.meta), o.content.TotalSize, quiet)
	err = s.download(ctx, o, tmp, p)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.fail()
		os.Remove(tmp.Name())
		return "", err
	}
	p.done()
	return tmp.Name(), nil
}

// placeFile gives the finished temporary file its final name.
func placeFile(tmp, path string, force bool) (string, error) {
	if force {
		return path, os.Rename(tmp, path)
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	for n := 0; n < 1000; n++ {
		candidate := path
		if n > 0 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, n, ext)
		}
		// A hard link fails if the name exists: no check-then-write race with another writer.
		err := os.Link(tmp, candidate)
		if err == nil {
			return candidate, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: no free name left", path)
}

// safeName turns a name chosen by whoever sent the item into a plain file name: no
// directories, no traversal, no control characters, no hidden files, bounded length.
func safeName(name, contentID string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == 0 {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." || name == "/" {
		return "item-" + contentID[:8]
	}
	if strings.HasPrefix(name, ".") {
		name = "_" + name[1:]
	}
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
