// The error vocabulary of the transport (PROTOCOL §4): every refusal the server sends is an
// RFC 9457 problem with a stable `code`, and the UI branches on that code, never on message
// text. Failures that never reached the server are NetworkError, so callers can tell "retry
// later" from "the server said no".

/** Header access shared by fetch's Headers and tus-js-client's HttpResponse. */
export interface HeaderSource {
  get(name: string): string | null | undefined
}

export interface ProblemInit {
  status: number
  code?: string
  title?: string
  detail?: string
  retryAfter?: number
  uploadUrl?: string
}

/**
 * A non-2xx answer. `code` is the protocol's stable code ('' when the body was not a problem,
 * e.g. a proxy's HTML page or tusd's own protocol error); `retryAfter` is in seconds (undefined
 * when the server named no delay); `uploadUrl` comes with chunk_in_progress.
 */
export class ProblemError extends Error {
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string
  readonly retryAfter?: number
  readonly uploadUrl?: string

  constructor(p: ProblemInit) {
    const head = p.code || `HTTP ${p.status}`
    const text = p.detail || p.title || ''
    super(text ? `${head}: ${text}` : head)
    this.name = 'ProblemError'
    this.status = p.status
    this.code = p.code ?? ''
    this.title = p.title ?? ''
    this.detail = p.detail ?? ''
    if (p.retryAfter !== undefined) this.retryAfter = p.retryAfter
    if (p.uploadUrl) this.uploadUrl = p.uploadUrl
  }
}

/** The request never got an answer: offline, DNS, connection reset, CORS, a dead proxy. */
export class NetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetworkError'
  }
}

/** A call that needs a joined session (and its token) came before join, or after leave. */
export class NotJoinedError extends Error {
  constructor(message = 'not joined to a session (join first; leave ends the token)') {
    super(message)
    this.name = 'NotJoinedError'
  }
}

/** A downloaded chunk whose bytes do not hash to the ETag recorded at upload, or are short. */
export class ChecksumError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ChecksumError'
  }
}

/**
 * The error of an operation its caller cancelled (AbortSignal, Transfer.cancel): a DOMException
 * named AbortError, the same thing fetch throws on abort, so one check covers both.
 */
export function abortError(message = 'cancelled'): DOMException {
  return new DOMException(message, 'AbortError')
}

/** Throws abortError() when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal | null): void {
  if (signal?.aborted) throw abortError()
}

/** Whether err is a ProblemError with one of the given codes. */
export function isProblem(err: unknown, ...codes: string[]): err is ProblemError {
  return err instanceof ProblemError && (codes.length === 0 || codes.includes(err.code))
}

/** Whether err comes from an AbortSignal or a cancel, rather than from the server. */
export function isAbort(err: unknown): boolean {
  return (err instanceof Error || err instanceof DOMException) && err.name === 'AbortError'
}

/**
 * Whether repeating the same request may succeed: the network broke, the server is restarting
 * or busy (5xx, 429), or tusd still holds the upload's lock (423).
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true
  return err instanceof ProblemError && (err.status >= 500 || err.status === 429 || err.status === 423)
}

/**
 * Builds the error of an answer from its status, headers and body. The body may already be
 * parsed (openapi-fetch parses JSON error bodies) or still be text.
 */
export function parseProblem(status: number, headers: HeaderSource | null, body: unknown, nowMs = Date.now()): ProblemError {
  const retryAfter = parseRetryAfter(headers?.get('Retry-After') ?? null, nowMs)
  const parsed = typeof body === 'string' ? tryJSON(body) : body
  if (isRecord(parsed) && typeof parsed.code === 'string' && parsed.code !== '') {
    return new ProblemError({
      status,
      code: parsed.code,
      title: str(parsed.title),
      detail: str(parsed.detail),
      uploadUrl: str(parsed.uploadUrl) || undefined,
      retryAfter,
    })
  }
  // Not a problem body: keep a short single line of it, enough to recognise a proxy's page.
  const text = typeof body === 'string' ? body.replace(/\s+/g, ' ').trim() : ''
  return new ProblemError({
    status,
    title: statusText(status),
    detail: text.length > 200 ? `${text.slice(0, 200)}…` : text,
    retryAfter,
  })
}

/** Reads the error of a fetch Response whose body has not been consumed. */
export async function problemFromResponse(res: Response): Promise<ProblemError> {
  let body = ''
  try {
    body = await res.text()
  } catch {
    // A body cut off mid-way still leaves the status to report.
  }
  return parseProblem(res.status, res.headers, body)
}

/** Retry-After as whole seconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if none. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - nowMs) / 1000))
}

function tryJSON(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  416: 'Range Not Satisfiable',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `HTTP ${status}`
}
