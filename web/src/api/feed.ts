// The decisions of the event subscription, as pure functions so they can be tested without a
// browser: when to reconnect and after how long, when to give up on streams and long-poll
// instead, when to try a stream again, and which events to pass on. events.ts carries the
// commands out with EventSource, fetch and timers.

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'offline'

export interface FeedOptions {
  /** Consecutive stream attempts that deliver nothing before switching to long polls. */
  maxStreamFailures: number
  /** While polling, how often a stream is tried again. */
  streamRetryMs: number
  minDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = {
  maxStreamFailures: 3,
  streamRetryMs: 60_000,
  minDelayMs: 1_000,
  maxDelayMs: 15_000,
}

export interface Feed {
  mode: 'stream' | 'poll'
  state: FeedState
  /** Stream attempts in a row that failed without delivering anything (or staying up). */
  failures: number
  /** Long polls in a row that failed. */
  pollFailures: number
  /** While polling: a stream is being tried; polling goes on until it opens. */
  probing: boolean
  online: boolean
}

export type FeedInput =
  | { type: 'start'; online: boolean }
  | { type: 'opened' } // the stream (or a probe) answered 200 text/event-stream
  | { type: 'delivered' } // the stream passed on an event
  | { type: 'failed'; healthy: boolean } // the stream errored or ended; healthy: it had been up a while
  | { type: 'openTimeout' } // no stream opened within openTimeoutMs
  | { type: 'pollOk' }
  | { type: 'pollFailed'; retryAfterMs?: number }
  | { type: 'probeTimer' } // time to try a stream again while polling
  | { type: 'offline' }
  | { type: 'online' }

export type FeedCommand =
  | { do: 'openStream'; afterMs: number } // (re)open the stream after a delay, arming the open timeout
  | { do: 'closeStream' }
  | { do: 'poll'; afterMs: number } // run the next long poll after a delay
  | { do: 'stopPolling' }
  | { do: 'probeLater'; afterMs: number } // deliver probeTimer after a delay

export interface Step {
  feed: Feed
  commands: FeedCommand[]
}

export function initialFeed(): Feed {
  return { mode: 'stream', state: 'connecting', failures: 0, pollFailures: 0, probing: false, online: true }
}

/** Backoff before attempt n+1 after n failures: 1 s, 2 s, 4 s … capped at 15 s (no jitter). */
export function backoffMs(failures: number, o: FeedOptions = DEFAULT_FEED_OPTIONS): number {
  if (failures <= 0) return 0
  return Math.min(o.maxDelayMs, o.minDelayMs * 2 ** Math.min(failures - 1, 20))
}

/** The next state and what to do, for one input. */
export function stepFeed(f: Feed, input: FeedInput, o: FeedOptions = DEFAULT_FEED_OPTIONS): Step {
  switch (input.type) {
    case 'start':
      if (!input.online) return { feed: { ...initialFeed(), online: false, state: 'offline' }, commands: [] }
      return { feed: initialFeed(), commands: [{ do: 'openStream', afterMs: 0 }] }
    case 'opened':
      return opened(f, o)
    case 'delivered':
      return { feed: { ...f, failures: 0, state: f.mode === 'stream' ? 'live' : f.state }, commands: [] }
    case 'failed':
    case 'openTimeout':
      return streamFailed(f, input, o)
    case 'pollOk':
      if (f.mode !== 'poll') return { feed: f, commands: [] }
      return { feed: { ...f, pollFailures: 0, state: 'polling' }, commands: [{ do: 'poll', afterMs: 0 }] }
    case 'pollFailed':
      return pollFailed(f, input.retryAfterMs ?? 0, o)
    case 'probeTimer':
      if (f.mode !== 'poll' || f.probing || !f.online) return { feed: f, commands: [] }
      return { feed: { ...f, probing: true }, commands: [{ do: 'openStream', afterMs: 0 }] }
    case 'offline':
      return {
        feed: { ...f, online: false, probing: false, state: 'offline' },
        commands: [{ do: 'closeStream' }, { do: 'stopPolling' }],
      }
    case 'online':
      // A changed network leaves old connections dead or useless: start over with a stream.
      return {
        feed: { ...initialFeed(), online: true },
        commands: [{ do: 'stopPolling' }, { do: 'closeStream' }, { do: 'openStream', afterMs: 0 }],
      }
  }
}

function opened(f: Feed, o: FeedOptions): Step {
  if (f.mode === 'poll' && f.probing) {
    // A probe got through. Keep a short leash: one more failure without delivering goes back
    // to polling, since a proxy that buffers may let the headers through and nothing after.
    return {
      feed: { ...f, mode: 'stream', probing: false, state: 'live', failures: o.maxStreamFailures - 1, pollFailures: 0 },
      commands: [{ do: 'stopPolling' }],
    }
  }
  if (f.mode !== 'stream') return { feed: f, commands: [] }
  return { feed: { ...f, state: 'live' }, commands: [] }
}

function streamFailed(f: Feed, input: FeedInput, o: FeedOptions): Step {
  if (f.mode === 'poll') {
    // Only a probe's stream can fail while polling; wait for the next try.
    if (!f.probing) return { feed: f, commands: [] }
    return { feed: { ...f, probing: false }, commands: [{ do: 'closeStream' }, { do: 'probeLater', afterMs: o.streamRetryMs }] }
  }
  if (!f.online) return { feed: { ...f, state: 'offline' }, commands: [{ do: 'closeStream' }] }
  const healthy = input.type === 'failed' && input.healthy
  const failures = (healthy ? 0 : f.failures) + 1
  if (input.type === 'openTimeout' || failures >= o.maxStreamFailures) return toPolling(f, o)
  return {
    feed: { ...f, failures, state: 'reconnecting' },
    commands: [{ do: 'closeStream' }, { do: 'openStream', afterMs: backoffMs(failures, o) }],
  }
}

function toPolling(f: Feed, o: FeedOptions): Step {
  return {
    feed: { ...f, mode: 'poll', state: 'polling', failures: 0, pollFailures: 0, probing: false },
    commands: [{ do: 'closeStream' }, { do: 'poll', afterMs: 0 }, { do: 'probeLater', afterMs: o.streamRetryMs }],
  }
}

function pollFailed(f: Feed, retryAfterMs: number, o: FeedOptions): Step {
  if (f.mode !== 'poll') return { feed: f, commands: [] }
  if (!f.online) return { feed: { ...f, state: 'offline' }, commands: [] }
  const pollFailures = f.pollFailures + 1
  const afterMs = Math.max(backoffMs(pollFailures, o), retryAfterMs)
  return { feed: { ...f, pollFailures, state: 'reconnecting' }, commands: [{ do: 'poll', afterMs }] }
}

/**
 * The position in the session's event log, and the rule for which events to pass on: an id at
 * or before the position was delivered already (a replay overlapping a long poll, a stream
 * and a probe both delivering), except session.resync, which moves the position to the id it
 * carries, and session.expired, which carries no id.
 */
export class EventCursor {
  constructor(public last: number | null) {}

  /** Whether to deliver an event, advancing the position when it is. id is null for id-less frames. */
  accept(type: string, id: number | null): boolean {
    if (type === 'session.expired') return true
    if (id === null || !Number.isSafeInteger(id) || id < 0) return false
    if (type === 'session.resync') {
      this.last = id
      return true
    }
    if (this.last !== null && id <= this.last) return false
    this.last = id
    return true
  }
}
