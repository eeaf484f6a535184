package storage

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// roomyLimits are quotas no test reaches unless it sets its own.
var roomyLimits = api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 40, SessionQuotaBytes: 1 << 40, SessionMaxItems: 1000}

// itemID is a valid content id whose first eight characters, which ids prints, are n in hex.
func itemID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", n) }

// sealed is well-formed encrypted metadata, told apart by b.
func sealed(b byte) api.Sealed {
	iv, data := make([]byte, api.FingerprintIVLen), make([]byte, 2*api.GCMTagBytes)
	iv[0], data[0] = b, b
	return api.Sealed{IV: iv, Data: data}
}

// newItem describes a well-formed item of session sid: chunks chunks of the smallest chunk
// size, the last of them holding 100 plaintext bytes.
func newItem(t *testing.T, sid, id string, chunks int) *api.Content {
	t.Helper()
	c := &api.Content{ID: id, SessionID: sid, SenderID: "00000000-0000-4000-8000-0000000000aa", SenderName: "tester",
		TotalChunks: chunks, ChunkSize: api.MinChunkSize, Metadata: sealed(1),
		TotalSize: int64(chunks-1)*(api.MinChunkSize+api.ChunkOverhead) + 100 + api.ChunkOverhead}
	if err := c.ValidateCounts(api.MaxChunkSize); err != nil {
		t.Fatalf("test item is malformed: %v", err)
	}
	return c
}

// create announces a new item of chunks chunks in session sid, within roomy limits.
func (f *fixture) create(t *testing.T, sid, id string, chunks int) *api.Content {
	t.Helper()
	c := newItem(t, sid, id, chunks)
	if err := f.db.CreateContent(t.Context(), c, roomyLimits); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return c
}

// uploadOf is a new upload of chunk index of c, of the right length, with an id in the form
// the handlers give out.
func uploadOf(c *api.Content, index int) *api.Upload {
	return &api.Upload{ID: fmt.Sprintf("%s/%s/%d-%s", c.SessionID, c.ID, index, randomHex(8)),
		SessionID: c.SessionID, ContentID: c.ID, Index: index, Size: c.BlobLength(index)}
}

// chunkSum is a SHA-256, in hex, that tells chunk index of c from every other.
func chunkSum(c *api.Content, index int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", c.ID, index))
	return hex.EncodeToString(sum[:])
}

// begin accepts an upload of chunk index of c.
func (f *fixture) begin(t *testing.T, c *api.Content, index int) *api.Upload {
	t.Helper()
	u := uploadOf(c, index)
	if err := f.db.BeginUpload(t.Context(), u); err != nil {
		t.Fatalf("begin upload of chunk %d: %v", index, err)
	}
	return u
}

// storeChunk uploads chunk index of c from beginning to end.
func (f *fixture) storeChunk(t *testing.T, c *api.Content, index int) {
	t.Helper()
	u := f.begin(t, c, index)
	if err := f.db.FinishUpload(t.Context(), u.ID, chunkSum(c, index)); err != nil {
		t.Fatalf("finish upload of chunk %d: %v", index, err)
	}
}

// find returns an item and its chunks, failing the test if it is not there.
func (f *fixture) find(t *testing.T, sid, id string) (*api.Content, []api.Chunk) {
	t.Helper()
	c, chunks, err := f.db.FindContent(t.Context(), sid, id)
	if err != nil {
		t.Fatalf("find %s: %v", id, err)
	}
	return c, chunks
}

