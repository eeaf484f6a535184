package storage

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// cursorItems is a session with items that tie on createdAt and mix pinned and unpinned, so
// that every clause of the page query matters.
func cursorItems(f *testing.F) (*DB, []*api.Content) {
	f.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(f.TempDir(), "data"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	joined, err := db.JoinSession(ctx, api.JoinInput{SessionID: "s1", ClientName: "a",
		KDF: &api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1, Salt: make([]byte, 16)}, Fingerprint: api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, 18)}})
	if err != nil {
		f.Fatal(err)
	}
	limits := api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 30, SessionQuotaBytes: 1 << 40, SessionMaxItems: 100}
	var items []*api.Content
	for i, step := range []time.Duration{0, 0, time.Millisecond, 0, 2 * time.Millisecond, 0, 0} {
		now = now.Add(step)
		c := &api.Content{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", 7-i, i), SessionID: "s1", SenderID: joined.Client.ID,
			TotalChunks: 1, TotalSize: 28, ChunkSize: api.MinChunkSize, Metadata: api.Sealed{IV: make([]byte, 12), Data: make([]byte, 16)}}
		if err := db.CreateContent(ctx, c, limits); err != nil {
			f.Fatal(err)
		}
		if i%3 == 1 {
			pinned := true
			if c, err = db.UpdateContent(ctx, "s1", c.ID, api.ContentUpdate{Pinned: &pinned}); err != nil {
				f.Fatal(err)
			}
		}
		items = append(items, c)
	}
	return db, items
}

// FuzzDecodeCursor: the listing's cursor is opaque to clients but arrives as a query
// parameter, so anything may come back. Whatever arrives, ListContents answers a page or
// invalid_request, never an internal error; a cursor that decodes names a valid content id,
// re-encodes to a cursor that decodes the same, and selects exactly the items after its
// position in the listing's order; every cursor the server hands out decodes to the
// position it was made from.
func FuzzDecodeCursor(f *testing.F) {
	db, items := cursorItems(f)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		"", encodeCursor(items[2]), encodeCursor(items[4]), encodeCursor(items[6]),
		enc(`{"p":true,"t":1795608000000,"id":"00000007-0000-4000-8000-000000000000"}`),
		enc(`{"p":false,"t":-9223372036854775808,"id":"ffffffff-ffff-ffff-ffff-ffffffffffff"}`),
		enc(`{"p":1,"t":0,"id":"00000007-0000-4000-8000-000000000000"}`),
		enc(`{"p":false,"t":1.5,"id":"00000007-0000-4000-8000-000000000000"}`),
		enc(`{"id":"../../etc/passwd"}`), enc(`{"id":"' OR 1=1 --"}`), enc(`null`), enc(`[]`),
		base64.StdEncoding.EncodeToString([]byte(`{"p":true,"t":0,"id":"00000007-0000-4000-8000-000000000000"}`)),
		"%%%", "eyJ", "====", "\x00",
	} {
		f.Add(s, uint8(0), true, int64(1795608000000), "00000007-0000-4000-8000-000000000000")
		f.Add(s, uint8(0x83), false, int64(-1), "not-a-uuid")
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, cursor string, mode uint8, pinned bool, created int64, cid string) {
		// The other direction first: what the server hands out decodes to its position.
		if api.ValidateContentID(cid) == nil {
			s := encodeCursor(&api.Content{Pinned: pinned, CreatedAt: api.FromUnixMilli(created), ID: cid})
			c, err := decodeCursor(s)
			if err != nil || c != (listCursor{Pinned: pinned, CreatedAt: created, ContentID: cid}) {
				t.Fatalf("cursor of (%v, %d, %s) decodes to %+v, %v", pinned, created, cid, c, err)
			}
		}

		order, limit := api.NewestFirst, int(mode&7)+1
		if mode&0x80 != 0 {
			order = api.OldestFirst
		}
		page, next, err := db.ListContents(ctx, api.ContentFilter{SessionID: "s1", Order: order, Limit: limit, Cursor: cursor})
		c, decErr := decodeCursor(cursor)
		if decErr != nil {
			if code := api.ErrorCode(decErr); code != api.EINVALID {
				t.Fatalf("decodeCursor(%q) failed with code %s", cursor, code)
			}
			if cursor != "" && api.ErrorCode(err) != api.EINVALID {
				t.Fatalf("ListContents with cursor %q: %v, want invalid_request", cursor, err)
			}
		} else {
			if api.ValidateContentID(c.ContentID) != nil {
				t.Fatalf("cursor %q accepted with content id %q", cursor, c.ContentID)
			}
			again, err := decodeCursor(encodeCursor(&api.Content{Pinned: c.Pinned, CreatedAt: api.FromUnixMilli(c.CreatedAt), ID: c.ContentID}))
			if err != nil || again != c {
				t.Fatalf("cursor %+v re-encodes to %+v, %v", c, again, err)
			}
		}
		if cursor != "" && decErr != nil {
			return
		}
		if err != nil {
			t.Fatalf("ListContents with cursor %q: %v", cursor, err)
		}
		want := expectedPage(items, order, cursor != "", c)
		more := len(want) > limit
		want = want[:min(limit, len(want))]
		if ids(page) != ids(want) {
			t.Fatalf("cursor %+v, %v, limit %d: page %s, want %s", c, order, limit, ids(page), ids(want))
		}
		if (next != "") != more {
			t.Fatalf("next cursor %q with more=%v", next, more)
		}
	})
}

