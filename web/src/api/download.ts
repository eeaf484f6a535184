// Chunk downloads (PROTOCOL §4): GET …/chunks/{i} with the bearer header. A connection that
// breaks mid-body is resumed with `Range: bytes=N-` and `If-Range: <etag>`, so the bytes
// already received are not fetched again; at the end the blob's length and SHA-256 are checked
// against the answer's Content-Length/Content-Range and ETag (the server records the hash when
// the chunk is uploaded). This catches a damaged store early; the GCM tag still has the last
// word when the chunk is opened.
import { sha256Hex } from '../crypto'
import type { ApiClient } from './client'
import { ChecksumError, NetworkError, ProblemError, isAbort, isTransient, problemFromResponse, throwIfAborted } from './errors'
import { Parts, contentLength, etagHex, parseContentRange, retryDelayMs, sleep } from './range'

/** Failed attempts in a row (without new bytes) before a download gives up. */
const MAX_ATTEMPTS = 6

/**
 * Downloads chunk `index` of item `cid` and returns its encrypted blob. ProblemError
 * not_found means the chunk is not uploaded yet (wait for content.chunk); ChecksumError means
 * the bytes do not match what the server recorded.
 */
export async function downloadChunk(
  api: ApiClient,
  cid: string,
  index: number,
  signal?: AbortSignal,
  onProgress?: (received: number, total: number | null) => void,
): Promise<ArrayBuffer> {
  const d = new ChunkDownload(api, api.chunkUrl(cid, index), signal, onProgress)
  let failures = 0
  for (;;) {
    throwIfAborted(signal)
    const before = d.parts.received
    try {
      await d.attempt()
      return await d.verify()
    } catch (err) {
      if (isAbort(err) || !isTransient(err)) throw err
      // Progress resets the count: only failures in a row use up the attempts.
      if (d.parts.received > before) failures = 0
      if (++failures >= MAX_ATTEMPTS) throw err
      const floor = err instanceof ProblemError ? (err.retryAfter ?? 0) * 1000 : 0
      await sleep(Math.max(retryDelayMs(failures), floor), signal)
    }
  }
}

class ChunkDownload {
  readonly parts = new Parts()
  /** The ETag of the first answer; a resumed answer must carry the same. */
  private etag: string | null = null
  /** The blob's length once an answer told it. */
  private total: number | null = null

  constructor(
    private readonly api: ApiClient,
    private readonly url: string,
    private readonly signal: AbortSignal | undefined,
    private readonly onProgress?: (received: number, total: number | null) => void,
  ) {}

  /** Fetches what is missing: the whole blob the first time, the rest after a break. */
  async attempt(): Promise<void> {
    const headers: Record<string, string> = await this.api.authHeaders()
    const from = this.parts.received
    if (from > 0) {
      headers.Range = `bytes=${from}-`
      if (this.etag) headers['If-Range'] = this.etag
    }
    const res = await this.api.rawFetch(this.url, { headers, signal: this.signal, cache: 'no-store' })
    if (res.status === 416 && this.total !== null && from === this.total) return // all had arrived
    if (res.status === 200) {
      // The whole blob: the first answer, or a server that ignored (or refused) our Range.
      this.parts.reset()
      this.total = contentLength(res.headers.get('Content-Length'))
    } else if (res.status === 206) {
      this.acceptPartial(res, from)
    } else {
      throw await problemFromResponse(res)
    }
    this.checkEtag(res.headers.get('ETag'))
    await this.readBody(res)
  }

  private acceptPartial(res: Response, from: number): void {
    const range = parseContentRange(res.headers.get('Content-Range'))
    if (!range || range.start !== from) {
      throw new Error(`chunk download: asked for bytes from ${from}, got Content-Range ${res.headers.get('Content-Range')}`)
    }
    this.total = range.total
  }

  private checkEtag(tag: string | null): void {
    if (this.etag !== null && tag !== null && tag !== this.etag && this.parts.received > 0) {
      throw new ChecksumError(`chunk changed while downloading (ETag ${this.etag}, then ${tag})`)
    }
    if (tag !== null) this.etag = tag
  }

  private async readBody(res: Response): Promise<void> {
    if (!res.body) {
      this.parts.push(new Uint8Array(await this.readAll(res)))
      this.report()
      return
    }
    const reader = res.body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        this.parts.push(value)
        this.report()
      }
    } catch (err) {
      if (isAbort(err) || this.signal?.aborted) throw err
      throw new NetworkError(`chunk download broke after ${this.parts.received} bytes`, { cause: err })
    } finally {
      reader.releaseLock()
    }
  }

  private async readAll(res: Response): Promise<ArrayBuffer> {
    try {
      return await res.arrayBuffer()
    } catch (err) {
      if (isAbort(err)) throw err
      throw new NetworkError('chunk download broke', { cause: err })
    }
  }

  private report(): void {
    this.onProgress?.(this.parts.received, this.total)
  }

  /** Checks the finished blob against the announced length and the ETag's SHA-256. */
  async verify(): Promise<ArrayBuffer> {
    if (this.total !== null && this.parts.received < this.total) {
      // The body ended early without an error: treat it like a broken connection.
      throw new NetworkError(`chunk download ended after ${this.parts.received} of ${this.total} bytes`)
    }
    if (this.total !== null && this.parts.received !== this.total) {
      throw new ChecksumError(`downloaded ${this.parts.received} bytes of a ${this.total}-byte chunk`)
    }
    const want = etagHex(this.etag)
    if (!want) throw new ChecksumError('the chunk came without an ETag to check it against')
    const blob = this.parts.toArrayBuffer()
    const got = await sha256Hex(blob)
    if (got.toLowerCase() !== want) throw new ChecksumError(`chunk SHA-256 ${got} does not match its ETag ${want}`)
    return blob
  }
}