// listAll pages through a session's items, limit at a time, and returns them all.
func (f *fixture) listAll(t *testing.T, sid string, order api.ContentOrder, limit int) []*api.Content {
	t.Helper()
	var all []*api.Content
	cursor := ""
	for range 100 {
		page, next, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: sid, Order: order, Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("list after %q: %v", cursor, err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	t.Fatal("listing never ended")
	return nil
}

// writeItemFile puts a chunk file where c's chunk 0 lives and returns its path.
func writeItemFile(t *testing.T, f *fixture, c *api.Content) string {
	t.Helper()
	path, err := f.db.ChunkPath(c.SessionID, c.ID, 0)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o700)
	}
	if err == nil {
		err = os.WriteFile(path, []byte("ciphertext"), 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// sessionEvents are the events of session sid among events, in their order.
func sessionEvents(events []api.Event, sid string) []api.Event {
	var out []api.Event
	for _, e := range events {
		if e.SessionID == sid {
			out = append(out, e)
		}
	}
	return out
}

func eventTypes(events []api.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// checkChain fails unless events have increasing ids, each with the one before as Prev, the
// first with first.
func checkChain(t *testing.T, events []api.Event, first int64) {
	t.Helper()
	prev := first
	for i, e := range events {
		if e.ID <= prev || e.Prev != prev {
			t.Fatalf("event %d (id %d, prev %d) does not follow id %d", i, e.ID, e.Prev, prev)
		}
		prev = e.ID
	}
}

// checkSameEvents fails unless got and want are the same events in the same order.
func checkSameEvents(t *testing.T, got, want []api.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events %v, want %d %v", len(got), eventTypes(got), len(want), eventTypes(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.SessionID != w.SessionID || g.Type != w.Type || string(g.Data) != string(w.Data) ||
			g.Prev != w.Prev || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Fatalf("event %d is\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func TestCreateContent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		t.Run("RecordsAndPublishesContentCreated", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 3)

			pub := f.broker.published()
			last := pub[len(pub)-1]
			var announced api.Content
			if err := json.Unmarshal(last.Data, &announced); err != nil || last.Type != api.EventContentCreated {
				t.Fatalf("last event %s %s: %v", last.Type, last.Data, err)
			}
			if announced.ID != c.ID || announced.TotalSize != c.TotalSize || announced.TotalChunks != 3 || !reflect.DeepEqual(announced.Metadata, c.Metadata) {
				t.Fatalf("content.created announces %+v, want %+v", announced, c)
			}
			got, chunks := f.find(t, "s1", c.ID)
			if !reflect.DeepEqual(got, c) || len(chunks) != 0 {
				t.Fatalf("found %+v with chunks %v, want %+v and none", got, chunks, c)
			}
			if got.ReceivedChunks != 0 || got.Complete || got.Pinned || !got.CreatedAt.Equal(f.now) || !got.UpdatedAt.Equal(f.now) {
				t.Fatalf("a new item must be empty, incomplete, unpinned and created now: %+v", got)
			}
		})
		t.Run("DuplicateIDConflicts", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			first := f.create(t, "s1", itemID(1), 1)
			before := len(f.broker.published())
			err := f.db.CreateContent(t.Context(), newItem(t, "s1", first.ID, 2), roomyLimits)
			if api.ErrorCode(err) != api.ECONFLICT {
				t.Fatalf("err = %v, want %s", err, api.ECONFLICT)
			}
			if got, _ := f.find(t, "s1", first.ID); got.TotalChunks != 1 || len(f.broker.published()) != before {
				t.Fatalf("a refused announce changed state: item %+v, %d events", got, len(f.broker.published()))
			}
		})
		t.Run("SameIDInOtherSession", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			f.create(t, "s1", itemID(1), 1)
			f.create(t, "s2", itemID(1), 1)
		})
		t.Run("UnknownSession", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			before := len(f.broker.published())
			if err := f.db.CreateContent(t.Context(), newItem(t, "nosuch", itemID(1), 1), roomyLimits); err == nil {
				t.Fatal("an item was announced in a session that does not exist")
			}
			if _, _, err := f.db.FindContent(t.Context(), "nosuch", itemID(1)); api.ErrorCode(err) != api.ECONTENTNOTFOUND {
				t.Fatalf("find: %v, want %s", err, api.ECONTENTNOTFOUND)
			}
			if len(f.broker.published()) != before {
				t.Fatalf("a refused announce published %v", f.broker.published()[before:])
			}
		})
	})
}

func TestCreateContentQuota(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// The session holds one item of 1 chunk; the next has 2 chunks.
		one, two := newItem(t, "s1", itemID(1), 1).TotalSize, newItem(t, "s1", itemID(2), 2).TotalSize
		for name, tc := range map[string]struct {
			maxItems int
			maxBytes int64
			code     string
		}{
			"ItemsFit":           {maxItems: 2, maxBytes: 1 << 40},
			"ItemsExceeded":      {maxItems: 1, maxBytes: 1 << 40, code: api.EQUOTAEXCEEDED},
			"BytesFitExactly":    {maxItems: 10, maxBytes: one + two},
			"BytesExceededByOne": {maxItems: 10, maxBytes: one + two - 1, code: api.EQUOTAEXCEEDED},
		} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, engine)
				f.join(t, "s1", "pw", kdf(1))
				f.create(t, "s1", itemID(1), 1)
				before := len(f.broker.published())
				limits := api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 40, SessionMaxItems: tc.maxItems, SessionQuotaBytes: tc.maxBytes}
				err := f.db.CreateContent(t.Context(), newItem(t, "s1", itemID(2), 2), limits)
				if tc.code == "" && err != nil || tc.code != "" && api.ErrorCode(err) != tc.code {
					t.Fatalf("err = %v, want %q", err, tc.code)
				}
				wantItems, wantEvents := 2, before+1
				if tc.code != "" {
					wantItems, wantEvents = 1, before // nothing written
				}
				if items := f.listAll(t, "s1", api.NewestFirst, 10); len(items) != wantItems || len(f.broker.published()) != wantEvents {
					t.Fatalf("%d items and %d events, want %d and %d", len(items), len(f.broker.published()), wantItems, wantEvents)
				}
			})
		}
	})
}

