import { describe, expect, it } from 'vitest'
import { ApiClient } from './client'
import { NetworkError, NotJoinedError, ProblemError } from './errors'
import { fakeFetch, fakeJWT, json } from './testing'

const BASE = 'http://server.test'
const T0 = 1_700_000_000 // seconds
const token1 = fakeJWT({ sid: 'team', sub: 'c1', iat: T0, exp: T0 + 3600 })
const token2 = fakeJWT({ sid: 'team', sub: 'c1', iat: T0 + 2800, exp: T0 + 6400 })

const joinAnswer = (token: string) => ({
  token,
  expiresAt: '2023-11-14T23:13:20Z',
  clientId: 'c1',
  session: { sessionId: 'team', kdf: { alg: 'PBKDF2-SHA256', iterations: 600000, salt: 'AAAAAAAAAAAAAAAAAAAAAA==' }, createdAt: '' },
  clients: [],
  lastEventId: 41,
})

function setup(extra: Parameters<typeof fakeFetch>[0] = {}) {
  let now = T0 * 1000
  const f = fakeFetch({
    'POST /api/v1/sessions/team/join': () => json(201, joinAnswer(token1)),
    'POST /api/v1/sessions/team/token': () => json(200, { token: token2, expiresAt: '' }),
    'GET /api/v1/sessions/team/contents': () => json(200, { items: [], nextCursor: null }),
    ...extra,
  })
  const api = new ApiClient({ baseUrl: BASE, fetch: f.fetch, now: () => now })
  return { api, calls: f.calls, setNow: (s: number) => (now = s * 1000) }
}

const fingerprint = { iv: 'aXY=', data: 'ZGF0YQ==' }

describe('ApiClient', () => {
  it('joins, keeps the token and says whether it created the session', async () => {
    const { api, calls } = setup()
    const res = await api.join('team', { clientName: 'Ann', fingerprint })
    expect(res.created).toBe(true)
    expect(res.lastEventId).toBe(41)
    expect(api.token()).toBe(token1)
    expect(api.sessionId).toBe('team')
    expect(JSON.parse(calls[0].body)).toEqual({ clientName: 'Ann', fingerprint })
    expect(calls[0].headers.get('Authorization')).toBeNull()
  })

  it('sends the bearer token and list options', async () => {
    const { api, calls } = setup()
    await api.join('team', { clientName: 'Ann', fingerprint })
    const page = await api.list({ limit: 10, order: 'oldest' })
    expect(page).toEqual({ items: [], nextCursor: null })
    const req = calls[1]
    expect(req.headers.get('Authorization')).toBe(`Bearer ${token1}`)
    expect(new URL(req.url).search).toBe('?limit=10&order=oldest')
  })

  it('refreshes a token three quarters through its life, once for concurrent calls', async () => {
    const { api, calls, setNow } = setup()
    await api.join('team', { clientName: 'Ann', fingerprint })
    setNow(T0 + 2699)
    await api.list()
    expect(calls.filter((c) => c.url.endsWith('/token'))).toHaveLength(0)
    setNow(T0 + 2700)
    await Promise.all([api.list(), api.list(), api.list()])
    const refreshes = calls.filter((c) => c.url.endsWith('/token'))
    expect(refreshes).toHaveLength(1)
    expect(refreshes[0].headers.get('Authorization')).toBe(`Bearer ${token1}`)
    expect(api.token()).toBe(token2)
    expect(calls.at(-1)!.headers.get('Authorization')).toBe(`Bearer ${token2}`)
  })

  it('a refused refresh is not asked again; calls go on with the old token', async () => {
    const { api, calls, setNow } = setup({
      'POST /api/v1/sessions/team/token': () => json(401, { code: 'client_left', title: 'Unauthorized', detail: 'left' }),
    })
    await api.join('team', { clientName: 'Ann', fingerprint })
    setNow(T0 + 3000)
    await api.list()
    await api.list()
    expect(calls.filter((c) => c.url.endsWith('/token'))).toHaveLength(1)
    expect(calls.at(-1)!.headers.get('Authorization')).toBe(`Bearer ${token1}`)
    await expect(api.refresh()).rejects.toMatchObject({ code: 'client_left', status: 401 })
  })

  it('turns problem answers into ProblemError', async () => {
    const { api } = setup({
      'GET /api/v1/sessions/nope': () => json(404, { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no such session', code: 'session_not_found' }),
    })
    const err = await api.session('nope').catch((e) => e)
    expect(err).toBeInstanceOf(ProblemError)
    expect(err).toMatchObject({ status: 404, code: 'session_not_found', detail: 'no such session' })
  })

  it('reads Retry-After of a refused join', async () => {
    const { api } = setup({
      'POST /api/v1/sessions/team/join': () => json(429, { code: 'rate_limited', title: 'Too Many Requests' }, { 'Retry-After': '12' }),
    })
    await expect(api.join('team', { clientName: 'Ann', fingerprint })).rejects.toMatchObject({ code: 'rate_limited', retryAfter: 12 })
  })

  it('turns fetch failures into NetworkError', async () => {
    const { api } = setup({
      'GET /api/v1/config': () => {
        throw new TypeError('Failed to fetch')
      },
    })
    const err = await api.config().catch((e) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect(err.cause).toBeInstanceOf(TypeError)
  })

  it('remembers the upload URL the server names', async () => {
    const { api } = setup({
      'POST /api/v1/sessions/team/contents': () => json(201, { item: {}, uploadUrl: '/api/v1/uploads/' }),
      'GET /api/v1/config': () => json(200, { uploadPath: '/tus/' }),
    })
    await api.join('team', { clientName: 'Ann', fingerprint })
    expect(api.uploadEndpoint()).toBe(`${BASE}/api/v1/uploads/`)
    await api.config()
    expect(api.uploadEndpoint()).toBe(`${BASE}/tus/`)
    await api.announce({ contentId: 'x', totalChunks: 1, totalSize: 28, chunkSize: 65536, metadata: fingerprint })
    expect(api.uploadEndpoint()).toBe(`${BASE}/api/v1/uploads/`)
  })

  it('builds chunk URLs with escaped ids', async () => {
    const { api } = setup()
    await api.join('team', { clientName: 'Ann', fingerprint })
    expect(api.chunkUrl('c-1', 3)).toBe(`${BASE}/api/v1/sessions/team/contents/c-1/chunks/3`)
  })

  it('needs a join before authenticated calls, and none after leave', async () => {
    const { api } = setup({ 'POST /api/v1/sessions/team/leave': () => new Response(null, { status: 204 }) })
    await expect(api.list()).rejects.toBeInstanceOf(NotJoinedError)
    await api.join('team', { clientName: 'Ann', fingerprint })
    await api.leave()
    expect(api.token()).toBeNull()
    await expect(api.clients()).rejects.toBeInstanceOf(NotJoinedError)
  })
})

describe('URLs', () => {
  it('keeps a base path prefix', () => {
    const api = new ApiClient({ baseUrl: 'http://h.test/share/' })
    expect(api.absoluteUrl('/api/v1/uploads/')).toBe('http://h.test/share/api/v1/uploads/')
    expect(api.url('/api/v1/config')).toBe('http://h.test/share/api/v1/config')
    expect(api.absoluteUrl('https://elsewhere.test/x')).toBe('https://elsewhere.test/x')
  })
})