// expectedPage sorts the items as the listing does and keeps those after the cursor.
func expectedPage(items []*api.Content, order api.ContentOrder, after bool, c listCursor) []*api.Content {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	less := func(x *api.Content, p bool, t int64, id string) int { // <0: x comes first
		if r := cmp.Compare(b(p), b(x.Pinned)); r != 0 {
			return r
		}
		r := cmp.Or(cmp.Compare(api.UnixMilli(x.CreatedAt), t), cmp.Compare(x.ID, id))
		if order == api.NewestFirst {
			r = -r
		}
		return r
	}
	var out []*api.Content
	for _, x := range items {
		if !after || less(x, c.Pinned, c.CreatedAt, c.ContentID) > 0 {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(x, y *api.Content) int { return less(x, y.Pinned, api.UnixMilli(y.CreatedAt), y.ID) })
	return out
}

func ids(items []*api.Content) string {
	s := ""
	for _, it := range items {
		s += it.ID[:8] + " "
	}
	return s
}

// FuzzChunkPath: ChunkPath is the last guard between an id and the filesystem. It answers
// a path only for a valid session id and content id (else invalid_session_id, then
// invalid_content_id), and that path is always {data}/sessions/{sid}/{cid}/{index}.bin:
// three clean elements under the sessions directory, never outside it.
func FuzzChunkPath(f *testing.F) {
	db, err := Open(context.Background(), filepath.Join(f.TempDir(), "data"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	const cid = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	for _, c := range []struct {
		sid, cid string
		index    int
	}{
		{"s1", cid, 0}, {"s1", cid, math.MaxInt}, {"s1", cid, -1}, {"..", cid, 0}, {"s1", "..", 0},
		{"s1/../../x", cid, 0}, {"s1", cid + "/../../x", 0}, {"", cid, 0}, {"s1", "", 0},
		{"s1\x00", cid, 0}, {"C:", cid, 0}, {"s1\\..", cid, 0}, {"Zürich", cid, 0}, {"s1", "0F8E4C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B", 1},
	} {
		f.Add(c.sid, c.cid, c.index)
	}
	root := db.tree.root
	f.Fuzz(func(t *testing.T, sid, cid string, index int) {
		path, err := db.ChunkPath(sid, cid, index)
		switch {
		case api.ValidateSessionID(sid) != nil:
			if api.ErrorCode(err) != api.EINVALIDSESSIONID || path != "" {
				t.Fatalf("ChunkPath(%q, %q, %d) = %q, %v; want invalid_session_id", sid, cid, index, path, err)
			}
			return
		case api.ValidateContentID(cid) != nil:
			if api.ErrorCode(err) != api.EINVALIDCONTENTID || path != "" {
				t.Fatalf("ChunkPath(%q, %q, %d) = %q, %v; want invalid_content_id", sid, cid, index, path, err)
			}
			return
		case err != nil:
			t.Fatalf("ChunkPath(%q, %q, %d): %v", sid, cid, index, err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || filepath.Clean(path) != path || rel != filepath.Join(sid, cid, fmt.Sprintf("%d.bin", index)) {
			t.Fatalf("ChunkPath(%q, %q, %d) = %q, outside %q or not clean", sid, cid, index, path, root)
		}
		if dir := filepath.Dir(filepath.Dir(filepath.Dir(path))); dir != root {
			t.Fatalf("ChunkPath(%q, %q, %d) = %q: not three levels under %q", sid, cid, index, path, root)
		}
	})
}