func TestBeginUpload(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		for name, tc := range map[string]struct {
			change func(u *api.Upload, c *api.Content)
			code   string
		}{
			"LastIndex":           {change: func(u *api.Upload, c *api.Content) { u.Index, u.Size = 2, c.BlobLength(2) }},
			"IndexOutOfRange":     {change: func(u *api.Upload, c *api.Content) { u.Index, u.Size = 3, c.BlobLength(2) }, code: api.ECHUNKOUTOFRANGE},
			"ShortChunk":          {change: func(u *api.Upload, c *api.Content) { u.Size-- }, code: api.EINVALID},
			"LongChunk":           {change: func(u *api.Upload, c *api.Content) { u.Size++ }, code: api.EINVALID},
			"LastChunkFullLength": {change: func(u *api.Upload, c *api.Content) { u.Index, u.Size = 2, c.BlobLength(0) }, code: api.EINVALID},
			"UnknownItem":         {change: func(u *api.Upload, c *api.Content) { u.ContentID = itemID(9) }, code: api.ECONTENTNOTFOUND},
			"UnknownSession":      {change: func(u *api.Upload, c *api.Content) { u.SessionID = "nosuch" }, code: api.ECONTENTNOTFOUND},
		} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, engine)
				f.join(t, "s1", "pw", kdf(1))
				c := f.create(t, "s1", itemID(1), 3)
				u := uploadOf(c, 0)
				tc.change(u, c)
				err := f.db.BeginUpload(t.Context(), u)
				if tc.code == "" && err != nil || tc.code != "" && api.ErrorCode(err) != tc.code {
					t.Fatalf("err = %v, want %q", err, tc.code)
				}
				wantUploads := 1
				if tc.code != "" {
					wantUploads = 0
				}
				if uploads, _ := f.db.ListUploads(t.Context()); len(uploads) != wantUploads {
					t.Fatalf("%d uploads recorded, want %d", len(uploads), wantUploads)
				}
			})
		}
		t.Run("ChunkInProgress", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 2)
			first := f.begin(t, c, 0)
			err := f.db.BeginUpload(t.Context(), uploadOf(c, 0))
			var e *api.Error
			if api.ErrorCode(err) != api.ECHUNKINPROGRESS || !errors.As(err, &e) || e.Extra["uploadId"] != first.ID {
				t.Fatalf("err = %v (extra %v), want %s naming %s", err, e, api.ECHUNKINPROGRESS, first.ID)
			}
			f.begin(t, c, 1) // the other chunk is free
		})
		t.Run("ChunkExists", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 2)
			f.storeChunk(t, c, 0)
			if err := f.db.BeginUpload(t.Context(), uploadOf(c, 0)); api.ErrorCode(err) != api.ECHUNKEXISTS {
				t.Fatalf("err = %v, want %s", err, api.ECHUNKEXISTS)
			}
		})
		t.Run("ConcurrentBeginsAdmitOne", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			uploads := make([]*api.Upload, 8)
			errs := make([]error, len(uploads))
			var wg sync.WaitGroup
			for i := range uploads {
				uploads[i] = uploadOf(c, 0)
				wg.Go(func() { errs[i] = f.db.BeginUpload(t.Context(), uploads[i]) })
			}
			wg.Wait()
			var winners []string
			for i, err := range errs {
				if err == nil {
					winners = append(winners, uploads[i].ID)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("%d uploads of one chunk accepted: %v", len(winners), errs)
			}
			for _, err := range errs {
				var e *api.Error
				if err != nil && (!errors.As(err, &e) || e.Code != api.ECHUNKINPROGRESS || e.Extra["uploadId"] != winners[0]) {
					t.Fatalf("a losing begin failed with %v, want %s naming %s", err, api.ECHUNKINPROGRESS, winners[0])
				}
			}
		})
	})
}

