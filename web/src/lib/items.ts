// The operations the UI calls on shared items, combining the crypto worker (../crypto) and
// the transport (../api): share text or a file, open (decrypt and check) an item's metadata,
// receive its plaintext chunk by chunk, rename, pin, delete. Plaintext never leaves the
// browser; files are read one slice at a time, never whole.
import { DecryptError, blobSize, chunkCount, totalSize, type Meta, type SessionKeys } from '../crypto'
import type { ApiClient } from '../api/client'
import { downloadChunk } from '../api/download'
import { isProblem, ProblemError, throwIfAborted } from '../api/errors'
import { sleep } from '../api/range'
import type { Config, Item } from '../api/types'
import { uploadChunk } from '../api/upload'
import { newContentId } from './ids'
import { checkCounts, fileMeta, pickChunkSize, textMeta } from './meta'
import { UploadTransfer, type Transfer } from './transfer'

export type { Transfer, TransferState } from './transfer'
export { joinSession, rejoinRemembered, type JoinInput, type Joined } from './session'

/** What the item operations need: the joined client, the session's keys, the server's limits. */
export interface Ctx {
  api: ApiClient
  keys: SessionKeys
  config: Config
  /** Bytes per tus PATCH, for proxies with a body limit; default: one PATCH per chunk. */
  patchSize?: number
}

export interface Sink {
  write(chunk: Uint8Array): Promise<void>
  close(): Promise<void>
  abort?(): Promise<void>
}

/** Images are measured only up to this size: decoding a huge one just for its size is not worth it. */
const MEASURE_MAX_BYTES = 64 * 1024 * 1024

/** Shares text, byte for byte as UTF-8. */
export function shareText(ctx: Ctx, text: string): Transfer {
  const bytes = new TextEncoder().encode(text)
  const blob = new Blob([bytes], { type: 'text/plain' })
  return share(ctx, blob, textMeta(bytes.byteLength, text, pickChunkSize(ctx.config)))
}

/** Shares a file (or any Blob); images also carry their width and height when measurable. */
export function shareFile(ctx: Ctx, file: File | Blob, name?: string): Transfer {
  const fileName = name ?? ('name' in file ? file.name : '')
  return share(ctx, file, fileMeta(fileName, file.type, file.size, pickChunkSize(ctx.config)), measureImage)
}

function share(ctx: Ctx, source: Blob, meta: Meta, describe?: (b: Blob, m: Meta) => Promise<Meta>): Transfer {
  const { api, keys, config } = ctx
  const contentId = newContentId()
  const n = chunkCount(meta.size, meta.chunkSize)
  const total = totalSize(meta.size, meta.chunkSize)
  if (config.maxItemBytes > 0 && total > config.maxItemBytes) {
    throw new ProblemError({ status: 413, code: 'too_large', title: 'Content Too Large', detail: `${total} bytes encrypted, the server takes ${config.maxItemBytes}` })
  }
  return new UploadTransfer(contentId, meta, n, total, {
    describe: (m) => (describe ? describe(source, m) : Promise.resolve(m)),
    async announce(m) {
      const metadata = await keys.sealMeta(contentId, m)
      await api.announce({ contentId, totalChunks: n, totalSize: total, chunkSize: m.chunkSize, metadata })
    },
    async seal(i) {
      const cs = meta.chunkSize
      const plain = await source.slice(i * cs, Math.min(meta.size, (i + 1) * cs)).arrayBuffer()
      return keys.sealChunk(contentId, i, n, plain)
    },
    upload: (i, blob, onProgress) =>
      uploadChunk(api, { contentId, index: i, blob, patchSize: ctx.patchSize, onProgress: (sent) => onProgress(sent) }),
    remove: () => api.remove(contentId),
  })
}

/** Adds {width, height} to an image's metadata where the browser can decode it; else leaves it. */
async function measureImage(blob: Blob, meta: Meta): Promise<Meta> {
  if (meta.kind !== 'image' || typeof createImageBitmap !== 'function' || blob.size > MEASURE_MAX_BYTES) return meta
  try {
    const bmp = await createImageBitmap(blob)
    const image = { width: bmp.width, height: bmp.height }
    bmp.close()
    return { ...meta, image }
  } catch {
    return meta // an SVG or a format this browser cannot decode: share it without the extra
  }
}

