// ApiClient is the REST half of the transport (PROTOCOL §4), typed by the OpenAPI schema
// through openapi-fetch. It holds the session token from join and keeps it fresh: before any
// authenticated call it refreshes a token that is three quarters through its life, because
// the server refuses to refresh an expired token and ends event streams a minute before
// expiry. It never sees plaintext or keys: callers pass sealed metadata and fingerprints.
//
// Uploads (upload.ts), downloads (download.ts) and events (events.ts) use bearer(), url() and
// path() from here, so the token and the base URL live in one place.
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { NetworkError, NotJoinedError, ProblemError, isAbort, parseProblem } from './errors'
import { refreshDue, tokenTimes } from './token'
import type {
  Announcement, Client, Config, EventsPage, ItemDetail, Item, ItemPatch, JoinResult,
  ListOptions, Page, SealedWire, KDFWire, Session,
} from './types'

export type {
  Item, ItemDetail, Client, Session, Config, ApiEvent, JoinResult, Page, Announcement, EventName,
  EventDataMap, ChunkInfo,
} from './types'
export { EVENT_NAMES, isEvent } from './types'
export { ProblemError, NetworkError, ChecksumError, NotJoinedError, isProblem, isTransient, isAbort } from './errors'

/** The tus creation URL of protocol v1, used until the server names one (config, announce). */
const DEFAULT_UPLOAD_PATH = '/api/v1/uploads/'

export interface ApiClientOptions {
  /** Origin (and optional prefix) of the server; '' = the page's own origin. */
  baseUrl?: string
  /** fetch to use; tests pass a fake. */
  fetch?: typeof fetch
  /** Clock in ms; tests pin it to check refresh timing. */
  now?: () => number
}

export interface JoinRequest {
  clientName: string
  fingerprint: SealedWire
  /** Only to create the session; omit it to join an existing one. */
  kdf?: KDFWire
}

export class ApiClient {
  readonly baseUrl: string
  private readonly http: ReturnType<typeof createClient<paths>>
  private readonly fetchFn: typeof fetch
  private readonly now: () => number
  private _token: string | null = null
  private _sessionId: string | null = null
  private uploadPath = DEFAULT_UPLOAD_PATH
  private refreshing: Promise<void> | null = null
  /** A token whose refresh the server refused: asking again cannot help. */
  private refreshRefused: string | null = null

