import { describe, expect, it } from 'vitest'
import { ApiClient } from './client'
import { downloadChunk } from './download'
import { ChecksumError, ProblemError } from './errors'
import { etagOf, fakeFetch, fakeJWT, json, type Recorded } from './testing'

const BASE = 'http://server.test'
const PATH = '/api/v1/sessions/team/contents/c1/chunks/0'
const blob = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251)
const etag = await etagOf(blob)

/** A body that sends `bytes` and then breaks, like a dropped connection. */
function breakingBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream({
    pull(c) {
      if (sent) return c.error(new TypeError('network connection lost'))
      sent = true
      c.enqueue(bytes)
    },
  })
}

async function joined(route: (req: Recorded) => Response | Promise<Response>) {
  const token = fakeJWT({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 })
  const f = fakeFetch({
    'POST /api/v1/sessions/team/join': () => json(200, { token, clientId: 'c', clients: [], lastEventId: 0, session: {}, expiresAt: '' }),
    [`GET ${PATH}`]: route,
  })
  const api = new ApiClient({ baseUrl: BASE, fetch: f.fetch })
  await api.join('team', { clientName: 'x', fingerprint: { iv: '', data: '' } })
  f.calls.length = 0 // from here on only chunk requests
  return { api, calls: f.calls }
}

describe('downloadChunk', () => {
  it('downloads and checks the ETag', async () => {
    const { api, calls } = await joined(() => new Response(blob, { headers: { ETag: etag, 'Content-Length': String(blob.length) } }))
    const got = new Uint8Array(await downloadChunk(api, 'c1', 0))
    expect(got).toEqual(blob)
    expect(calls[0].headers.get('Authorization')).toMatch(/^Bearer /)
    expect(calls[0].headers.get('Range')).toBeNull()
  })

  it('resumes after a broken connection with Range and If-Range', async () => {
    const progress: number[] = []
    const { api, calls } = await joined((req) => {
      if (!req.headers.get('Range')) {
        return new Response(breakingBody(blob.slice(0, 30_000)), { headers: { ETag: etag, 'Content-Length': String(blob.length) } })
      }
      return new Response(blob.slice(30_000), {
        status: 206,
        headers: { ETag: etag, 'Content-Range': `bytes 30000-${blob.length - 1}/${blob.length}` },
      })
    })
    const got = new Uint8Array(await downloadChunk(api, 'c1', 0, undefined, (n) => progress.push(n)))
    expect(got).toEqual(blob)
    expect(calls).toHaveLength(2)
    expect(calls[1].headers.get('Range')).toBe('bytes=30000-')
    expect(calls[1].headers.get('If-Range')).toBe(etag)
    expect(progress[0]).toBe(30_000)
    expect(progress.at(-1)).toBe(blob.length)
  })

  it('starts over when the server answers a resume with the whole blob', async () => {
    let n = 0
    const { api } = await joined(() =>
      n++ === 0
        ? new Response(breakingBody(blob.slice(0, 10)), { headers: { ETag: etag } })
        : new Response(blob, { headers: { ETag: etag } }),
    )
    expect(new Uint8Array(await downloadChunk(api, 'c1', 0))).toEqual(blob)
  })

  it('refuses bytes that do not match the ETag', async () => {
    const bad = blob.slice()
    bad[5] ^= 1
    const { api } = await joined(() => new Response(bad, { headers: { ETag: etag } }))
    await expect(downloadChunk(api, 'c1', 0)).rejects.toBeInstanceOf(ChecksumError)
  })

  it('refuses a chunk without an ETag', async () => {
    const { api } = await joined(() => new Response(blob))
    await expect(downloadChunk(api, 'c1', 0)).rejects.toBeInstanceOf(ChecksumError)
  })

  it('passes a chunk not stored yet on as not_found, without retrying', async () => {
    const { api, calls } = await joined(() => json(404, { code: 'not_found', title: 'Not Found' }))
    const err = await downloadChunk(api, 'c1', 0).catch((e) => e)
    expect(err).toBeInstanceOf(ProblemError)
    expect(err.code).toBe('not_found')
    expect(calls).toHaveLength(1)
  })

  it('retries a server error', async () => {
    let n = 0
    const { api, calls } = await joined(() =>
      n++ === 0 ? json(503, { code: 'internal', title: 'x' }) : new Response(blob, { headers: { ETag: etag } }),
    )
    expect(new Uint8Array(await downloadChunk(api, 'c1', 0))).toEqual(blob)
    expect(calls).toHaveLength(2)
  })

  it('stops when the signal fires', async () => {
    const { api } = await joined(() => json(503, { code: 'internal', title: 'x' }))
    const ac = new AbortController()
    const p = downloadChunk(api, 'c1', 0, ac.signal)
    ac.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
  })
})