func TestFinishUpload(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		t.Run("RecordsChunksAndCompletesTheItem", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 2)
			u0, u1 := f.begin(t, c, 0), f.begin(t, c, 1)
			if _, err := f.db.FindChunk(t.Context(), "s1", c.ID, 1); api.ErrorCode(err) != api.ENOTFOUND {
				t.Fatalf("chunk being uploaded: %v, want %s", err, api.ENOTFOUND)
			}

			before := len(f.broker.published())
			f.now = f.now.Add(time.Second)
			if err := f.db.FinishUpload(t.Context(), u1.ID, chunkSum(c, 1)); err != nil {
				t.Fatal(err)
			}
			pub := f.broker.published()[before:]
			want := fmt.Sprintf(`{"contentId":"%s","chunkIndex":1,"size":%d}`, c.ID, c.BlobLength(1))
			if len(pub) != 1 || pub[0].Type != api.EventContentChunk || string(pub[0].Data) != want {
				t.Fatalf("first chunk published %v, want one content.chunk %s", pub, want)
			}
			if got, _ := f.find(t, "s1", c.ID); got.ReceivedChunks != 1 || got.Complete {
				t.Fatalf("after one of two chunks: %+v", got)
			}

			before = len(f.broker.published())
			f.now = f.now.Add(time.Second)
			if err := f.db.FinishUpload(t.Context(), u0.ID, chunkSum(c, 0)); err != nil {
				t.Fatal(err)
			}
			pub = f.broker.published()[before:]
			if !slices.Equal(eventTypes(pub), []string{api.EventContentChunk, api.EventContentCompleted}) ||
				string(pub[1].Data) != `{"contentId":"`+c.ID+`"}` {
				t.Fatalf("last chunk published %v, want content.chunk then content.completed", pub)
			}
			checkChain(t, pub, pub[0].Prev)

			got, chunks := f.find(t, "s1", c.ID)
			if got.ReceivedChunks != 2 || !got.Complete || !got.UpdatedAt.Equal(f.now) || !got.CreatedAt.Equal(c.CreatedAt) {
				t.Fatalf("complete item: %+v", got)
			}
			wantChunks := []api.Chunk{{Index: 0, Size: c.BlobLength(0), SHA256: chunkSum(c, 0)}, {Index: 1, Size: c.BlobLength(1), SHA256: chunkSum(c, 1)}}
			if !slices.Equal(chunks, wantChunks) {
				t.Fatalf("chunks %+v, want %+v", chunks, wantChunks)
			}
			if k, err := f.db.FindChunk(t.Context(), "s1", c.ID, 1); err != nil || *k != wantChunks[1] {
				t.Fatalf("FindChunk = %+v, %v, want %+v", k, err, wantChunks[1])
			}
			if uploads, err := f.db.ListUploads(t.Context()); err != nil || len(uploads) != 0 {
				t.Fatalf("finished uploads still listed: %v, %v", uploads, err)
			}
		})
		t.Run("FindChunkErrors", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 2)
			for _, tc := range []struct {
				id    string
				index int
				code  string
			}{{c.ID, 2, api.ECHUNKOUTOFRANGE}, {c.ID, 0, api.ENOTFOUND}, {itemID(9), 0, api.ECONTENTNOTFOUND}} {
				if _, err := f.db.FindChunk(t.Context(), "s1", tc.id, tc.index); api.ErrorCode(err) != tc.code {
					t.Errorf("FindChunk(%s, %d) = %v, want %s", tc.id[:8], tc.index, err, tc.code)
				}
			}
		})
		t.Run("TwiceIsANoOp", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			u := f.begin(t, c, 0)
			if err := f.db.FinishUpload(t.Context(), u.ID, chunkSum(c, 0)); err != nil {
				t.Fatal(err)
			}
			before := len(f.broker.published())
			item, chunks := f.find(t, "s1", c.ID)
			// The upload is gone: the handlers take not_found, with the chunk stored, as done.
			err := f.db.FinishUpload(t.Context(), u.ID, chunkSum(c, 1))
			if err != nil && api.ErrorCode(err) != api.ENOTFOUND {
				t.Fatalf("second finish: %v", err)
			}
			again, chunksAgain := f.find(t, "s1", c.ID)
			if len(f.broker.published()) != before || !reflect.DeepEqual(again, item) || !slices.Equal(chunksAgain, chunks) {
				t.Fatalf("second finish changed something: %d events, item %+v, chunks %v", len(f.broker.published())-before, again, chunksAgain)
			}
		})
		t.Run("ConcurrentFinishesRecordOnce", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			u := f.begin(t, c, 0)
			before := len(f.broker.published())
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if err := f.db.FinishUpload(t.Context(), u.ID, chunkSum(c, 0)); err != nil && api.ErrorCode(err) != api.ENOTFOUND {
						t.Errorf("finish: %v", err)
					}
				})
			}
			wg.Wait()
			if got := eventTypes(f.broker.published()[before:]); !slices.Equal(got, []string{api.EventContentChunk, api.EventContentCompleted}) {
				t.Fatalf("racing finishes published %v, want one content.chunk and one content.completed", got)
			}
		})
		t.Run("BadSHA256", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			u := f.begin(t, c, 0)
			for _, sum := range []string{"", "xyz", chunkSum(c, 0)[:62], chunkSum(c, 0) + "00"} {
				if err := f.db.FinishUpload(t.Context(), u.ID, sum); err == nil {
					t.Fatalf("finish accepted sha256 %q", sum)
				}
			}
			if _, err := f.db.FindUpload(t.Context(), u.ID); err != nil {
				t.Fatalf("a refused finish lost the upload: %v", err)
			}
		})
		t.Run("UnknownUpload", func(t *testing.T) {
			f := newFixture(t, engine)
			if err := f.db.FinishUpload(t.Context(), "s1/"+itemID(1)+"/0-0123456789abcdef", strings.Repeat("ab", 32)); api.ErrorCode(err) != api.ENOTFOUND {
				t.Fatalf("err = %v, want %s", err, api.ENOTFOUND)
			}
		})
	})
}

func TestListAndAbandonUploads(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "s1", "pw", kdf(1))
		c := f.create(t, "s1", itemID(1), 3)
		other := f.create(t, "s1", itemID(2), 1)
		var begun []*api.Upload
		for _, index := range []int{2, 0, 1} {
			f.now = f.now.Add(time.Second)
			begun = append(begun, f.begin(t, c, index))
		}
		uploads, err := f.db.ListUploads(t.Context())
		if err != nil || !reflect.DeepEqual(uploads, begun) {
			t.Fatalf("ListUploads = %+v, %v; want, oldest first, %+v", uploads, err, begun)
		}
		if got, err := f.db.FindUpload(t.Context(), begun[1].ID); err != nil || !reflect.DeepEqual(got, begun[1]) {
			t.Fatalf("FindUpload = %+v, %v", got, err)
		}

		if err := f.db.AbandonUpload(t.Context(), begun[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.FindUpload(t.Context(), begun[1].ID); api.ErrorCode(err) != api.ENOTFOUND {
			t.Fatalf("abandoned upload found: %v", err)
		}
		if uploads, _ := f.db.ListUploads(t.Context()); !reflect.DeepEqual(uploads, []*api.Upload{begun[0], begun[2]}) {
			t.Fatalf("after abandoning: %+v", uploads)
		}
		f.begin(t, c, 0) // the chunk is free again
		if err := f.db.AbandonUpload(t.Context(), "no-such-upload"); err != nil {
			t.Fatalf("abandoning an unknown upload: %v", err)
		}

		// Deleting the item forgets its uploads.
		kept := f.begin(t, other, 0)
		if err := f.db.DeleteContent(t.Context(), "s1", c.ID); err != nil {
			t.Fatal(err)
		}
		if uploads, _ := f.db.ListUploads(t.Context()); !reflect.DeepEqual(uploads, []*api.Upload{kept}) {
			t.Fatalf("uploads of a deleted item remain: %+v", uploads)
		}
	})
}

