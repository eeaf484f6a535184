package main

// The hostile cases of TestHostileInput (hostile_test.go) for request bodies, tus uploads, chunk
// ranges, event positions and HTTP that only a raw connection can send.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tusMeta is an Upload-Metadata header naming a chunk.
func tusMeta(sid, cid, index string) string {
	b64 := base64.StdEncoding.EncodeToString
	return "sessionId " + b64([]byte(sid)) + ",contentId " + b64([]byte(cid)) + ",chunkIndex " + b64([]byte(index))
}

// tusCall is a tus 1.0.0 request to target; body, when not nil, is upload data.
func (h *hostile) tusCall(method, target, token string, body []byte, headers ...string) func(*testing.T) response {
	return func(t *testing.T) response { return h.srv.tus(t, method, target, token, body, headers...) }
}

func (h *hostile) tusCreate(target, token string, headers ...string) func(*testing.T) response {
	return h.tusCall(http.MethodPost, target, token, nil, headers...)
}

// tusCases: creations that a valid request for the open item's chunk 0 would start, and
// requests on the unfinished upload and on ids that are not uploads of the caller's session.
func (h *hostile) tusCases() []hostileCase {
	n := strconv.Itoa(len(h.open.blobs[0]))
	meta := tusMeta("team-alpha", h.open.id, "0")
	create := func(length, meta string) func(*testing.T) response {
		return h.tusCreate(uploadPath, h.alpha, "Upload-Length", length, "Upload-Metadata", meta)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	rest := h.it.blobs[0][1000:]
	patch := func(target, token string, headers ...string) func(*testing.T) response {
		return h.tusCall(http.MethodPatch, target, token, rest, append([]string{"Upload-Offset", "1000"}, headers...)...)
	}
	cases := []hostileCase{
		{"TusUploadLengthMissing", 400, "invalid_request", h.tusCreate(uploadPath, h.alpha, "Upload-Metadata", meta)},
		{"TusUploadLengthNegative", 400, "invalid_request", create("-1", meta)},
		{"TusUploadLengthPlus", 400, "invalid_request", create("+"+n, meta)},
		{"TusUploadLengthOverflow", 400, "invalid_request", create("99999999999999999999", meta)},
		{"TusUploadLengthOverMax", 413, "too_large", create(strconv.Itoa(h.srv.cfg.MaxChunkSize+chunkOverhead+1), meta)},
		{"TusUploadLengthMismatch", 400, "invalid_request", create(strconv.Itoa(len(h.open.blobs[0])+1), meta)},
		{"TusUploadLengthZero", 400, "invalid_request", create("0", meta)},
		{"TusUploadDeferLength", 400, "invalid_request", h.tusCreate(uploadPath, h.alpha, "Upload-Defer-Length", "1", "Upload-Metadata", meta)},
		{"TusMetadataMissing", 400, "invalid_session_id", h.tusCreate(uploadPath, h.alpha, "Upload-Length", n)},
		{"TusMetadataMalformedBase64", 400, "invalid_request", create(n, "sessionId "+b64("team-alpha")+",contentId "+b64(h.open.id)+",chunkIndex !!!")},
		{"TusMetadataMalformedSessionBase64", 400, "invalid_session_id", create(n, "sessionId %%%,contentId "+b64(h.open.id)+",chunkIndex "+b64("0"))},
		{"TusMetadataMissingContentID", 400, "invalid_content_id", create(n, "sessionId "+b64("team-alpha")+",chunkIndex "+b64("0"))},
		{"TusMetadataOtherSession", 403, "forbidden", create(n, tusMeta("Zurich", h.open.id, "0"))},
		{"TusMetadataTraversalSessionID", 400, "invalid_session_id", create(n, tusMeta("../team-alpha", h.open.id, "0"))},
		{"TusMetadataTraversalContentID", 400, "invalid_content_id", create(n, tusMeta("team-alpha", "../../sharethings.db", "0"))},
		{"TusMetadataUppercaseContentID", 400, "invalid_content_id", create(n, tusMeta("team-alpha", strings.ToUpper(h.open.id), "0"))},
		{"TusMetadataUnknownContent", 404, "content_not_found", create(n, tusMeta("team-alpha", newUUID(), "0"))},
		{"TusMetadataIndexOutOfRange", 400, "chunk_out_of_range", create(n, tusMeta("team-alpha", h.open.id, "1"))},
		// tusd's own protocol checks keep tusd's bodies (PROTOCOL §5).
		{"TusResumableMissing", 412, statusOnly, h.call(http.MethodPost, uploadPath, h.alpha, nil, "Upload-Length", n, "Upload-Metadata", meta)},
		{"TusResumableWrongVersion", 412, statusOnly, h.call(http.MethodPost, uploadPath, h.alpha, nil, "Tus-Resumable", "0.2.2", "Upload-Length", n, "Upload-Metadata", meta)},
		{"TusPatchWrongOffset", 409, statusOnly, h.tusCall(http.MethodPatch, h.pending, h.alpha, rest, "Upload-Offset", "5")},
		{"TusPatchNegativeOffset", 400, statusOnly, h.tusCall(http.MethodPatch, h.pending, h.alpha, rest, "Upload-Offset", "-1")},
		{"TusPatchWrongContentType", 400, statusOnly, patch(h.pending, h.alpha, "Content-Type", "application/json")},
		// A body that runs past the upload's end is refused before tusd reads it: tusd would
		// create the upload, or store what fits and record the chunk, and only then answer 413.
		{"TusPatchOverLength", 413, "too_large", h.tusCall(http.MethodPatch, h.pending, h.alpha, slices.Concat(rest, make([]byte, 10)), "Upload-Offset", "1000")},
		{"TusCreateBodyOverLength", 413, "too_large", h.tusCall(http.MethodPost, uploadPath, h.alpha, slices.Concat(h.open.blobs[0], make([]byte, 10)), "Upload-Length", n, "Upload-Metadata", meta)},
		{"TusCreateChunkedBody", 400, "invalid_request", h.unsized(http.MethodPost, uploadPath, slices.Concat(h.open.blobs[0], make([]byte, 10)), "Upload-Length", n, "Upload-Metadata", meta)},
		{"TusPatchChunkedBody", 400, "invalid_request", h.unsized(http.MethodPatch, h.pending, slices.Concat(rest, make([]byte, 10)), "Upload-Offset", "1000")},
		{"TusHeadUnknownUpload", 404, statusOnly, h.tusCall(http.MethodHead, uploadPath+"team-alpha/"+h.it.id+"/0-0123456789abcdef", h.alpha, nil)},

		{"TusDelete", 405, "method_not_allowed", h.tusCall(http.MethodDelete, h.pending, h.alpha, nil)},
		{"TusOverrideDelete", 405, "method_not_allowed", h.tusCall(http.MethodPost, h.pending, h.alpha, nil, "X-HTTP-Method-Override", "DELETE")},
		{"TusOverrideLowercaseDelete", 405, "method_not_allowed", patch(h.pending, h.alpha, "X-HTTP-Method-Override", "delete")},
		{"TusOverrideDeleteOnCreationURL", 405, "method_not_allowed", h.tusCreate(uploadPath, h.alpha, "Upload-Length", n, "Upload-Metadata", meta, "X-HTTP-Method-Override", "DELETE")},
		{"TusGetUpload", 405, "method_not_allowed", h.tusCall(http.MethodGet, h.pending, h.alpha, nil)},
		{"TusPostOnUploadURL", 405, "method_not_allowed", h.tusCreate(h.pending, h.alpha, "Upload-Length", n, "Upload-Metadata", meta)},
		{"TusPutCreationURL", 405, "method_not_allowed", h.tusCall(http.MethodPut, uploadPath, h.alpha, rest)},

		{"TusHeadOtherSession", 404, headProblem, h.tusCall(http.MethodHead, h.pending, h.zurich, nil)},
		{"TusPatchOtherSession", 404, "not_found", patch(h.pending, h.zurich)},
		{"TusHeadTraversalID", 404, headProblem, h.tusCall(http.MethodHead, uploadPath+"../../sharethings.db", h.alpha, nil)},
		{"TusPatchTraversalID", 404, "not_found", patch(uploadPath+"../../sharethings.db", h.alpha)},
		{"TusPatchEncodedTraversalID", 404, "not_found", patch(uploadPath+"team-alpha%2F..%2F..%2Fsharethings.db", h.alpha)},
		{"TusPatchTraversalInsideID", 404, "not_found", patch(uploadPath+"team-alpha/"+h.it.id+"/../0-0123456789abcdef", h.alpha)},
		{"TusPatchOtherSessionID", 404, "not_found", patch(uploadPath+"Zurich/"+h.it.id+"/0-0123456789abcdef", h.alpha)},
		{"TusPatchLeadingZeroIndexID", 404, "not_found", patch(uploadPath+"team-alpha/"+h.it.id+"/00-0123456789abcdef", h.alpha)},
	}
	for _, ix := range []struct{ name, index string }{
		{"Empty", ""}, {"Negative", "-1"}, {"LeadingZero", "01"}, {"Plus", "+1"}, {"Exponent", "1e3"}, {"Huge", "99999999999999999999"},
	} {
		cases = append(cases, hostileCase{"TusMetadataIndex" + ix.name, 400, "invalid_request", create(n, tusMeta("team-alpha", h.open.id, ix.index))})
	}
	return cases
}

// rangeCases: Range headers on the stored chunk 1.
func (h *hostile) rangeCases() []hostileCase {
	chunk := alphaPath + "/contents/" + h.it.id + "/chunks/1"
	blob := h.it.blobs[1]
	unsatisfiable := func(name, spec string) hostileCase {
		return hostileCase{name, 416, "range_not_satisfiable", h.call(http.MethodGet, chunk, h.alpha, nil, "Range", spec)}
	}
	// Several ranges are answered with the whole blob (PROTOCOL §4), whatever they hold.
	whole := func(name, spec string) hostileCase {
		return hostileCase{name, 200, statusOnly, func(t *testing.T) response {
			r := h.srv.request(t, http.MethodGet, chunk, h.alpha, nil, "Range", spec)
			if r.status == 200 && !bytes.Equal(r.body, blob) {
				t.Errorf("Range %q answered %d bytes, want the whole %d-byte blob", spec, len(r.body), len(blob))
			}
			return r
		}}
	}
	return []hostileCase{
		unsatisfiable("RangeInverted", "bytes=5-1"),
		unsatisfiable("RangeBeyondEnd", fmt.Sprintf("bytes=%d-", len(blob))),
		unsatisfiable("RangeFarBeyondEnd", "bytes=999999-1000000"),
		unsatisfiable("RangeGarbageUnit", "lines=1-2"),
		unsatisfiable("RangeNegative", "bytes=--5"),
		unsatisfiable("RangeSuffixZero", "bytes=-0"),
		unsatisfiable("RangeNoDash", "bytes=5"),
		unsatisfiable("RangeEmpty", "bytes="),
		unsatisfiable("RangeOverflow", "bytes=99999999999999999999-"),
		whole("RangeMultiple", "bytes=0-1,5-6"),
		whole("RangeMultipleInverted", "bytes=5-1,0-0"),
	}
}

// eventCases: malformed positions on the stream and the long-poll form.
func (h *hostile) eventCases() []hostileCase {
	events := alphaPath + "/events"
	var cases []hostileCase
	for _, id := range []struct{ name, value string }{
		{"NonNumeric", "abc"}, {"Negative", "-1"}, {"Huge", "99999999999999999999"}, {"Plus", "+1"},
		{"Decimal", "1.5"}, {"FullwidthDigit", "１"},
	} {
		cases = append(cases,
			hostileCase{"LastEventID" + id.name, 400, "invalid_request", h.call(http.MethodGet, events, h.alpha, nil, "Last-Event-ID", id.value)},
			hostileCase{"LastEventIDQuery" + id.name, 400, "invalid_request", h.call(http.MethodGet, events+"?lastEventId="+urlQuery(id.value), h.alpha, nil)})
	}
	poll := func(name, query string) hostileCase {
		return hostileCase{name, 400, "invalid_request", h.call(http.MethodGet, events+"?"+query, h.alpha, nil)}
	}
	return append(cases,
		hostileCase{"LastEventIDHeaderWins", 400, "invalid_request", h.call(http.MethodGet, events+"?lastEventId=0", h.alpha, nil, "Last-Event-ID", "abc")},
		poll("PollWithoutAfter", "poll=1"),
		poll("PollAfterEmpty", "poll=1&after="),
		poll("PollAfterNegative", "poll=1&after=-1"),
		poll("PollAfterNonNumeric", "poll=1&after=abc"),
		poll("PollAfterHuge", "poll=1&after=99999999999999999999"),
		poll("PollAfterPlus", "poll=1&after=%2B1"),
		poll("PollNotOne", "poll=2&after=0"),
	)
}

func urlQuery(s string) string { return strings.NewReplacer("+", "%2B", "１", "%EF%BC%91").Replace(s) }

// rawCases: requests an HTTP client library would not send. Where net/http refuses the
// request itself, before any handler, only its status is asserted.
func (h *hostile) rawCases() []hostileCase {
	auth := "Authorization: Bearer " + h.alpha + "\r\n"
	end := "Host: sharethings\r\nConnection: close\r\n\r\n"
	join := `{"clientName":"mallory","fingerprint":` + string(h.v[0].Fingerprint) + `}`
	post := "POST " + alphaPath + "/join HTTP/1.1\r\nContent-Type: application/json\r\n"
	return []hostileCase{
		{"RawUTF8SessionID", 400, "invalid_session_id", h.raw("GET /api/v1/sessions/Zürich HTTP/1.1\r\n"+end, false)},
		{"RawRTLOverrideChunkIndex", 400, "invalid_request", h.raw("GET "+alphaPath+"/contents/"+h.it.id+"/chunks/1\u202e HTTP/1.1\r\n"+auth+end, false)},
		{"RawNULInRequestLine", 400, statusOnly, h.raw("GET /api/v1/sessions/team\x00alpha HTTP/1.1\r\n"+end, false)},
		{"RawConflictingContentLength", 400, statusOnly, h.raw(post+"Content-Length: 2\r\nContent-Length: 3\r\n"+end+"{}", false)},
		{"RawTruncatedJoinBody", 400, "invalid_request", h.raw(post+"Content-Length: 500\r\n"+end+join[:len(join)/2], true)},
		{"RawHugeHeader", 431, statusOnly, h.raw("GET /api/v1/config HTTP/1.1\r\nX-Pad: "+strings.Repeat("a", 2<<20)+"\r\n"+end, false)},
		{"RawBadChunkedJoinBody", 400, "invalid_request", h.raw(post+"Transfer-Encoding: chunked\r\n"+end+"zz\r\n"+join+"\r\n0\r\n\r\n", false)},
	}
}

// raw writes request on a new connection, closing the sending side after it when halfClose
// (so a short body ends), and reads the answer.
func (h *hostile) raw(request string, halfClose bool) func(*testing.T) response {
	return func(t *testing.T) response {
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		if halfClose {
			conn.(*net.TCPConn).CloseWrite()
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: body}
	}
}

// bodyCases: malformed, oversized and mistyped JSON on join, announce and patch, and bad list
// queries.
func (h *hostile) bodyCases() []hostileCase {
	fp := string(h.v[0].Fingerprint)
	newFP := `{"iv":"U7UcA9PSI8SE9xql","data":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}` // 23 bytes: new-one + tag
	join := func(body string) func(*testing.T) response {
		return h.callJSON(http.MethodPost, alphaPath+"/join", "", body)
	}
	create := func(kdf string) func(*testing.T) response {
		return h.callJSON(http.MethodPost, "/api/v1/sessions/new-one/join", "", `{"clientName":"mallory","fingerprint":`+newFP+`,"kdf":`+kdf+`}`)
	}
	kdf := func(alg, iterations, salt string) string {
		return `{"alg":"` + alg + `","iterations":` + iterations + `,"salt":"` + salt + `"}`
	}
	const salt = "ByZFZIOiweD/Hj1ce5q52A=="
	named := func(name string) string { return `{"clientName":` + name + `,"fingerprint":` + fp + `}` }
	pad := `"pad":"` + strings.Repeat("x", 64<<10) + `"`
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	announce := func(edit func(map[string]any)) func(*testing.T) response {
		b := maps.Clone(h.fresh)
		edit(b)
		raw, _ := json.Marshal(b)
		return h.call(http.MethodPost, alphaPath+"/contents", h.alpha, raw, "Content-Type", "application/json")
	}
	item := alphaPath + "/contents/" + h.it.id
	patch := func(body string) func(*testing.T) response { return h.callJSON(http.MethodPatch, item, h.alpha, body) }
	freshJSON, _ := json.Marshal(h.fresh)
	list := func(q string) func(*testing.T) response {
		return h.call(http.MethodGet, alphaPath+"/contents?"+q, h.alpha, nil)
	}
	bad := func(name string, send func(*testing.T) response) hostileCase {
		return hostileCase{name, 400, "invalid_request", send}
	}
	return []hostileCase{
		bad("JoinMalformedJSON", join(`{"clientName":`)),
		bad("JoinEmptyBody", join(``)),
		bad("JoinNull", join(`null`)),
		bad("JoinArray", join(`[]`)),
		bad("JoinTrailingData", join(named(`"mallory"`)+` {}`)),
		bad("JoinHugeJSON", join(`{"clientName":"mallory","fingerprint":`+fp+`,`+pad+`}`)),
		bad("JoinDeepNesting", join(`{"clientName":"mallory","pad":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`)),
		bad("JoinClientNameWrongType", join(named(`5`))),
		bad("JoinFingerprintWrongType", join(`{"clientName":"mallory","fingerprint":"abc"}`)),
		bad("JoinMissingClientName", join(`{"fingerprint":`+fp+`}`)),
		bad("JoinBlankClientName", join(named(`"   "`))),
		bad("JoinClientNameControlChar", join(named(`"a\u001bb"`))),
		bad("JoinClientNameNUL", join(named(`"a\u0000b"`))),
		bad("JoinClientName65", join(named(`"`+strings.Repeat("é", 65)+`"`))),
		bad("JoinTextPlain", h.call(http.MethodPost, alphaPath+"/join", "", []byte(named(`"mallory"`)), "Content-Type", "text/plain")),
		bad("JoinNoContentType", h.call(http.MethodPost, alphaPath+"/join", "", []byte(named(`"mallory"`)))),
		bad("JoinFingerprintIVWrongLength", join(`{"clientName":"mallory","fingerprint":{"iv":"AAAA","data":"C10xaqUxvGwWFmwGhmcxdaSjX4o/cgoZ+QY="}}`)),
		bad("JoinFingerprintDataWrongLength", join(`{"clientName":"mallory","fingerprint":{"iv":"0u5eP0IgmNofZjw4","data":"AAAA"}}`)),
		bad("JoinKDFIterationsOverflow", create(kdf("PBKDF2-SHA256", "1e30", salt))),
		{"JoinKDFUnknownAlg", 400, "unsupported_kdf", create(kdf("scrypt", "1000", salt))},
		{"JoinKDFAlgCase", 400, "unsupported_kdf", create(kdf("pbkdf2-sha256", "1000", salt))},
		{"JoinKDFSaltWrongLength", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "1000", b64(15)))},
		{"JoinKDFSaltLong", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "1000", b64(17)))},
		{"JoinKDFIterationsZero", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "0", salt))},
		{"JoinKDFIterationsNegative", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "-1", salt))},
		{"JoinKDFIterationsBelowMin", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "999", salt))},
		{"JoinKDFIterationsOverMax", 400, "unsupported_kdf", create(kdf("PBKDF2-SHA256", "10000001", salt))},
		{"JoinWrongPassphrase", 401, "fingerprint_mismatch", join(`{"clientName":"mallory","fingerprint":` + string(h.v[2].Fingerprint) + `}`)},
		{"JoinKDFDiffers", 409, "session_exists", join(`{"clientName":"mallory","fingerprint":` + fp + `,"kdf":` + string(h.v[2].KDF) + `}`)},
		{"JoinUnknownSessionWithoutKDF", 404, "session_not_found", h.callJSON(http.MethodPost, "/api/v1/sessions/new-one/join", "", `{"clientName":"mallory","fingerprint":`+newFP+`}`)},

		bad("AnnounceMalformedJSON", h.callJSON(http.MethodPost, alphaPath+"/contents", h.alpha, `{"contentId":`)),
		bad("AnnounceHugeJSON", h.callJSON(http.MethodPost, alphaPath+"/contents", h.alpha, strings.TrimSuffix(string(freshJSON), "}")+`,`+pad+`}`)),
		bad("AnnounceTextPlain", h.call(http.MethodPost, alphaPath+"/contents", h.alpha, freshJSON, "Content-Type", "text/plain")),
		bad("AnnounceTotalChunksWrongType", announce(func(b map[string]any) { b["totalChunks"] = "1" })),
		bad("AnnounceTotalSizeOverflow", announce(func(b map[string]any) { b["totalSize"] = json.Number("100000000000000000000") })),
		bad("AnnounceCountsDisagree", announce(func(b map[string]any) { b["totalChunks"] = 2 })),
		bad("AnnounceMetadataIVWrongLength", announce(func(b map[string]any) { b["metadata"] = map[string]any{"iv": b64(8), "data": b64(40)} })),
		bad("AnnounceMetadataOver16KiB", announce(func(b map[string]any) { b["metadata"] = map[string]any{"iv": b64(12), "data": b64(16<<10 + 1)} })),
		bad("AnnounceMetadataNotBase64", announce(func(b map[string]any) { b["metadata"] = map[string]any{"iv": "!!!!!!!!!!!!!!!!", "data": b64(40)} })),
		bad("AnnounceMetadataMissing", announce(func(b map[string]any) { delete(b, "metadata") })),
		{"AnnounceContentIDUppercase", 400, "invalid_content_id", announce(func(b map[string]any) { b["contentId"] = strings.ToUpper(hostileItemID) })},
		{"AnnounceContentIDTraversal", 400, "invalid_content_id", announce(func(b map[string]any) { b["contentId"] = "../../../etc/passwd" })},
		{"AnnounceContentID37", 400, "invalid_content_id", announce(func(b map[string]any) { b["contentId"] = hostileOpenID + "0" })},
		{"AnnounceDuplicate", 409, "conflict", h.call(http.MethodPost, alphaPath+"/contents", h.alpha, mustJSON(h.it.announceBody()), "Content-Type", "application/json")},

		bad("PatchMalformedJSON", patch(`{"pinned":`)),
		bad("PatchEmptyObject", patch(`{}`)),
		bad("PatchNullPinned", patch(`{"pinned":null}`)),
		bad("PatchPinnedWrongType", patch(`{"pinned":"yes"}`)),
		bad("PatchMetadataIVWrongLength", patch(`{"metadata":{"iv":"`+b64(16)+`","data":"`+b64(40)+`"}}`)),
		bad("PatchMetadataOver16KiB", patch(`{"metadata":{"iv":"`+b64(12)+`","data":"`+b64(16<<10+1)+`"}}`)),
		bad("PatchHugeJSON", patch(`{"pinned":true,`+pad+`}`)),
		bad("PatchTextPlain", h.call(http.MethodPatch, item, h.alpha, []byte(`{"pinned":true}`), "Content-Type", "text/plain")),
		{"PatchUnknownContent", 404, "content_not_found", h.callJSON(http.MethodPatch, alphaPath+"/contents/"+newUUID(), h.alpha, `{"pinned":true}`)},
		{"DeleteUnknownContent", 404, "content_not_found", h.call(http.MethodDelete, alphaPath+"/contents/"+newUUID(), h.alpha, nil)},

		bad("ListLimitNonNumeric", list("limit=abc")),
		bad("ListLimitZero", list("limit=0")),
		bad("ListLimitNegative", list("limit=-1")),
		bad("ListLimitOverflow", list("limit=99999999999999999999")),
		bad("ListOrderUnknown", list("order=sideways")),
		bad("ListCursorGarbage", list("cursor=bm9wZQ")),
		bad("ListCursorTraversal", list("cursor="+url.QueryEscape("../../sharethings.db"))),

		{"ClientsHead", 405, headProblem, h.call(http.MethodHead, alphaPath+"/clients", h.alpha, nil)},
		{"ConfigDelete", 405, "method_not_allowed", h.call(http.MethodDelete, "/api/v1/config", "", nil)},
		{"JoinPut", 405, "method_not_allowed", h.callJSON(http.MethodPut, alphaPath+"/join", "", named(`"mallory"`))},
		{"UnknownAPIPath", 404, "not_found", h.call(http.MethodPost, "/api/v1/sessions", "", nil)},
	}
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}

// unsized is a tus request whose body is sent chunked, without Content-Length.
func (h *hostile) unsized(method, target string, body []byte, headers ...string) func(*testing.T) response {
	return func(t *testing.T) response {
		if !strings.HasPrefix(target, "http") {
			target = h.srv.url + target
		}
		// A reader of unknown length makes the client send the body chunked.
		req, err := http.NewRequest(method, target, io.MultiReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.alpha)
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return h.srv.send(t, req)
	}
}
