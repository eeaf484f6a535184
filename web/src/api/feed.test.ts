import { describe, expect, it } from 'vitest'
import { DEFAULT_FEED_OPTIONS, EventCursor, backoffMs, initialFeed, stepFeed, type Feed, type FeedInput, type Step } from './feed'

/** Runs inputs from a fresh started feed and returns every step. */
function run(...inputs: FeedInput[]): Step[] {
  let f: Feed = initialFeed()
  const steps: Step[] = []
  for (const input of [{ type: 'start', online: true } as FeedInput, ...inputs]) {
    const s = stepFeed(f, input)
    steps.push(s)
    f = s.feed
  }
  return steps
}

const last = (steps: Step[]) => steps[steps.length - 1]

describe('stream', () => {
  it('opens at once and goes live', () => {
    const [start, opened] = run({ type: 'opened' })
    expect(start.commands).toEqual([{ do: 'openStream', afterMs: 0 }])
    expect(start.feed.state).toBe('connecting')
    expect(opened.feed.state).toBe('live')
  })

  it('starts offline without trying', () => {
    const s = stepFeed(initialFeed(), { type: 'start', online: false })
    expect(s.feed.state).toBe('offline')
    expect(s.commands).toEqual([])
  })

  it('reconnects with growing backoff', () => {
    const steps = run({ type: 'opened' }, { type: 'failed', healthy: false }, { type: 'failed', healthy: false })
    expect(steps[2].feed.state).toBe('reconnecting')
    expect(steps[2].commands).toContainEqual({ do: 'openStream', afterMs: 1_000 })
    expect(steps[3].commands).toContainEqual({ do: 'openStream', afterMs: 2_000 })
  })

  it('a stream that delivered or stayed up resets the count', () => {
    const a = run({ type: 'failed', healthy: false }, { type: 'opened' }, { type: 'delivered' }, { type: 'failed', healthy: false }, { type: 'failed', healthy: false })
    expect(last(a).feed.mode).toBe('stream')
    const b = run({ type: 'failed', healthy: false }, { type: 'failed', healthy: true }, { type: 'failed', healthy: false })
    expect(last(b).feed.mode).toBe('stream')
    expect(last(b).commands).toContainEqual({ do: 'openStream', afterMs: 2_000 })
  })

  it('three failures in a row without delivering switch to polling', () => {
    const steps = run({ type: 'failed', healthy: false }, { type: 'opened' }, { type: 'failed', healthy: false }, { type: 'failed', healthy: false })
    const s = last(steps)
    expect(s.feed).toMatchObject({ mode: 'poll', state: 'polling' })
    expect(s.commands).toEqual([
      { do: 'closeStream' },
      { do: 'poll', afterMs: 0 },
      { do: 'probeLater', afterMs: DEFAULT_FEED_OPTIONS.streamRetryMs },
    ])
  })

  it('no stream within the open timeout switches to polling at once', () => {
    expect(last(run({ type: 'openTimeout' })).feed).toMatchObject({ mode: 'poll', state: 'polling' })
  })
})

