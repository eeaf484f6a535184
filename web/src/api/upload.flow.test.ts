import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client'
import { ApiClient } from './client'
import { ProblemError } from './errors'
import { fakeFetch, fakeJWT, json } from './testing'
import { uploadChunk, type UploadChunkOptions } from './upload'

/** Internal host the server builds Locations with (as behind a proxy); the client must not use it. */
const INTERNAL = 'http://127.0.0.1:8080'

interface Stored {
  length: number
  offset: number
}

type Script = (method: string, url: string, headers: Record<string, string>) => HttpResponse | 'network' | undefined

function response(status: number, headers: Record<string, string> = {}, body = ''): HttpResponse {
  return { getStatus: () => status, getHeader: (h) => headers[h], getBody: () => body, getUnderlyingObject: () => null }
}

const problem = (status: number, body: Record<string, string>) => response(status, { 'Content-Type': 'application/problem+json' }, JSON.stringify(body))

/** A tus 1.0 server in memory, with a script hook to answer some requests differently. */
class FakeTus implements HttpStack {
  uploads = new Map<string, Stored>()
  log: string[] = []
  auth: string[] = []
  script: Script = () => undefined
  private n = 0

  getName() {
    return 'fake'
  }

  createRequest(method: string, url: string): HttpRequest {
    const headers: Record<string, string> = {}
    let aborted = false
    return {
      getMethod: () => method,
      getURL: () => url,
      setHeader: (k, v) => void (headers[k] = v),
      getHeader: (k) => headers[k],
      setProgressHandler: () => undefined,
      abort: async () => void (aborted = true),
      getUnderlyingObject: () => null,
      send: async (body: Blob | null) => {
        await new Promise((r) => setTimeout(r, 1))
        if (aborted) throw new Error('aborted')
        this.log.push(`${method} ${new URL(url).pathname}${method === 'PATCH' ? ` @${headers['Upload-Offset']}+${body?.size ?? 0}` : ''}`)
        this.auth.push(headers.Authorization)
        const scripted = this.script(method, url, headers)
        if (scripted === 'network') throw new Error('connection reset')
        return scripted ?? this.handle(method, url, headers, body)
      },
    }
  }

  private handle(method: string, url: string, h: Record<string, string>, body: Blob | null): HttpResponse {
    const path = new URL(url).pathname
    if (method === 'POST') {
      const id = `/api/v1/uploads/team/c1/0-${(this.n++).toString(16).padStart(16, '0')}`
      this.uploads.set(id, { length: Number(h['Upload-Length']), offset: 0 })
      return response(201, { Location: INTERNAL + id })
    }
    const u = this.uploads.get(path)
    if (!u) return problem(404, { code: 'not_found', title: 'Not Found' })
    if (method === 'HEAD') return response(200, { 'Upload-Offset': String(u.offset), 'Upload-Length': String(u.length) })
    if (Number(h['Upload-Offset']) !== u.offset) return response(409, {}, 'offset mismatch')
    u.offset += body?.size ?? 0
    return response(204, { 'Upload-Offset': String(u.offset) })
  }
}

const blobReader = {
  openFile: async (input: Blob) => ({
    size: input.size,
    slice: async (start: number, end: number) => ({ value: input.slice(start, end), done: end >= input.size }),
    close: () => undefined,
  }),
}

async function setup() {
  const now = Math.floor(Date.now() / 1000)
  const f = fakeFetch({
    'POST /api/v1/sessions/team/join': () => json(200, { token: fakeJWT({ iat: now, exp: now + 3600, n: 1 }), clientId: 'c', clients: [], lastEventId: 0, session: {}, expiresAt: '' }),
  })
  const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
  await api.join('team', { clientName: 'x', fingerprint: { iv: '', data: '' } })
  const tus = new FakeTus()
  const up = (o: Partial<UploadChunkOptions> = {}) =>
    uploadChunk(api, { contentId: 'c1', index: 0, blob: new Uint8Array(100), transport: { httpStack: tus, fileReader: blobReader }, ...o })
  return { api, tus, up }
}

