import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiClient } from './client'
import { subscribe, type EventHandlers } from './events'
import type { FeedState } from './feed'
import { fakeFetch, fakeJWT, json } from './testing'
import type { ApiEvent } from './types'

/** An EventSource the test drives by hand. */
class FakeES {
  static all: FakeES[] = []
  readyState = 0
  closed = false
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  private listeners = new Map<string, ((ev: { lastEventId: string; data: string }) => void)[]>()
  constructor(readonly url: string) {
    FakeES.all.push(this)
  }
  addEventListener(name: string, fn: (ev: { lastEventId: string; data: string }) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn])
  }
  close() {
    this.readyState = 2
    this.closed = true
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  emit(name: string, id: number | null, data: unknown, lastId = id) {
    for (const fn of this.listeners.get(name) ?? []) fn({ lastEventId: lastId === null ? '' : String(lastId), data: JSON.stringify(data) })
  }
  fail(refused = false) {
    this.readyState = refused ? 2 : 0
    this.onerror?.()
  }
  get params() {
    return new URL(this.url).searchParams
  }
}

const latest = () => FakeES.all[FakeES.all.length - 1]

async function setup(routes: Parameters<typeof fakeFetch>[0] = {}) {
  const now = Math.floor(Date.now() / 1000)
  const token = fakeJWT({ iat: now, exp: now + 3600 })
  const f = fakeFetch({
    'POST /api/v1/sessions/team/join': () => json(200, { token, clientId: 'c', clients: [], lastEventId: 41, session: {}, expiresAt: '' }),
    ...routes,
  })
  const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
  await api.join('team', { clientName: 'x', fingerprint: { iv: '', data: '' } })
  const events: ApiEvent[] = []
  const states: FeedState[] = []
  const fatal: Error[] = []
  const h: EventHandlers = { onEvent: (e) => events.push(e), onState: (s) => states.push(s), onFatal: (e) => fatal.push(e) }
  const stop = subscribe(api, 41, h, { EventSource: FakeES as unknown as typeof EventSource })
  await vi.advanceTimersByTimeAsync(0)
  return { api, token, events, states, fatal, stop, calls: f.calls }
}

beforeEach(() => {
  FakeES.all = []
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('subscribe', () => {
  it('opens a stream with the token and the position, and delivers each event once', async () => {
    const s = await setup()
    const es = latest()
    expect(es.params.get('access_token')).toBe(s.token)
    expect(es.params.get('lastEventId')).toBe('41')
    expect(new URL(es.url).pathname).toBe('/api/v1/sessions/team/events')
    es.open()
    es.emit('client.joined', 42, { clientId: 'c', clientName: 'x' })
    es.emit('client.joined', 42, { clientId: 'c', clientName: 'x' })
    es.emit('content.completed', 44, { contentId: 'k' })
    expect(s.events).toEqual([
      { id: 42, type: 'client.joined', data: { clientId: 'c', clientName: 'x' } },
      { id: 44, type: 'content.completed', data: { contentId: 'k' } },
    ])
    expect(s.states).toEqual(['connecting', 'live'])
    s.stop()
    expect(es.closed).toBe(true)
  })

  it('reconnects itself after an error, from the newest id', async () => {
    const s = await setup()
    latest().open()
    latest().emit('content.deleted', 50, { contentId: 'k' })
    latest().fail()
    expect(latest().closed).toBe(true) // not left to reconnect with a stale token
    expect(s.states.at(-1)).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(1_300)
    expect(FakeES.all).toHaveLength(2)
    expect(latest().params.get('lastEventId')).toBe('50')
    latest().open()
    expect(s.states.at(-1)).toBe('live')
    s.stop()
  })

  it('long-polls when no stream opens, and tries a stream again later', async () => {
    let polls = 0
    const s = await setup({
      'GET /api/v1/sessions/team/events': (req) => {
        const q = new URL(req.url).searchParams
        expect(q.get('poll')).toBe('1')
        expect(req.headers.get('Authorization')).toMatch(/^Bearer /)
        polls++
        if (polls === 1) {
          expect(q.get('after')).toBe('41')
          return json(200, { events: [{ id: 43, event: 'content.chunk', data: { contentId: 'k', chunkIndex: 0, size: 28 } }], nextAfter: 43 })
        }
        expect(q.get('after')).toBe('43')
        return json(200, { events: [], nextAfter: 43 })
      },
    })
    await vi.advanceTimersByTimeAsync(8_000)
    expect(latest().closed).toBe(true)
    expect(s.states.at(-1)).toBe('polling')
    await vi.advanceTimersByTimeAsync(100)
    expect(s.events).toEqual([{ id: 43, type: 'content.chunk', data: { contentId: 'k', chunkIndex: 0, size: 28 } }])
    expect(polls).toBeGreaterThanOrEqual(2)
    // A minute later a stream is tried again; when it opens, polling stops.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeES.all).toHaveLength(2)
    expect(latest().params.get('lastEventId')).toBe('43')
    latest().open()
    expect(s.states.at(-1)).toBe('live')
    const before = polls
    await vi.advanceTimersByTimeAsync(10_000)
    expect(polls).toBe(before)
    s.stop()
  })

  it('three failed streams in a row switch to polling', async () => {
    const s = await setup({ 'GET /api/v1/sessions/team/events': () => json(200, { events: [], nextAfter: 41 }) })
    latest().fail()
    await vi.advanceTimersByTimeAsync(1_300)
    latest().fail()
    await vi.advanceTimersByTimeAsync(2_500)
    latest().fail()
    expect(s.states.at(-1)).toBe('polling')
    s.stop()
  })

  it('stops for good when the server refuses the token', async () => {
    const s = await setup({ 'GET /api/v1/sessions/team/clients': () => json(401, { code: 'client_left', title: 'Unauthorized' }) })
    latest().fail(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(s.fatal[0]).toMatchObject({ code: 'client_left' })
    expect(s.states.at(-1)).toBe('offline')
    await vi.advanceTimersByTimeAsync(120_000)
    expect(FakeES.all).toHaveLength(1)
  })

  it('a refused stream with a working token is retried', async () => {
    const s = await setup({ 'GET /api/v1/sessions/team/clients': () => json(200, { clients: [] }) })
    latest().fail(true)
    await vi.advanceTimersByTimeAsync(1_300)
    expect(FakeES.all).toHaveLength(2)
    expect(s.fatal).toEqual([])
    s.stop()
  })

  it('passes session.resync on and follows its id; stops after session.expired', async () => {
    const s = await setup()
    latest().open()
    latest().emit('session.resync', 10, {})
    latest().emit('content.created', 11, { contentId: 'k' })
    latest().emit('session.expired', null, {}, 11) // no id: the browser repeats the last one
    expect(s.events.map((e) => `${e.type}@${e.id}`)).toEqual(['session.resync@10', 'content.created@11', 'session.expired@0'])
    expect(latest().closed).toBe(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeES.all).toHaveLength(1)
  })
})
