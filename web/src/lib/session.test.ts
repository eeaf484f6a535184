import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { KDF, SessionKeys } from '../crypto'
import { ApiClient } from '../api/client'
import { fakeFetch, fakeJWT, json } from '../api/testing'

// The real derivation runs in a Web Worker; here it only records what it was asked.
const derived: { sid: string; pass: string; kdf: KDF }[] = []
let remembered: SessionKeys | null = null
const events: string[] = []

function keysFor(sid: string, pass: string): SessionKeys {
  return {
    sessionId: sid,
    fingerprint: async () => ({ iv: 'aXY=', data: btoa(pass) }),
    sealMeta: async () => ({ iv: '', data: '' }),
    openMeta: async () => { throw new Error('unused') },
    sealChunk: async () => new Uint8Array(),
    openChunk: async () => new Uint8Array(),
    remember: async () => (events.push('remember'), true),
    forget: async () => void events.push('forget'),
    close: () => void events.push('close'),
  }
}

vi.mock('../crypto', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../crypto')>()),
  newKDF: (): KDF => ({ alg: 'PBKDF2-SHA256', iterations: 600000, salt: 'bmV3c2FsdG5ld3NhbHQxMg==' }),
  deriveKeys: async (sid: string, pass: string, kdf: KDF) => {
    derived.push({ sid, pass, kdf })
    return keysFor(sid, pass)
  },
  rememberedKeys: async () => remembered,
}))

const { joinSession, rejoinRemembered } = await import('./session')

const stored = { sessionId: 'team', kdf: { alg: 'PBKDF2-SHA256', iterations: 200000, salt: 'c3RvcmVkc2FsdHN0b3JlZA==' }, createdAt: '' }
const answer = (status: number) => () =>
  json(status, { token: fakeJWT({ iat: 1, exp: 2 ** 40 }), clientId: 'c', clients: [], lastEventId: 7, session: stored, expiresAt: '' })

beforeEach(() => {
  derived.length = 0
  events.length = 0
  remembered = null
})

describe('joinSession', () => {
  it('creates a new session with fresh kdf parameters', async () => {
    const f = fakeFetch({
      'GET /api/v1/sessions/team': () => json(404, { code: 'session_not_found', title: 'Not Found' }),
      'POST /api/v1/sessions/team/join': answer(201),
    })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    const r = await joinSession(api, { sessionId: 'team', clientName: 'Ann', passphrase: 'pw', remember: true })
    expect(r.created).toBe(true)
    expect(derived[0].kdf.salt).toBe('bmV3c2FsdG5ld3NhbHQxMg==')
    const body = JSON.parse(f.calls[1].body)
    expect(body.kdf).toEqual(derived[0].kdf)
    expect(body.fingerprint).toEqual({ iv: 'aXY=', data: btoa('pw') })
    expect(events).toEqual(['remember'])
  })

  it('joins an existing session with its stored parameters and sends no kdf', async () => {
    const f = fakeFetch({
      'GET /api/v1/sessions/team': () => json(200, stored),
      'POST /api/v1/sessions/team/join': answer(200),
    })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    const r = await joinSession(api, { sessionId: 'team', clientName: 'Ann', passphrase: 'pw' })
    expect(r.created).toBe(false)
    expect(r.join.lastEventId).toBe(7)
    expect(derived[0].kdf).toEqual(stored.kdf)
    expect(JSON.parse(f.calls[1].body).kdf).toBeUndefined()
    expect(events).toEqual([])
  })

  it('looks again when someone else created the session meanwhile', async () => {
    let lookups = 0
    let joins = 0
    const f = fakeFetch({
      'GET /api/v1/sessions/team': () => (lookups++ === 0 ? json(404, { code: 'session_not_found', title: 'x' }) : json(200, stored)),
      'POST /api/v1/sessions/team/join': () => (joins++ === 0 ? json(409, { code: 'session_exists', title: 'x' }) : answer(200)()),
    })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    await joinSession(api, { sessionId: 'team', clientName: 'Ann', passphrase: 'pw' })
    expect(derived.map((d) => d.kdf.iterations)).toEqual([600000, 200000])
    expect(events).toEqual(['close']) // the keys of the lost race were dropped
  })

  it('a wrong passphrase closes the keys and says so', async () => {
    const f = fakeFetch({
      'GET /api/v1/sessions/team': () => json(200, stored),
      'POST /api/v1/sessions/team/join': () => json(401, { code: 'fingerprint_mismatch', title: 'Unauthorized' }),
    })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    await expect(joinSession(api, { sessionId: 'team', clientName: 'Ann', passphrase: 'no' })).rejects.toMatchObject({ code: 'fingerprint_mismatch' })
    expect(events).toEqual(['close'])
  })
})

describe('rejoinRemembered', () => {
  it('is null without remembered keys', async () => {
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: fakeFetch({}).fetch })
    expect(await rejoinRemembered(api, 'team', 'Ann')).toBeNull()
  })

  it('joins with the remembered keys', async () => {
    remembered = keysFor('team', 'pw')
    const f = fakeFetch({ 'POST /api/v1/sessions/team/join': answer(200) })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    const r = await rejoinRemembered(api, 'team', 'Ann')
    expect(r?.keys).toBe(remembered)
    expect(api.sessionId).toBe('team')
  })

  it('forgets keys the session no longer takes', async () => {
    remembered = keysFor('team', 'old')
    const f = fakeFetch({ 'POST /api/v1/sessions/team/join': () => json(401, { code: 'fingerprint_mismatch', title: 'x' }) })
    const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
    expect(await rejoinRemembered(api, 'team', 'Ann')).toBeNull()
    expect(events).toEqual(['forget', 'close'])
  })
})