describe('uploadChunk', () => {
  it('creates the upload and sends the blob, with the bearer token', async () => {
    const { api, tus, up } = await setup()
    const progress: number[] = []
    const h = up({ onProgress: (sent) => progress.push(sent) })
    await h.done
    expect(tus.log).toEqual(['POST /api/v1/uploads/', 'PATCH /api/v1/uploads/team/c1/0-0000000000000000 @0+100'])
    expect(tus.auth.every((a) => a === `Bearer ${api.token()}`)).toBe(true)
    expect(h.url).toBe('http://s.test/api/v1/uploads/team/c1/0-0000000000000000')
    expect(h.uploadedOffset).toBe(100)
    expect(progress.at(-1)).toBe(100)
  })

  it('sends PATCHes of patchSize bytes', async () => {
    const { tus, up } = await setup()
    await up({ patchSize: 40 }).done
    expect(tus.log.filter((l) => l.startsWith('PATCH')).map((l) => l.split(' @')[1])).toEqual(['0+40', '40+40', '80+20'])
  })

  it('treats chunk_exists as done', async () => {
    const { tus, up } = await setup()
    tus.script = (m) => (m === 'POST' ? problem(409, { code: 'chunk_exists', title: 'Conflict' }) : undefined)
    await up().done
    expect(tus.log).toEqual(['POST /api/v1/uploads/'])
  })

  it('resumes the unfinished upload named by chunk_in_progress', async () => {
    const { tus, up } = await setup()
    tus.uploads.set('/api/v1/uploads/team/c1/0-00000000000000aa', { length: 100, offset: 60 })
    tus.script = (m) =>
      m === 'POST' ? problem(409, { code: 'chunk_in_progress', title: 'Conflict', uploadUrl: `${INTERNAL}/api/v1/uploads/team/c1/0-00000000000000aa` }) : undefined
    const h = up()
    await h.done
    expect(tus.log).toEqual([
      'POST /api/v1/uploads/',
      'HEAD /api/v1/uploads/team/c1/0-00000000000000aa',
      'PATCH /api/v1/uploads/team/c1/0-00000000000000aa @60+40',
    ])
    expect(h.url).toBe('http://s.test/api/v1/uploads/team/c1/0-00000000000000aa')
  })

  it('retries a broken PATCH from the offset the server confirms', async () => {
    const { tus, up } = await setup()
    let broke = false
    tus.script = (m, url) => {
      if (m === 'PATCH' && !broke) {
        broke = true
        tus.uploads.get(new URL(url).pathname)!.offset = 30 // some bytes landed before the break
        return 'network'
      }
      return undefined
    }
    await up().done
    expect(tus.log.slice(1)).toEqual([
      'PATCH /api/v1/uploads/team/c1/0-0000000000000000 @0+100',
      'HEAD /api/v1/uploads/team/c1/0-0000000000000000',
      'PATCH /api/v1/uploads/team/c1/0-0000000000000000 @30+70',
    ])
  })

  it('passes refusals on as ProblemError without retrying', async () => {
    const { tus, up } = await setup()
    tus.script = () => problem(413, { code: 'quota_exceeded', title: 'Content Too Large', detail: 'session full' })
    const err = await up().done.catch((e) => e)
    expect(err).toBeInstanceOf(ProblemError)
    expect(err.code).toBe('quota_exceeded')
    expect(tus.log).toHaveLength(1)
  })

  it('pause stops, resume continues the same upload', async () => {
    const { tus, up } = await setup()
    const h = up({ patchSize: 10 })
    while (!tus.log.some((l) => l.includes('@20+'))) await new Promise((r) => setTimeout(r, 1))
    h.pause()
    await new Promise((r) => setTimeout(r, 20))
    const stoppedAt = tus.log.length
    await new Promise((r) => setTimeout(r, 20))
    expect(tus.log).toHaveLength(stoppedAt)
    h.resume()
    await h.done
    const after = tus.log.slice(stoppedAt)
    expect(after[0]).toBe('HEAD /api/v1/uploads/team/c1/0-0000000000000000')
    expect(tus.log.filter((l) => l.startsWith('POST'))).toHaveLength(1)
    expect(tus.uploads.get('/api/v1/uploads/team/c1/0-0000000000000000')!.offset).toBe(100)
  })

  it('abort rejects with AbortError', async () => {
    const { up } = await setup()
    const h = up()
    h.abort()
    await expect(h.done).rejects.toMatchObject({ name: 'AbortError' })
  })
})