  constructor(opts: ApiClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/+$/, '')
    // Bound late so a test or polyfill that replaces globalThis.fetch is honoured.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.now = opts.now ?? Date.now
    this.http = createClient<paths>({ baseUrl: this.baseUrl, fetch: this.fetchFn })
  }

  /** The session joined, or null before join. */
  get sessionId(): string | null {
    return this._sessionId
  }

  /** The current bearer token without refreshing it (null before join or after leave). */
  token(): string | null {
    return this._token
  }

  /** When the current token expires (ms since the epoch), read from its claims. */
  tokenExpiresAt(): number | null {
    return tokenTimes(this._token)?.exp ?? null
  }

  // ---- public, unauthenticated ----

  async config(): Promise<Config> {
    const cfg = await unwrap(() => this.http.GET('/api/v1/config'))
    if (cfg.uploadPath) this.uploadPath = cfg.uploadPath
    return cfg
  }

  /** A session's public kdf parameters; ProblemError session_not_found when it is new. */
  session(sid: string): Promise<Session> {
    return unwrap(() => this.http.GET('/api/v1/sessions/{sid}', { params: { path: { sid } } }))
  }

  /** Joins (or with kdf, creates) a session; from then on the client uses its token. */
  async join(sid: string, req: JoinRequest): Promise<JoinResult> {
    let status = 0
    const res = await unwrap(async () => {
      const r = await this.http.POST('/api/v1/sessions/{sid}/join', { params: { path: { sid } }, body: req })
      status = r.response.status
      return r
    })
    this._token = res.token
    this._sessionId = sid
    this.refreshRefused = null
    return { ...res, created: status === 201 }
  }

  // ---- token ----

  /** Exchanges the token for a new one; the old one stays valid until its own expiry. */
  refresh(): Promise<void> {
    return this.refreshFrom(this.requireToken())
  }

  /**
   * The token to send now, refreshed first when it is due. A refresh that fails leaves the
   * old token in use: the request then gets the server's own verdict (token_expired...).
   */
  async bearer(): Promise<string> {
    const tok = this.requireToken()
    if (tok === this.refreshRefused || !refreshDue(tok, this.now())) return tok
    try {
      await this.refreshFrom(tok)
    } catch {
      // Reported by the request that follows.
    }
    return this.requireToken()
  }

  /** Authorization header for the current (fresh) token. */
  async authHeaders(): Promise<{ Authorization: string }> {
    return { Authorization: `Bearer ${await this.bearer()}` }
  }

  private refreshFrom(old: string): Promise<void> {
    // One refresh at a time: concurrent callers share it instead of spending the old token twice.
    this.refreshing ??= this.doRefresh(old).finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async doRefresh(old: string): Promise<void> {
    const sid = this.requireSession()
    try {
      const res = await unwrap(() =>
        this.http.POST('/api/v1/sessions/{sid}/token', {
          params: { path: { sid } },
          headers: { Authorization: `Bearer ${old}` },
        }),
      )
      if (this._token === old) this._token = res.token
    } catch (err) {
      // Only the server's refusal is final for this token; a network error may pass.
      if (err instanceof ProblemError) this.refreshRefused = old
      throw err
    }
  }

  // ---- authenticated ----

  /** Ends this client's presence at once; its token is refused afterwards. */
  async leave(): Promise<void> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    await unwrap(() => this.http.POST('/api/v1/sessions/{sid}/leave', { params: { path: { sid } }, headers }))
    this._token = null
  }

  async clients(): Promise<Client[]> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    const res = await unwrap(() => this.http.GET('/api/v1/sessions/{sid}/clients', { params: { path: { sid } }, headers }))
    return res.clients
  }

  /** One page of items: pinned first, then newest (or oldest) first. */
  async list(opts: ListOptions = {}): Promise<Page> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    const query = { cursor: opts.cursor, limit: opts.limit, order: opts.order }
    const res = await unwrap(() => this.http.GET('/api/v1/sessions/{sid}/contents', { params: { path: { sid }, query }, headers }))
    return { items: res.items ?? [], nextCursor: res.nextCursor || null }
  }

  /** One item with the chunks stored so far. */
  async item(cid: string): Promise<ItemDetail> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    return unwrap(() => this.http.GET('/api/v1/sessions/{sid}/contents/{cid}', { params: { path: { sid, cid } }, headers }))
  }

  /** Declares an item before its chunks are uploaded. */
  async announce(a: Announcement): Promise<{ item: Item; uploadUrl: string }> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    const res = await unwrap(() => this.http.POST('/api/v1/sessions/{sid}/contents', { params: { path: { sid } }, body: a, headers }))
    if (res.uploadUrl) this.uploadPath = res.uploadUrl
    return res
  }

  /** Pins/unpins, or replaces the sealed metadata (rename). */
  async patch(cid: string, body: ItemPatch): Promise<Item> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    return unwrap(() => this.http.PATCH('/api/v1/sessions/{sid}/contents/{cid}', { params: { path: { sid, cid } }, body, headers }))
  }

  /** Deletes an item with its chunks. */
  async remove(cid: string): Promise<void> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    await unwrap(() => this.http.DELETE('/api/v1/sessions/{sid}/contents/{cid}', { params: { path: { sid, cid } }, headers }))
  }

  /** Deletes every item of the session. */
  async clear(): Promise<void> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    await unwrap(() => this.http.DELETE('/api/v1/sessions/{sid}/contents', { params: { path: { sid } }, headers }))
  }

  /** The long-poll form of the event stream: answers when there are events after `after`, or after ~25 s. */
  async pollEvents(after: number, signal?: AbortSignal): Promise<EventsPage> {
    const sid = this.requireSession()
    const headers = await this.authHeaders()
    const query = { poll: 1 as const, after }
    const res = await unwrap(() => this.http.GET('/api/v1/sessions/{sid}/events', { params: { path: { sid }, query }, headers, signal }))
    return res as unknown as EventsPage
  }

  // ---- URLs and raw requests for the streaming parts ----

  /** URL of a chunk's download (no token in it: send the bearer header). */
  chunkUrl(cid: string, index: number): string {
    return this.url(this.path(`/contents/${encodeURIComponent(cid)}/chunks/${index}`))
  }

  /** The path of the joined session plus suffix, e.g. path('/events'). */
  path(suffix = ''): string {
    return `/api/v1/sessions/${encodeURIComponent(this.requireSession())}${suffix}`
  }

  /** A server path as a request URL ('' base: relative, the page's origin). */
  url(path: string): string {
    return this.baseUrl + path
  }

  /** A server path as an absolute URL, for APIs that want one (tus endpoint, EventSource). */
  absoluteUrl(path: string): string {
    if (/^https?:\/\//i.test(path)) return path
    // baseUrl may carry a path prefix, so it is prepended, not used as a URL base.
    const origin = globalThis.location?.origin ?? 'http://localhost'
    return new URL(this.baseUrl + path, `${origin}/`).href
  }

  /** Absolute tus creation URL: what the server last named, else the protocol's default. */
  uploadEndpoint(): string {
    return this.absoluteUrl(this.uploadPath)
  }

  /** fetch with network failures as NetworkError; the caller handles the status. */
  async rawFetch(url: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await this.fetchFn(url, init)
    } catch (err) {
      throw toNetworkError(err)
    }
  }

  private requireSession(): string {
    if (!this._sessionId) throw new NotJoinedError()
    return this._sessionId
  }

  private requireToken(): string {
    if (!this._token) throw new NotJoinedError()
    return this._token
  }
}

type Result<D> = { data?: D; error?: unknown; response: Response }

/** Runs an openapi-fetch call: 2xx → data, other statuses → ProblemError, no answer → NetworkError. */
async function unwrap<D>(call: () => Promise<Result<D>>): Promise<D> {
  let r: Result<D>
  try {
    r = await call()
  } catch (err) {
    throw toNetworkError(err)
  }
  if (!r.response.ok) throw parseProblem(r.response.status, r.response.headers, r.error)
  return r.data as D
}

function toNetworkError(err: unknown): Error {
  if (isAbort(err) || err instanceof ProblemError || err instanceof NetworkError || err instanceof NotJoinedError) return err as Error
  const msg = err instanceof Error ? err.message : String(err)
  return new NetworkError(`network error: ${msg}`, { cause: err })
}