describe('polling', () => {
  const polling = () => run({ type: 'openTimeout' })

  it('polls again right after an answer, backs off after failures', () => {
    let f = last(polling()).feed
    let s = stepFeed(f, { type: 'pollOk' })
    expect(s.commands).toEqual([{ do: 'poll', afterMs: 0 }])
    f = s.feed
    s = stepFeed(f, { type: 'pollFailed' })
    expect(s.feed.state).toBe('reconnecting')
    expect(s.commands).toEqual([{ do: 'poll', afterMs: 1_000 }])
    s = stepFeed(s.feed, { type: 'pollFailed', retryAfterMs: 30_000 })
    expect(s.commands).toEqual([{ do: 'poll', afterMs: 30_000 }])
    s = stepFeed(s.feed, { type: 'pollOk' })
    expect(s.feed).toMatchObject({ state: 'polling', pollFailures: 0 })
  })

  it('tries a stream every minute and switches back when it opens', () => {
    const f = last(polling()).feed
    const probe = stepFeed(f, { type: 'probeTimer' })
    expect(probe.feed.probing).toBe(true)
    expect(probe.feed.state).toBe('polling') // polling goes on meanwhile
    expect(probe.commands).toEqual([{ do: 'openStream', afterMs: 0 }])
    const opened = stepFeed(probe.feed, { type: 'opened' })
    expect(opened.feed).toMatchObject({ mode: 'stream', state: 'live', probing: false })
    expect(opened.commands).toEqual([{ do: 'stopPolling' }])
    // On probation: one failure without delivering goes back to polling.
    expect(stepFeed(opened.feed, { type: 'failed', healthy: false }).feed.mode).toBe('poll')
    // Once it delivered, it is a normal stream again.
    const ok = stepFeed(opened.feed, { type: 'delivered' })
    expect(stepFeed(ok.feed, { type: 'failed', healthy: false }).feed.mode).toBe('stream')
  })

  it('a probe that fails or times out waits for the next try', () => {
    const probe = stepFeed(last(polling()).feed, { type: 'probeTimer' })
    for (const input of [{ type: 'openTimeout' }, { type: 'failed', healthy: false }] as FeedInput[]) {
      const s = stepFeed(probe.feed, input)
      expect(s.feed).toMatchObject({ mode: 'poll', probing: false, state: 'polling' })
      expect(s.commands).toEqual([{ do: 'closeStream' }, { do: 'probeLater', afterMs: 60_000 }])
    }
  })

  it('ignores a probe timer while a probe runs', () => {
    const probe = stepFeed(last(polling()).feed, { type: 'probeTimer' })
    expect(stepFeed(probe.feed, { type: 'probeTimer' }).commands).toEqual([])
  })
})

describe('network', () => {
  it('goes offline and starts over with a stream when back', () => {
    const off = last(run({ type: 'openTimeout' }, { type: 'offline' }))
    expect(off.feed.state).toBe('offline')
    expect(off.commands).toEqual([{ do: 'closeStream' }, { do: 'stopPolling' }])
    expect(stepFeed(off.feed, { type: 'probeTimer' }).commands).toEqual([])
    expect(stepFeed(off.feed, { type: 'failed', healthy: false }).feed.state).toBe('offline')
    const on = stepFeed(off.feed, { type: 'online' })
    expect(on.feed).toMatchObject({ mode: 'stream', state: 'connecting', online: true, failures: 0 })
    expect(on.commands).toContainEqual({ do: 'openStream', afterMs: 0 })
  })
})

describe('backoffMs', () => {
  it('doubles from 1 s to at most 15 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffMs(n))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000])
  })
})

describe('EventCursor', () => {
  it('passes each id once, in order', () => {
    const c = new EventCursor(5)
    expect(c.accept('content.created', 5)).toBe(false)
    expect(c.accept('content.created', 6)).toBe(true)
    expect(c.accept('content.chunk', 6)).toBe(false)
    expect(c.accept('content.chunk', 9)).toBe(true) // gaps are normal
    expect(c.accept('content.chunk', 7)).toBe(false)
    expect(c.last).toBe(9)
  })

  it('without a position takes the first id it sees', () => {
    const c = new EventCursor(null)
    expect(c.accept('client.joined', 42)).toBe(true)
    expect(c.last).toBe(42)
  })

  it('resync moves the position, even backwards', () => {
    const c = new EventCursor(100)
    expect(c.accept('session.resync', 40)).toBe(true)
    expect(c.last).toBe(40)
    expect(c.accept('content.created', 41)).toBe(true)
  })

  it('session.expired has no id and always passes', () => {
    const c = new EventCursor(100)
    expect(c.accept('session.expired', null)).toBe(true)
    expect(c.last).toBe(100)
  })

  it('drops events without a usable id', () => {
    const c = new EventCursor(1)
    expect(c.accept('content.created', null)).toBe(false)
    expect(c.accept('content.created', -3)).toBe(false)
  })
})
