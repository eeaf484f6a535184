// Chunk uploads (PROTOCOL §5): each encrypted chunk blob is one tus 1.0 upload, sent with
// tus-js-client. The upload URL is kept here in memory (not in localStorage: a reload loses
// the keys anyway), so pause/resume and retries continue with HEAD + PATCH from the server's
// offset. The server's two conflicts are outcomes, not failures: chunk_exists means the chunk
// is stored (done), chunk_in_progress names the unfinished upload of this chunk to resume.
import { Upload, type DetailedError, type HttpRequest, type HttpStack } from 'tus-js-client'
import type { ApiClient } from './client'
import { NetworkError, ProblemError, abortError, parseProblem } from './errors'

export interface UploadChunkOptions {
  contentId: string
  index: number
  blob: Blob | Uint8Array
  /** Bytes per PATCH, for proxies with a body limit; default: the whole blob in one PATCH. */
  patchSize?: number
  onProgress?(sent: number, total: number): void
  /** Tests replace tus-js-client's HTTP stack and file reader (Node's reads no Blob). */
  transport?: { httpStack: HttpStack; fileReader: unknown }
}

export interface UploadHandle {
  /** Resolves when the server has the chunk; rejects with ProblemError/NetworkError, or AbortError after abort(). */
  done: Promise<void>
  pause(): void
  resume(): void
  abort(): void
  /** Bytes the server has confirmed (its Upload-Offset), so a resume starts there. */
  readonly uploadedOffset: number
  /** The tus upload URL once known. */
  readonly url: string | null
}

/**
 * Waits between attempts after network errors, 5xx, 423 and 429; about a minute in all, so a
 * restarting server is waited for. Progress resets tus-js-client's attempt count.
 */
export const RETRY_DELAYS = [0, 1_000, 3_000, 5_000, 10_000, 20_000, 20_000]

/** How many chunk_in_progress redirects in a row are followed before giving up. */
const MAX_REDIRECTS = 3

/** Starts uploading one chunk blob of an announced item. */
export function uploadChunk(api: ApiClient, opts: UploadChunkOptions): UploadHandle {
  const u = new ChunkUpload(api, opts)
  u.start()
  return u
}

/** Whether tus-js-client should retry after this answer (status 0 = no answer). */
export function shouldRetry(status: number, code: string, online: boolean): boolean {
  if (code === 'chunk_exists' || code === 'chunk_in_progress') return false // outcomes, handled in onError
  if (status === 0) return online // offline: we wait for the 'online' event instead of burning attempts
  if (status >= 500 || status === 423 || status === 429) return true
  // tusd's offset mismatch (a problem-less 409): the retry's HEAD sets the offset right.
  return status === 409 && code === ''
}

/**
 * An upload URL as the client should use it: tusd builds absolute URLs from the Host it saw,
 * which behind a proxy may not be the origin the page talks to. Only the path matters.
 */
export function rebaseUploadUrl(url: string, endpoint: string): string {
  try {
    const u = new URL(url, endpoint)
    return new URL(u.pathname + u.search, endpoint).href
  } catch {
    return url
  }
}

class ChunkUpload implements UploadHandle {
  readonly done: Promise<void>
  uploadedOffset = 0
  url: string | null = null
  private resolve!: () => void
  private reject!: (err: Error) => void
  private current: Upload | null = null
  private state: 'running' | 'paused' | 'waiting' | 'finished' = 'running'
  private redirects = 0
  private readonly file: Blob
  private readonly endpoint: string

  constructor(private readonly api: ApiClient, private readonly o: UploadChunkOptions) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.file = o.blob instanceof Blob ? o.blob : new Blob([o.blob as Uint8Array<ArrayBuffer>])
    this.endpoint = api.uploadEndpoint()
  }

  start(): void {
    if (this.state === 'finished') return
    this.state = 'running'
    const up: Upload = new Upload(this.file, {
      endpoint: this.endpoint,
      uploadUrl: this.url,
      metadata: { sessionId: this.api.sessionId ?? '', contentId: this.o.contentId, chunkIndex: String(this.o.index) },
      chunkSize: this.o.patchSize ?? Number.POSITIVE_INFINITY,
      retryDelays: RETRY_DELAYS,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: (req: HttpRequest) => this.beforeRequest(up, req),
      onShouldRetry: (err: DetailedError) => up === this.current && this.retryable(err),
      onUploadUrlAvailable: () => {
        if (up === this.current && up.url) this.url = rebaseUploadUrl(up.url, this.endpoint)
      },
      onProgress: (sent, total) => up === this.current && this.o.onProgress?.(sent, total),
      onChunkComplete: (_size, accepted) => {
        if (up === this.current) this.uploadedOffset = accepted
      },
      onSuccess: () => up === this.current && this.finish(),
      onError: (err) => up === this.current && this.failed(err),
      ...(this.o.transport as object | undefined),
    })
    this.current = up
    up.start()
  }

  pause(): void {
    if (this.state !== 'running' && this.state !== 'waiting') return
    this.state = 'paused'
    this.drop()
  }

  resume(): void {
    if (this.state === 'paused') this.start()
  }

  abort(): void {
    if (this.state === 'finished') return
    this.drop()
    this.settle(abortError())
  }

  /** Sets the current token on every request, since it may have been refreshed meanwhile. */
  private async beforeRequest(up: Upload, req: HttpRequest): Promise<void> {
    // tus-js-client un-aborts an upload whose start() was still setting up when abort() came;
    // failing its first request stops it for good.
    if (up !== this.current) throw abortError('upload replaced')
    req.setHeader('Authorization', `Bearer ${await this.api.bearer()}`)
  }

  private retryable(err: DetailedError): boolean {
    const res = err.originalResponse
    const status = res ? res.getStatus() : 0
    const code = res ? parseProblem(status, null, res.getBody()).code : ''
    return shouldRetry(status, code, isOnline())
  }

  private failed(err: Error | DetailedError): void {
    const res = 'originalResponse' in err ? err.originalResponse : null
    if (!res) {
      if (!isOnline()) return this.waitForNetwork()
      return this.settle(new NetworkError(`chunk ${this.o.index} upload: ${err.message}`, { cause: err }))
    }
    const problem = parseProblem(res.getStatus(), { get: (h) => res.getHeader(h) }, res.getBody())
    if (problem.code === 'chunk_exists') return this.finish()
    if (problem.code === 'chunk_in_progress' && problem.uploadUrl && this.redirects++ < MAX_REDIRECTS) {
      // An upload of this chunk is unfinished (ours from before a reload, or a retried POST
      // whose answer was lost): continue it from its offset.
      this.url = rebaseUploadUrl(problem.uploadUrl, this.endpoint)
      return this.start()
    }
    this.settle(problem)
  }

  /** Offline: keep the upload URL and continue when the browser is back online. */
  private waitForNetwork(): void {
    this.state = 'waiting'
    this.current = null
    const onOnline = () => {
      globalThis.removeEventListener?.('online', onOnline)
      if (this.state === 'waiting') this.start()
    }
    globalThis.addEventListener?.('online', onOnline)
  }

  private drop(): void {
    const up = this.current
    this.current = null
    void up?.abort(false)
  }

  private finish(): void {
    if (this.state === 'finished') return
    this.state = 'finished'
    this.current = null
    this.uploadedOffset = this.file.size
    this.resolve()
  }

  private settle(err: Error | ProblemError): void {
    if (this.state === 'finished') return
    this.state = 'finished'
    this.current = null
    this.reject(err)
  }
}

function isOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false
}
