// Describing an item before it is shared, and checking a received item's description against
// what the server announced. The server only sees counts and sizes; the sealed metadata says
// what they should be, so a server that swaps sizes or counts is caught before any chunk is
// fetched (the Go CLI's openItem does the same).
import { DEFAULT_CHUNK_SIZE, DecryptError, chunkCount, totalSize, type Kind, type Meta } from '../crypto'
import type { Config, Item } from '../api/types'

/** The MIME type of shared text, as the CLI sends it. */
export const TEXT_MIME = 'text/plain;charset=utf-8'

/** The protocol's chunk size bounds (PROTOCOL §2); a server's config may narrow them. */
const MIN_CHUNK = 65_536
const MAX_CHUNK = 16_777_216

/** image for image/* types, file for everything else (text is chosen by the caller). */
export function kindOf(mime: string): Kind {
  return mime.toLowerCase().startsWith('image/') ? 'image' : 'file'
}

/** The server's default chunk size, kept inside its own and the protocol's bounds. */
export function pickChunkSize(config?: Pick<Config, 'defaultChunkSize' | 'minChunkSize' | 'maxChunkSize'>): number {
  const min = Math.max(MIN_CHUNK, config?.minChunkSize || MIN_CHUNK)
  const max = Math.min(MAX_CHUNK, config?.maxChunkSize || MAX_CHUNK)
  const want = config?.defaultChunkSize || DEFAULT_CHUNK_SIZE
  return Math.min(max, Math.max(min, want))
}

/** Characters (code points) and lines of a text, for receivers' previews; like the CLI's. */
export function textStats(text: string): { chars: number; lines: number } {
  let chars = 0
  for (const _ of text) chars++ // counts code points, not UTF-16 units
  let lines = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
  if (text.length > 0 && !text.endsWith('\n')) lines++
  return { chars, lines }
}

/** Metadata of shared text: shared byte for byte, no name. */
export function textMeta(bytes: number, text: string, chunkSize: number): Meta {
  return { kind: 'text', name: '', mime: TEXT_MIME, size: bytes, chunkSize, text: textStats(text) }
}

/** Metadata of a file or image; the image extra is added by the caller when it can be measured. */
export function fileMeta(name: string, mime: string, size: number, chunkSize: number): Meta {
  const type = mime || 'application/octet-stream'
  return { kind: kindOf(type), name, mime: type, size, chunkSize }
}

/** The counts the server announces for an item with this metadata. */
export function expectedCounts(meta: Pick<Meta, 'size' | 'chunkSize'>): { chunkSize: number; totalChunks: number; totalSize: number } {
  return {
    chunkSize: meta.chunkSize,
    totalChunks: chunkCount(meta.size, meta.chunkSize),
    totalSize: totalSize(meta.size, meta.chunkSize),
  }
}

/** Why an item's announced counts disagree with its metadata, or null when they agree. */
export function countsMismatch(item: Pick<Item, 'chunkSize' | 'totalChunks' | 'totalSize'>, meta: Meta): string | null {
  if (!Number.isSafeInteger(meta.size) || meta.size < 0) return `metadata size ${meta.size} is not a byte count`
  if (!Number.isSafeInteger(meta.chunkSize) || meta.chunkSize < MIN_CHUNK || meta.chunkSize > MAX_CHUNK) {
    return `metadata chunkSize ${meta.chunkSize} is outside ${MIN_CHUNK}..${MAX_CHUNK}`
  }
  const want = expectedCounts(meta)
  if (item.chunkSize !== want.chunkSize) return `chunkSize ${item.chunkSize} announced, ${want.chunkSize} in the metadata`
  if (item.totalChunks !== want.totalChunks) return `${item.totalChunks} chunks announced, ${want.totalChunks} by the metadata`
  if (item.totalSize !== want.totalSize) return `${item.totalSize} bytes announced, ${want.totalSize} by the metadata`
  return null
}

/** Throws DecryptError when the item's counts disagree with its metadata. */
export function checkCounts(item: Pick<Item, 'contentId' | 'chunkSize' | 'totalChunks' | 'totalSize'>, meta: Meta): void {
  const why = countsMismatch(item, meta)
  if (why) throw new DecryptError(`item ${item.contentId}: its metadata does not match the announced sizes (${why})`)
}