func TestListContents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// Five items at four times (two tie, told apart by id), the second pinned; ids do not
		// follow creation order.
		setup := func(t *testing.T) (*fixture, []*api.Content) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			var items []*api.Content
			for i, n := range []int{5, 3, 4, 1, 2} {
				if i != 3 {
					f.now = f.now.Add(time.Second)
				}
				items = append(items, f.create(t, "s1", itemID(n), 1))
			}
			pin := true
			if _, err := f.db.UpdateContent(t.Context(), "s1", items[1].ID, api.ContentUpdate{Pinned: &pin}); err != nil {
				t.Fatal(err)
			}
			f.join(t, "s2", "pw", kdf(1))
			f.create(t, "s2", itemID(6), 1) // another session's item never lists
			return f, items
		}
		pick := func(items []*api.Content, order ...int) string {
			var out []*api.Content
			for _, i := range order {
				out = append(out, items[i])
			}
			return ids(out)
		}
		for _, tc := range []struct {
			name  string
			order api.ContentOrder
			want  []int // indexes into the items, in listing order
		}{
			{"NewestFirst", api.NewestFirst, []int{1, 4, 2, 3, 0}},
			{"OldestFirst", api.OldestFirst, []int{1, 0, 3, 2, 4}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f, items := setup(t)
				for _, limit := range []int{1, 2, 5, 10} {
					if got := ids(f.listAll(t, "s1", tc.order, limit)); got != pick(items, tc.want...) {
						t.Fatalf("limit %d: %s, want %s", limit, got, pick(items, tc.want...))
					}
				}
				first, next, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Order: tc.order, Limit: 2})
				if err != nil || len(first) != 2 || next == "" {
					t.Fatalf("first page of 2: %s, %q, %v", ids(first), next, err)
				}
				if !first[0].Pinned || first[1].Pinned {
					t.Fatalf("the pinned item must come first: %+v", first)
				}
				last, end, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Order: tc.order, Limit: 5})
				if err != nil || len(last) != 5 || end != "" {
					t.Fatalf("a page holding everything: %s, %q, %v", ids(last), end, err)
				}
			})
		}
		t.Run("CursorIsStableWhileItemsArrive", func(t *testing.T) {
			f, items := setup(t)
			pages := map[api.ContentOrder][]*api.Content{}
			cursors := map[api.ContentOrder]string{}
			for _, order := range []api.ContentOrder{api.NewestFirst, api.OldestFirst} {
				page, next, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Order: order, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				pages[order], cursors[order] = page, next
			}
			f.now = f.now.Add(time.Minute)
			newest := f.create(t, "s1", itemID(7), 1)
			for _, order := range []api.ContentOrder{api.NewestFirst, api.OldestFirst} {
				all := pages[order]
				for cursor := cursors[order]; cursor != ""; {
					page, next, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Order: order, Limit: 2, Cursor: cursor})
					if err != nil {
						t.Fatal(err)
					}
					all, cursor = append(all, page...), next
				}
				// Newest first, the new item is before the cursor; oldest first, it is last.
				want := pick(items, 1, 4, 2, 3, 0)
				if order == api.OldestFirst {
					want = pick(append(items, newest), 1, 0, 3, 2, 4, 5)
				}
				if ids(all) != want {
					t.Fatalf("order %v: %s, want %s", order, ids(all), want)
				}
			}
		})
		t.Run("EmptySession", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			items, next, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Limit: 10})
			if err != nil || len(items) != 0 || items == nil || next != "" {
				t.Fatalf("empty listing: %v, %q, %v", items, next, err)
			}
		})
		t.Run("BadCursor", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			f.create(t, "s1", itemID(1), 1)
			enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
			for name, cursor := range map[string]string{
				"NotBase64":     "%%%",
				"NotJSON":       enc("pinned"),
				"NoContentID":   enc(`{"p":false,"t":0}`),
				"PathAsID":      enc(`{"p":false,"t":0,"id":"../../etc/passwd"}`),
				"UppercaseUUID": enc(`{"p":false,"t":0,"id":"0000000A-0000-4000-8000-000000000000"}`),
				"TrailingJunk":  enc(`{"p":false,"t":0,"id":"`+itemID(1)+`"}`) + "!",
			} {
				t.Run(name, func(t *testing.T) {
					_, _, err := f.db.ListContents(t.Context(), api.ContentFilter{SessionID: "s1", Limit: 10, Cursor: cursor})
					if api.ErrorCode(err) != api.EINVALID {
						t.Fatalf("cursor %q: %v, want %s", cursor, err, api.EINVALID)
					}
				})
			}
		})
	})
}