/** Decrypts an item's metadata and checks it against the announced counts (DecryptError if not). */
export async function openItem(keys: SessionKeys, item: Item): Promise<{ item: Item; meta: Meta }> {
  const meta = await keys.openMeta(item.contentId, item.metadata)
  checkCounts(item, meta)
  return { item, meta }
}

/**
 * Downloads, verifies and decrypts the item chunk by chunk, writing plaintext to sink in
 * order. A chunk not uploaded yet is waited for. Progress counts encrypted bytes of
 * item.totalSize. On any failure the sink is aborted (if it can be) and the error rethrown:
 * DecryptError / ChecksumError mean the item was altered, AbortError that signal fired.
 */
export async function receiveItem(
  ctx: Pick<Ctx, 'api' | 'keys'>,
  item: Item,
  meta: Meta,
  sink: Sink,
  onProgress?: (received: number, total: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  checkCounts(item, meta)
  const n = item.totalChunks
  let done = 0
  try {
    for (let i = 0; i < n; i++) {
      throwIfAborted(signal)
      const blob = await fetchChunk(ctx.api, item.contentId, i, signal, (got) => onProgress?.(done + got, item.totalSize))
      const size = blob.byteLength
      const want = blobSize(meta.size, meta.chunkSize, i)
      if (size !== want) throw new DecryptError(`item ${item.contentId}: chunk ${i} is ${size} bytes, ${want} expected`)
      const plain = await ctx.keys.openChunk(item.contentId, i, n, blob)
      throwIfAborted(signal)
      await sink.write(plain)
      done += size
      onProgress?.(done, item.totalSize)
    }
    await sink.close()
  } catch (err) {
    await sink.abort?.().catch(() => undefined)
    throw err
  }
}

/** Downloads chunk i, waiting (1 s doubling to 5 s) while the sender has not uploaded it yet. */
async function fetchChunk(api: ApiClient, cid: string, i: number, signal: AbortSignal | undefined, onProgress: (got: number) => void): Promise<ArrayBuffer> {
  for (let wait = 1_000; ; wait = Math.min(5_000, wait * 2)) {
    try {
      return await downloadChunk(api, cid, i, signal, (got) => onProgress(got))
    } catch (err) {
      if (!isProblem(err, 'not_found')) throw err
    }
    await sleep(wait, signal)
  }
}

/** The whole plaintext in memory, for previews and copying: chunks as they come, then joined. */
async function collect(ctx: Pick<Ctx, 'api' | 'keys'>, item: Item, meta: Meta, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>[]> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  await receiveItem(ctx, item, meta, {
    write: async (c) => void parts.push(c as Uint8Array<ArrayBuffer>),
    close: async () => undefined,
  }, undefined, signal)
  return parts
}

/** An item's text (UTF-8; invalid bytes become U+FFFD). */
export async function readText(ctx: Pick<Ctx, 'api' | 'keys'>, item: Item, meta: Meta, signal?: AbortSignal): Promise<string> {
  const parts = await collect(ctx, item, meta, signal)
  const dec = new TextDecoder('utf-8')
  let out = ''
  for (const p of parts) out += dec.decode(p, { stream: true })
  return out + dec.decode()
}

/** An item's content as a Blob of its MIME type. */
export async function readBlob(ctx: Pick<Ctx, 'api' | 'keys'>, item: Item, meta: Meta, signal?: AbortSignal): Promise<Blob> {
  return new Blob(await collect(ctx, item, meta, signal), { type: meta.mime })
}

/** Renames: the metadata is sealed again (with a fresh IV) under the new name. */
export async function renameItem(ctx: Pick<Ctx, 'api' | 'keys'>, item: Item, meta: Meta, newName: string): Promise<{ item: Item; meta: Meta }> {
  const next: Meta = { ...meta, name: newName }
  const metadata = await ctx.keys.sealMeta(item.contentId, next)
  const updated = await ctx.api.patch(item.contentId, { metadata })
  return { item: updated, meta: next }
}

export function setPinned(ctx: Pick<Ctx, 'api'>, item: Item, pinned: boolean): Promise<Item> {
  return ctx.api.patch(item.contentId, { pinned })
}

/** Deletes an item; one that is already gone counts as deleted. */
export async function deleteItem(ctx: Pick<Ctx, 'api'>, item: Item): Promise<void> {
  try {
    await ctx.api.remove(item.contentId)
  } catch (err) {
    if (!isProblem(err, 'content_not_found')) throw err
  }
}

export function clearAll(ctx: Pick<Ctx, 'api'>): Promise<void> {
  return ctx.api.clear()
}
