// The session's live events (PROTOCOL §6) over the browser's EventSource, falling back to the
// long-poll form where a stream never arrives (a buffering proxy, a captive network). The
// decisions live in feed.ts; this file carries them out with EventSource, fetch and timers.
//
// EventSource cannot send headers, so the token travels as ?access_token=. Its own reconnects
// would reuse the URL's token after a refresh, so every error closes it and we reopen with the
// current token and ?lastEventId= of the last event delivered (the replay then has no gap).
import type { ApiClient } from './client'
import { NotJoinedError, ProblemError } from './errors'
import { DEFAULT_FEED_OPTIONS, EventCursor, initialFeed, stepFeed, type Feed, type FeedCommand, type FeedInput, type FeedOptions, type FeedState } from './feed'
import { refreshAt } from './token'
import { EVENT_NAMES, type ApiEvent } from './types'

export type { FeedState } from './feed'

export interface EventHandlers {
  onEvent(e: ApiEvent): void
  onState(s: FeedState): void
  /**
   * The subscription stopped for good: the server refused the token (token_expired,
   * client_left, unauthorized, forbidden) or the session is gone. Rejoin to continue.
   */
  onFatal?(err: Error): void
}

export interface SubscribeOptions {
  /** A stream that has not opened after this long counts as blocked: long-poll instead. */
  openTimeoutMs?: number
  /** A stream that stayed up this long was fine, whatever ended it. */
  healthyMs?: number
  feed?: Partial<FeedOptions>
  /** EventSource implementation; tests and Node pass one. */
  EventSource?: typeof EventSource
}

/** A poll the server holds ~25 s; one held much longer is stuck in some proxy. */
const POLL_TIMEOUT_MS = 40_000

/**
 * Follows the session's events from lastEventId (the join answer's; null = live only, and the
 * long-poll form then starts from the beginning of the kept log). Returns the unsubscribe
 * function. Events are delivered once each, in id order; session.resync means "refetch the
 * list"; after session.expired the subscription stops by itself.
 */
export function subscribe(api: ApiClient, lastEventId: number | null, handlers: EventHandlers, opts: SubscribeOptions = {}): () => void {
  const sub = new Subscription(api, lastEventId, handlers, opts)
  sub.start()
  return () => sub.stop()
}

class Subscription {
  private feed: Feed = initialFeed()
  private readonly cursor: EventCursor
  private readonly o: FeedOptions
  private readonly openTimeoutMs: number
  private readonly healthyMs: number
  private readonly ES: typeof EventSource | undefined
  private es: EventSource | null = null
  /** Bumped whenever a stream is closed, so late callbacks of old streams are ignored. */
  private gen = 0
  private openedAt = 0
  private pollCtl: AbortController | null = null
  private lastPollEmptyFast = false
  private timers: Record<'stream' | 'open' | 'poll' | 'probe' | 'refresh', ReturnType<typeof setTimeout> | undefined> = {
    stream: undefined, open: undefined, poll: undefined, probe: undefined, refresh: undefined,
  }
  private stopped = false

  constructor(private readonly api: ApiClient, last: number | null, private readonly h: EventHandlers, opts: SubscribeOptions) {
    this.cursor = new EventCursor(last)
    this.o = { ...DEFAULT_FEED_OPTIONS, ...opts.feed }
    this.openTimeoutMs = opts.openTimeoutMs ?? 8_000
    this.healthyMs = opts.healthyMs ?? 30_000
    this.ES = opts.EventSource ?? globalThis.EventSource
  }

  start(): void {
    globalThis.addEventListener?.('online', this.onOnline)
    globalThis.addEventListener?.('offline', this.onOffline)
    this.scheduleRefresh()
    this.dispatch({ type: 'start', online: isOnline() })
    this.h.onState(this.feed.state)
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    globalThis.removeEventListener?.('online', this.onOnline)
    globalThis.removeEventListener?.('offline', this.onOffline)
    this.closeStream()
    this.stopPolling()
    for (const t of Object.values(this.timers)) clearTimeout(t)
  }

  private readonly onOnline = (): void => this.dispatch({ type: 'online' })
  private readonly onOffline = (): void => this.dispatch({ type: 'offline' })

  private dispatch(input: FeedInput): void {
    if (this.stopped) return
    const before = this.feed.state
    const step = stepFeed(this.feed, input, this.o)
    this.feed = step.feed
    for (const c of step.commands) this.run(c)
    if (this.feed.state !== before) this.h.onState(this.feed.state)
  }

  private run(c: FeedCommand): void {
    switch (c.do) {
      case 'openStream':
        clearTimeout(this.timers.stream)
        this.timers.stream = setTimeout(() => void this.openStream(), jitter(c.afterMs))
        return
      case 'closeStream':
        return this.closeStream()
      case 'poll':
        clearTimeout(this.timers.poll)
        // A proxy answering empty polls at once would otherwise make this a busy loop.
        this.timers.poll = setTimeout(() => void this.pollOnce(), jitter(Math.max(c.afterMs, this.lastPollEmptyFast ? 1_000 : 0)))
        return
      case 'stopPolling':
        return this.stopPolling()
      case 'probeLater':
        clearTimeout(this.timers.probe)
        this.timers.probe = setTimeout(() => this.dispatch({ type: 'probeTimer' }), c.afterMs)
        return
    }
  }

  // ---- the stream ----

