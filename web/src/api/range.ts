// Small pure pieces of resumable chunk downloads: reading Content-Range and ETag headers,
// collecting received parts, and the retry schedule. Kept apart from download.ts so they are
// tested without the crypto module.

/** "bytes start-end/total" → {start, end, total}; null for anything else (ranges with '*'). */
export function parseContentRange(v: string | null): { start: number; end: number; total: number } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((v ?? '').trim())
  if (!m) return null
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (end < start || end >= total) return null
  return { start, end, total }
}

/** The lowercase hex SHA-256 an ETag carries ('"abc…"' or 'W/"abc…"'), or null if it is not one. */
export function etagHex(etag: string | null): string | null {
  if (!etag) return null
  const v = etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase()
  return /^[0-9a-f]{64}$/.test(v) ? v : null
}

/** Content-Length as a number, or null when absent or not a whole number. */
export function contentLength(v: string | null): number | null {
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null
}

/** Delay before retry n (1-based) of a download: 0.5 s doubling to 8 s. */
export function retryDelayMs(n: number): number {
  return Math.min(8_000, 500 * 2 ** Math.max(0, n - 1))
}

/** Received bytes of one blob, in order; survives a broken connection so a Range asks for the rest. */
export class Parts {
  private parts: Uint8Array[] = []
  received = 0

  push(p: Uint8Array): void {
    if (p.byteLength === 0) return
    this.parts.push(p)
    this.received += p.byteLength
  }

  reset(): void {
    this.parts = []
    this.received = 0
  }

  /** All bytes as one ArrayBuffer (no copy when they came in one piece that fills its buffer). */
  toArrayBuffer(): ArrayBuffer {
    if (this.parts.length === 1) {
      const p = this.parts[0]
      if (p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer) return p.buffer
    }
    const out = new Uint8Array(this.received)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.byteLength
    }
    return out.buffer
  }
}

/** Resolves after ms, or rejects with AbortError when the signal fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('cancelled', 'AbortError'))
    const onAbort = () => {
      clearTimeout(t)
      reject(new DOMException('cancelled', 'AbortError'))
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