func TestUpdateContent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		setup := func(t *testing.T) (*fixture, *api.Content) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			f.now = f.now.Add(time.Minute)
			return f, c
		}
		pin, unpin := true, false
		renamed := sealed(7)
		for _, tc := range []struct {
			name   string
			update api.ContentUpdate
			want   func(c *api.Content)
		}{
			{"Pin", api.ContentUpdate{Pinned: &pin}, func(c *api.Content) { c.Pinned = true }},
			{"Unpin", api.ContentUpdate{Pinned: &unpin}, func(c *api.Content) {}},
			{"Rename", api.ContentUpdate{Metadata: &renamed}, func(c *api.Content) { c.Metadata = renamed }},
			{"PinAndRename", api.ContentUpdate{Pinned: &pin, Metadata: &renamed}, func(c *api.Content) { c.Pinned, c.Metadata = true, renamed }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f, c := setup(t)
				before := len(f.broker.published())
				got, err := f.db.UpdateContent(t.Context(), "s1", c.ID, tc.update)
				if err != nil {
					t.Fatal(err)
				}
				want := *c
				tc.want(&want)
				want.UpdatedAt = f.now
				if !reflect.DeepEqual(got, &want) {
					t.Fatalf("updated item %+v, want %+v", got, &want)
				}
				if found, _ := f.find(t, "s1", c.ID); !reflect.DeepEqual(found, &want) {
					t.Fatalf("stored item %+v, want %+v", found, &want)
				}
				pub := f.broker.published()[before:]
				if len(pub) != 1 || pub[0].Type != api.EventContentUpdated {
					t.Fatalf("published %v, want one content.updated", pub)
				}
				wantData, _ := json.Marshal(contentUpdated{ContentID: c.ID, Pinned: tc.update.Pinned, Metadata: tc.update.Metadata})
				if string(pub[0].Data) != string(wantData) {
					t.Fatalf("content.updated data %s, want only what changed: %s", pub[0].Data, wantData)
				}
			})
		}
		t.Run("PinPayload", func(t *testing.T) {
			f, c := setup(t)
			if _, err := f.db.UpdateContent(t.Context(), "s1", c.ID, api.ContentUpdate{Pinned: &pin}); err != nil {
				t.Fatal(err)
			}
			pub := f.broker.published()
			if want := `{"contentId":"` + c.ID + `","pinned":true}`; string(pub[len(pub)-1].Data) != want {
				t.Fatalf("data %s, want %s", pub[len(pub)-1].Data, want)
			}
		})
		t.Run("UnknownItem", func(t *testing.T) {
			f, _ := setup(t)
			before := len(f.broker.published())
			if _, err := f.db.UpdateContent(t.Context(), "s1", itemID(9), api.ContentUpdate{Pinned: &pin}); api.ErrorCode(err) != api.ECONTENTNOTFOUND {
				t.Fatalf("err = %v, want %s", err, api.ECONTENTNOTFOUND)
			}
			if len(f.broker.published()) != before {
				t.Fatal("a refused update published an event")
			}
		})
	})
}

func TestDeleteContent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "s1", "pw", kdf(1))
		gone, kept := f.create(t, "s1", itemID(1), 2), f.create(t, "s1", itemID(2), 1)
		f.storeChunk(t, gone, 0)
		goneFile, keptFile := writeItemFile(t, f, gone), writeItemFile(t, f, kept)

		before := len(f.broker.published())
		if err := f.db.DeleteContent(t.Context(), "s1", gone.ID); err != nil {
			t.Fatal(err)
		}
		pub := f.broker.published()[before:]
		if len(pub) != 1 || pub[0].Type != api.EventContentDeleted || string(pub[0].Data) != `{"contentId":"`+gone.ID+`"}` {
			t.Fatalf("published %v, want one content.deleted", pub)
		}
		if _, _, err := f.db.FindContent(t.Context(), "s1", gone.ID); api.ErrorCode(err) != api.ECONTENTNOTFOUND {
			t.Fatalf("deleted item: %v", err)
		}
		if _, err := os.Stat(goneFile); !os.IsNotExist(err) {
			t.Fatalf("the deleted item's file remains: %v", err)
		}
		if _, err := os.Stat(keptFile); err != nil {
			t.Fatalf("the other item's file: %v", err)
		}
		f.find(t, "s1", kept.ID)

		before = len(f.broker.published())
		if err := f.db.DeleteContent(t.Context(), "s1", gone.ID); api.ErrorCode(err) != api.ECONTENTNOTFOUND {
			t.Fatalf("second delete: %v, want %s", err, api.ECONTENTNOTFOUND)
		}
		if len(f.broker.published()) != before {
			t.Fatal("a second delete published an event")
		}
	})
}

func TestClearContents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "s1", "pw", kdf(1))
		f.join(t, "s2", "pw", kdf(1))
		var files []string
		for n := range 3 {
			c := f.create(t, "s1", itemID(n+1), 2)
			f.begin(t, c, 0)
			files = append(files, writeItemFile(t, f, c))
		}
		other := f.create(t, "s2", itemID(1), 1)
		otherFile := writeItemFile(t, f, other)

		before := len(f.broker.published())
		if err := f.db.ClearContents(t.Context(), "s1"); err != nil {
			t.Fatal(err)
		}
		pub := f.broker.published()[before:]
		if len(pub) != 1 || pub[0].Type != api.EventSessionCleared || pub[0].SessionID != "s1" || string(pub[0].Data) != `{}` {
			t.Fatalf("published %v, want one session.cleared", pub)
		}
		if items := f.listAll(t, "s1", api.NewestFirst, 10); len(items) != 0 {
			t.Fatalf("items remain: %s", ids(items))
		}
		if uploads, _ := f.db.ListUploads(t.Context()); len(uploads) != 0 {
			t.Fatalf("uploads remain: %+v", uploads)
		}
		for _, path := range files {
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("file of a cleared item remains: %v", err)
			}
		}
		if _, err := os.Stat(otherFile); err != nil {
			t.Fatalf("another session's file: %v", err)
		}
		f.find(t, "s2", other.ID)
	})
}

