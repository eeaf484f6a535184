package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sharethings/sharethings/api"
)

// ListOptions selects a page of the session's items: Limit 0 is the server's default (50,
// at most 200), Cursor the NextCursor of the previous page, Oldest the oldest first (pinned
// items come first either way).
type ListOptions struct {
	Limit  int
	Cursor string
	Oldest bool
}

// Page is one page of items; NextCursor is empty on the last.
type Page struct {
	Items      []api.Content
	NextCursor string
}

// ItemDetail is one item with the chunks stored so far.
type ItemDetail struct {
	api.Content
	Chunks []api.Chunk `json:"chunks"`
}

// Announcement describes an item before its chunks are uploaded. The counts must describe a
// real encryption (PROTOCOL §2): TotalSize is the sum of the encrypted blob lengths.
type Announcement struct {
	ContentID   string     `json:"contentId"`
	TotalChunks int        `json:"totalChunks"`
	TotalSize   int64      `json:"totalSize"`
	ChunkSize   int        `json:"chunkSize"`
	Metadata    api.Sealed `json:"metadata"`
}

// List fetches one page of the session's items.
func (c *Client) List(ctx context.Context, opt ListOptions) (*Page, error) {
	path, err := c.sessionPath("/contents")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opt.Limit > 0 {
		q.Set("limit", strconv.Itoa(opt.Limit))
	}
	if opt.Cursor != "" {
		q.Set("cursor", opt.Cursor)
	}
	if opt.Oldest {
		q.Set("order", "oldest")
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var res struct {
		Items      []api.Content `json:"items"`
		NextCursor *string       `json:"nextCursor"`
	}
	if _, err := c.call(ctx, http.MethodGet, path, true, nil, &res); err != nil {
		return nil, err
	}
	page := &Page{Items: res.Items}
	if res.NextCursor != nil {
		page.NextCursor = *res.NextCursor
	}
	return page, nil
}

// ListAll fetches every item of the session, newest first, following the cursors.
func (c *Client) ListAll(ctx context.Context) ([]api.Content, error) {
	var all []api.Content
	opt := ListOptions{Limit: 200}
	for {
		page, err := c.List(ctx, opt)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		// A server handing back the same cursor would otherwise keep us here for ever.
		if page.NextCursor == opt.Cursor {
			return nil, errors.New("client: the server repeated a listing cursor")
		}
		opt.Cursor = page.NextCursor
	}
}

// Item fetches one item and its stored chunks.
func (c *Client) Item(ctx context.Context, contentID string) (*ItemDetail, error) {
	path, err := c.contentPath(contentID, "")
	if err != nil {
		return nil, err
	}
	var d ItemDetail
	if _, err := c.call(ctx, http.MethodGet, path, true, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Announce declares an item; its chunks then go up with UploadChunk.
func (c *Client) Announce(ctx context.Context, a Announcement) (*api.Content, error) {
	path, err := c.sessionPath("/contents")
	if err != nil {
		return nil, err
	}
	var res struct {
		Item      api.Content `json:"item"`
		UploadURL string      `json:"uploadUrl"`
	}
	if _, err := c.call(ctx, http.MethodPost, path, true, a, &res); err != nil {
		return nil, err
	}
	c.rememberUploadURL(res.UploadURL)
	return &res.Item, nil
}

// SetPinned pins or unpins an item.
func (c *Client) SetPinned(ctx context.Context, contentID string, pinned bool) (*api.Content, error) {
	return c.patchContent(ctx, contentID, map[string]any{"pinned": pinned})
}

// Rename replaces an item's encrypted metadata (sealed by the caller with a fresh IV).
func (c *Client) Rename(ctx context.Context, contentID string, metadata api.Sealed) (*api.Content, error) {
	return c.patchContent(ctx, contentID, map[string]any{"metadata": metadata})
}

func (c *Client) patchContent(ctx context.Context, contentID string, body map[string]any) (*api.Content, error) {
	path, err := c.contentPath(contentID, "")
	if err != nil {
		return nil, err
	}
	var item api.Content
	if _, err := c.call(ctx, http.MethodPatch, path, true, body, &item); err != nil {
		return nil, err
	}
	return &item, nil
}

// Delete removes an item with its chunks.
func (c *Client) Delete(ctx context.Context, contentID string) error {
	path, err := c.contentPath(contentID, "")
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodDelete, path, true, nil, nil)
	return err
}

// Clear removes every item of the session.
func (c *Client) Clear(ctx context.Context) error {
	path, err := c.sessionPath("/contents")
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodDelete, path, true, nil, nil)
	return err
}

// contentPath is the path of an item of the joined session plus suffix.
func (c *Client) contentPath(contentID, suffix string) (string, error) {
	return c.sessionPath("/contents/" + url.PathEscape(contentID) + suffix)
}

// chunkPath is the download path of chunk index of an item.
func (c *Client) chunkPath(contentID string, index int) (string, error) {
	return c.contentPath(contentID, "/chunks/"+strconv.Itoa(index))
}