  private async openStream(): Promise<void> {
    this.closeStream()
    const gen = this.gen
    if (!this.ES) return this.dispatch({ type: 'openTimeout' }) // no EventSource here: poll
    let token: string
    try {
      token = await this.api.bearer()
    } catch (err) {
      return this.fatal(err as Error) // not joined, or left
    }
    if (gen !== this.gen || this.stopped) return
    const url = new URL(this.api.absoluteUrl(this.api.path('/events')))
    url.searchParams.set('access_token', token)
    if (this.cursor.last !== null) url.searchParams.set('lastEventId', String(this.cursor.last))
    const es = new this.ES(url.href)
    this.es = es
    this.openedAt = 0
    this.timers.open = setTimeout(() => gen === this.gen && this.dispatch({ type: 'openTimeout' }), this.openTimeoutMs)
    es.onopen = () => {
      if (gen !== this.gen) return
      clearTimeout(this.timers.open)
      this.openedAt = Date.now()
      this.dispatch({ type: 'opened' })
    }
    es.onerror = () => void this.streamError(gen, es)
    for (const name of EVENT_NAMES) {
      es.addEventListener(name, (ev) => this.onFrame(gen, name, ev as MessageEvent))
    }
  }

  private async streamError(gen: number, es: EventSource): Promise<void> {
    if (gen !== this.gen) return
    // CLOSED means the server answered something other than a stream (401, 503...), which
    // EventSource does not show us: ask the REST API whether the token still works.
    const refused = es.readyState === 2
    const healthy = this.openedAt > 0 && Date.now() - this.openedAt >= this.healthyMs
    this.closeStream()
    if (!isOnline()) return this.dispatch({ type: 'offline' })
    if (refused && !(await this.tokenWorks())) return
    this.dispatch({ type: 'failed', healthy })
  }

  private async tokenWorks(): Promise<boolean> {
    try {
      await this.api.clients()
    } catch (err) {
      if (isFatal(err)) {
        this.fatal(err as Error)
        return false
      }
    }
    return true
  }

  private onFrame(gen: number, type: string, ev: MessageEvent): void {
    if (gen !== this.gen) return
    // session.expired has no id: lastEventId then repeats the previous event's.
    const id = type === 'session.expired' ? null : parseId(ev.lastEventId)
    this.deliver(type, id, parseData(ev.data))
    if (!this.stopped && this.feed.mode === 'stream') this.dispatch({ type: 'delivered' })
  }

  private closeStream(): void {
    this.gen++
    clearTimeout(this.timers.open)
    clearTimeout(this.timers.stream)
    this.es?.close()
    this.es = null
  }

  // ---- long polls ----

  private async pollOnce(): Promise<void> {
    this.pollCtl?.abort()
    const ctl = new AbortController()
    this.pollCtl = ctl
    const timeout = setTimeout(() => ctl.abort(), POLL_TIMEOUT_MS)
    const started = Date.now()
    try {
      const page = await this.api.pollEvents(this.cursor.last ?? 0, ctl.signal)
      if (ctl !== this.pollCtl) return // stopped meanwhile; a stream took over
      for (const e of page.events) this.deliver(e.event, e.id, e.data)
      if (this.cursor.last === null || page.nextAfter > this.cursor.last) this.cursor.last = page.nextAfter
      this.lastPollEmptyFast = page.events.length === 0 && Date.now() - started < 1_000
      this.dispatch({ type: 'pollOk' })
    } catch (err) {
      if (ctl !== this.pollCtl || this.stopped) return
      if (isFatal(err)) return this.fatal(err as Error)
      if (!isOnline()) return this.dispatch({ type: 'offline' })
      const retryAfter = err instanceof ProblemError ? (err.retryAfter ?? 0) * 1000 : 0
      this.dispatch({ type: 'pollFailed', retryAfterMs: retryAfter })
    } finally {
      clearTimeout(timeout)
    }
  }

  private stopPolling(): void {
    clearTimeout(this.timers.poll)
    const ctl = this.pollCtl
    this.pollCtl = null
    ctl?.abort()
  }

  // ---- delivery, token, end ----

  private deliver(type: string, id: number | null, data: unknown): void {
    if (this.stopped || !this.cursor.accept(type, id)) return
    try {
      this.h.onEvent({ id: id ?? 0, type, data })
    } catch (err) {
      // A bug in a handler must not stop the feed; let it reach the console.
      setTimeout(() => {
        throw err
      })
    }
    if (type === 'session.expired') this.stop()
  }

  /**
   * Refreshes the token at three quarters of its life even when nothing else calls the API:
   * the stream is cut a minute before expiry, and an expired token cannot be refreshed.
   */
  private scheduleRefresh(): void {
    clearTimeout(this.timers.refresh)
    if (this.stopped) return
    const at = refreshAt(this.api.token())
    if (at === null) return
    const wait = Math.max(30_000, at - Date.now())
    this.timers.refresh = setTimeout(() => {
      void this.api.bearer().catch(() => undefined).finally(() => this.scheduleRefresh())
    }, Math.min(wait, 2 ** 31 - 1))
  }

  private fatal(err: Error): void {
    if (this.stopped) return
    this.stop()
    this.h.onState('offline')
    this.h.onFatal?.(err)
  }
}

/** Refusals that waiting cannot change: a dead token, another session's token, a gone session. */
function isFatal(err: unknown): boolean {
  if (err instanceof NotJoinedError) return true
  if (!(err instanceof ProblemError)) return false
  return err.status >= 400 && err.status < 500 && ![408, 409, 423, 429].includes(err.status)
}

function isOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false
}

/** ±20 %, so clients cut off together do not all come back in the same instant. */
function jitter(ms: number): number {
  return ms <= 0 ? 0 : Math.round(ms * (0.8 + 0.4 * Math.random()))
}

function parseId(raw: string): number | null {
  return /^\d+$/.test(raw) ? Number(raw) : null
}

function parseData(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