func TestApplyRetention(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// In s1, at minutes 0 to 3: a pinned item, then three unpinned ones; in s2, at minutes
		// 0 and 1, two unpinned ones.
		setup := func(t *testing.T) (*fixture, time.Time) {
			f := newFixture(t, engine)
			start := f.now
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			for i, n := range []int{0x10, 0x11, 0x12, 0x13} {
				f.now = start.Add(time.Duration(i) * time.Minute)
				f.create(t, "s1", itemID(n), 1)
				if i < 2 {
					f.create(t, "s2", itemID(0x20+i), 1)
				}
			}
			pin := true
			if _, err := f.db.UpdateContent(t.Context(), "s1", itemID(0x10), api.ContentUpdate{Pinned: &pin}); err != nil {
				t.Fatal(err)
			}
			return f, start
		}
		for _, tc := range []struct {
			name     string
			cutoff   time.Duration // after the start; 0 for none
			maxItems int
			s1, s2   []int
		}{
			{"Nothing", 0, 0, []int{0x10, 0x13, 0x12, 0x11}, []int{0x21, 0x20}},
			{"ByAge", 90 * time.Second, 0, []int{0x10, 0x13, 0x12}, []int{}},
			{"ByCount", 0, 2, []int{0x10, 0x13, 0x12}, []int{0x21, 0x20}},
			{"ByCountOne", 0, 1, []int{0x10, 0x13}, []int{0x21}},
			{"ByBoth", 150 * time.Second, 2, []int{0x10, 0x13}, []int{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f, start := setup(t)
				var cutoff time.Time
				if tc.cutoff != 0 {
					cutoff = start.Add(tc.cutoff)
				}
				before := len(f.broker.published())
				n, err := f.db.ApplyRetention(t.Context(), cutoff, tc.maxItems)
				if err != nil {
					t.Fatal(err)
				}
				removed := 6 - len(tc.s1) - len(tc.s2)
				if n != removed {
					t.Fatalf("removed %d, want %d", n, removed)
				}
				for sid, want := range map[string][]int{"s1": tc.s1, "s2": tc.s2} {
					var wantItems []*api.Content
					for _, id := range want {
						wantItems = append(wantItems, &api.Content{ID: itemID(id)})
					}
					if got := ids(f.listAll(t, sid, api.NewestFirst, 10)); got != ids(wantItems) {
						t.Errorf("%s keeps %s, want %s", sid, got, ids(wantItems))
					}
				}
				pub := f.broker.published()[before:]
				if len(pub) != removed || slices.ContainsFunc(pub, func(e api.Event) bool { return e.Type != api.EventContentDeleted }) {
					t.Fatalf("published %v, want %d content.deleted", eventTypes(pub), removed)
				}
			})
		}
	})
}

func TestEventLog(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		t.Run("ListEventsChainsPrev", func(t *testing.T) {
			f := newFixture(t, engine)
			// s2's events sit between s1's, so s1's ids have gaps.
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			c := f.create(t, "s1", itemID(1), 1)
			f.join(t, "s2", "pw", nil)
			f.create(t, "s1", itemID(2), 1)
			pin := true
			if _, err := f.db.UpdateContent(t.Context(), "s1", c.ID, api.ContentUpdate{Pinned: &pin}); err != nil {
				t.Fatal(err)
			}
			between := sessionEvents(f.broker.published(), "s2")[1].ID

			logged, err := f.db.ListEvents(t.Context(), "s1", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{api.EventClientJoined, api.EventContentCreated, api.EventContentCreated, api.EventContentUpdated}
			if !slices.Equal(eventTypes(logged), want) {
				t.Fatalf("logged %v, want %v", eventTypes(logged), want)
			}
			checkChain(t, logged, 0)
			checkSameEvents(t, logged, sessionEvents(f.broker.published(), "s1"))

			for _, tc := range []struct {
				name         string
				after        int64
				limit        int
				wantFrom, to int // logged[wantFrom:to]
			}{
				{"FromTheStart", 0, 2, 0, 2},
				{"AfterAnEvent", logged[0].ID, 2, 1, 3},
				{"AfterAnotherSessionsEvent", between, 10, 2, 4},
				{"AfterTheLast", logged[3].ID, 10, 4, 4},
			} {
				t.Run(tc.name, func(t *testing.T) {
					page, err := f.db.ListEvents(t.Context(), "s1", tc.after, tc.limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) != tc.to-tc.wantFrom {
						t.Fatalf("%d events, want %d", len(page), tc.to-tc.wantFrom)
					}
					for i, e := range page {
						if e.ID != logged[tc.wantFrom+i].ID {
							t.Fatalf("event %d is %d, want %d", i, e.ID, logged[tc.wantFrom+i].ID)
						}
					}
					checkChain(t, page, tc.after)
				})
			}
			if none, err := f.db.ListEvents(t.Context(), "nosuch", 0, 10); err != nil || len(none) != 0 {
				t.Fatalf("events of no session: %v, %v", none, err)
			}
		})
		t.Run("EventBounds", func(t *testing.T) {
			f := newFixture(t, engine)
			if _, _, err := f.db.EventBounds(t.Context(), "s1"); api.ErrorCode(err) != api.ESESSIONNOTFOUND {
				t.Fatalf("bounds of no session: %v", err)
			}
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			f.create(t, "s1", itemID(1), 1)
			s1 := sessionEvents(f.broker.published(), "s1")
			latest, pruned, err := f.db.EventBounds(t.Context(), "s1")
			if err != nil || latest != s1[len(s1)-1].ID || pruned != 0 {
				t.Fatalf("bounds = %d, %d, %v; want %d, 0", latest, pruned, err, s1[len(s1)-1].ID)
			}
		})
		t.Run("PruneEventsKeepsNewestPerSession", func(t *testing.T) {
			f := newFixture(t, engine)
			start := f.now
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			f.now = start.Add(time.Minute)
			f.create(t, "s1", itemID(1), 1)
			f.now = start.Add(2 * time.Minute)
			f.create(t, "s1", itemID(2), 1)
			s1, s2 := sessionEvents(f.broker.published(), "s1"), sessionEvents(f.broker.published(), "s2")

			n, err := f.db.PruneEvents(t.Context(), start.Add(90*time.Second))
			if err != nil || n != 2 {
				t.Fatalf("pruned %d, %v; want s1's two older events (s2's only one is its newest)", n, err)
			}
			if latest, pruned, _ := f.db.EventBounds(t.Context(), "s1"); latest != s1[2].ID || pruned != s1[1].ID {
				t.Fatalf("s1 bounds = %d, %d; want %d, %d", latest, pruned, s1[2].ID, s1[1].ID)
			}
			if latest, pruned, _ := f.db.EventBounds(t.Context(), "s2"); latest != s2[0].ID || pruned != 0 {
				t.Fatalf("s2 bounds = %d, %d; want %d, 0", latest, pruned, s2[0].ID)
			}
			if left, _ := f.db.ListEvents(t.Context(), "s1", 0, 10); len(left) != 1 || left[0].ID != s1[2].ID {
				t.Fatalf("s1 keeps %v", left)
			}

			// However old, each session's newest event stays.
			if n, err := f.db.PruneEvents(t.Context(), start.Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("pruned %d, %v; want nothing", n, err)
			}
			for _, e := range []api.Event{s1[2], s2[0]} {
				if left, _ := f.db.ListEvents(t.Context(), e.SessionID, 0, 10); len(left) != 1 || left[0].ID != e.ID {
					t.Fatalf("%s keeps %v, want its newest event %d", e.SessionID, left, e.ID)
				}
			}
			// A session that empties its log still reports where it stands.
			if latest, pruned, _ := f.db.EventBounds(t.Context(), "s1"); latest != s1[2].ID || pruned != s1[1].ID {
				t.Fatalf("s1 bounds = %d, %d after a second prune", latest, pruned)
			}
		})
	})
}

func TestConcurrentWritesToOneSession(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		t.Run("EventChainHasNoGaps", func(t *testing.T) {
			f := newFixture(t, engine)
			f.join(t, "s1", "pw", kdf(1))
			f.join(t, "s2", "pw", kdf(1))
			const workers, rounds = 8, 5
			items := make([]*api.Content, workers*rounds)
			for i := range items {
				items[i] = newItem(t, "s1", itemID(i+1), 1)
			}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for r := range rounds {
						if err := f.db.CreateContent(t.Context(), items[w*rounds+r], roomyLimits); err != nil {
							t.Errorf("create: %v", err)
						}
						for _, sid := range []string{"s1", "s2"} {
							if _, err := f.db.JoinSession(t.Context(), api.JoinInput{SessionID: sid, ClientName: "w", Fingerprint: fingerprint(sid, "pw")}); err != nil {
								t.Errorf("join %s: %v", sid, err)
							}
						}
					}
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for sid, n := range map[string]int{"s1": 1 + 2*workers*rounds, "s2": 1 + workers*rounds} {
				logged, err := f.db.ListEvents(t.Context(), sid, 0, 1000)
				if err != nil || len(logged) != n {
					t.Fatalf("%s logged %d events, %v; want %d", sid, len(logged), err, n)
				}
				// Each event's Prev was read when it was recorded: it is the one before it in
				// the log only if ids were committed in id order. Published in id order, they
				// are the log itself.
				published := sessionEvents(f.broker.published(), sid)
				checkChain(t, published, 0)
				checkSameEvents(t, published, logged)
			}
		})
		for _, tc := range []struct {
			name   string
			limits func(size int64) api.ContentLimits
		}{
			{"ItemQuotaHolds", func(int64) api.ContentLimits {
				return api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 40, SessionQuotaBytes: 1 << 40, SessionMaxItems: 3}
			}},
			{"ByteQuotaHolds", func(size int64) api.ContentLimits {
				return api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 40, SessionQuotaBytes: 3*size + size/2, SessionMaxItems: 1000}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t, engine)
				f.join(t, "s1", "pw", kdf(1))
				limits := tc.limits(newItem(t, "s1", itemID(1), 2).TotalSize)
				errs := make([]error, 12)
				var wg sync.WaitGroup
				for i := range errs {
					c := newItem(t, "s1", itemID(i+1), 2)
					wg.Go(func() { errs[i] = f.db.CreateContent(t.Context(), c, limits) })
				}
				wg.Wait()
				accepted := countAccepted(t, errs)
				items := f.listAll(t, "s1", api.NewestFirst, 100)
				created := slices.DeleteFunc(eventTypes(f.broker.published()), func(typ string) bool { return typ != api.EventContentCreated })
				if accepted != 3 || len(items) != 3 || len(created) != 3 {
					t.Fatalf("%d accepted, %d stored, %d announced; want 3 each", accepted, len(items), len(created))
				}
			})
		}
	})
}

// countAccepted counts the creations that succeeded; any failure but a refused quota fails
// the test.
func countAccepted(t *testing.T, errs []error) int {
	t.Helper()
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case api.ErrorCode(err) != api.EQUOTAEXCEEDED:
			t.Fatalf("create: %v", err)
		}
	}
	return accepted
}
