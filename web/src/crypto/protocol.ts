// The fixed parts of protocol v1 (PROTOCOL §2): sizes, the strings every HKDF info and AAD
// start with, the chunk arithmetic, the canonical metadata JSON and the rules an opened
// metadata object must follow. Pure functions only: no keys, no crypto, no worker.

import { fromBase64 } from './encoding'
import { DecryptError, type KDF, type Kind, type Meta } from './types'

/** Prefixed to every HKDF info and every AAD, so nothing of v1 passes for another version. */
export const PREFIX = 'sharethings/v1|'

export const IV_BYTES = 12
export const TAG_BYTES = 16
export const KEY_BYTES = 32
export const SALT_BYTES = 16
/** A chunk blob is iv || ciphertext || tag: its plaintext length plus this. */
export const CHUNK_OVERHEAD = IV_BYTES + TAG_BYTES

export const MIN_CHUNK_SIZE = 64 * 1024
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024
export const DEFAULT_ITERATIONS = 600000
/** The server refuses more; the client too, so a hostile server cannot make it spin for hours. */
export const MAX_ITERATIONS = 10_000_000
/** The server's limit on metadata.data (ciphertext plus tag). */
export const MAX_METADATA_DATA = 16 * 1024

/** HKDF infos, without PREFIX (keys.ts adds it). */
export const INFO = {
  fingerprintKey: 'fingerprint-key',
  fingerprintIV: 'fingerprint-iv',
  contentKey: 'content-key',
  itemKey: 'item-key',
} as const

/** The AAD of an item's metadata: binds it to its item, so a server cannot swap names. */
export function metaAAD(contentId: string): string {
  return `${PREFIX}meta|${contentId}`
}

/** The AAD of a chunk: binds item, index and count, so reordering or truncation is caught. */
export function chunkAAD(contentId: string, index: number, total: number): string {
  return `${PREFIX}chunk|${contentId}|${index}|${total}`
}

/** n = max(1, ceil(size / chunkSize)): an empty item is still one (empty) chunk. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize))
}

/** The encrypted length of chunk index; 0 for an index outside [0, n). */
export function blobSize(size: number, chunkSize: number, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= chunkCount(size, chunkSize)) return 0
  return Math.min(chunkSize, size - index * chunkSize) + CHUNK_OVERHEAD
}

/** The sum of all blob sizes: what the server calls totalSize. */
export function totalSize(size: number, chunkSize: number): number {
  return size + chunkCount(size, chunkSize) * CHUNK_OVERHEAD
}

/**
 * The canonical metadata JSON: kind, name, mime, size, chunkSize, then the optional extras,
 * in the order the vectors use. Fields the caller added beyond Meta are not sent.
 */
export function encodeMeta(m: Meta): string {
  const o: Record<string, unknown> = {
    kind: m.kind,
    name: m.name,
    mime: m.mime,
    size: m.size,
    chunkSize: m.chunkSize,
  }
  if (m.image) o.image = { width: m.image.width, height: m.image.height }
  if (m.text) o.text = { chars: m.text.chars, lines: m.text.lines }
  return JSON.stringify(o)
}

/**
 * The rule violated by m, or '' if it has none. Receivers check these before trusting sizes:
 * without them a sender could make them divide by zero or allocate absurd buffers.
 */
export function metaProblem(m: Meta): string {
  if (!isKind(m.kind)) return `kind ${JSON.stringify(m.kind)} is not text, image or file`
  if (typeof m.name !== 'string' || typeof m.mime !== 'string') return 'name and mime must be strings'
  if (!Number.isSafeInteger(m.size) || m.size < 0) return `size ${m.size} is not an integer >= 0`
  if (!Number.isInteger(m.chunkSize) || m.chunkSize < MIN_CHUNK_SIZE || m.chunkSize > MAX_CHUNK_SIZE) {
    return `chunkSize ${m.chunkSize} is not from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`
  }
  if (m.image !== undefined && !counts(m.image, 'width', 'height')) return 'image needs integer width and height >= 0'
  if (m.text !== undefined && !counts(m.text, 'chars', 'lines')) return 'text needs integer chars and lines >= 0'
  return ''
}

/**
 * Parses opened metadata JSON. Unknown fields are dropped (receivers ignore what they do not
 * know); a missing name or mime is "" as in the Go client; anything else that breaks the
 * rules is a DecryptError, because to the caller it is one more item it cannot read.
 */
export function decodeMeta(json: string, contentId: string): Meta {
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch {
    throw new DecryptError(`metadata of item ${contentId} is not JSON`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DecryptError(`metadata of item ${contentId} is not a JSON object`)
  }
  const o = v as Record<string, unknown>
  const m = {
    kind: o.kind,
    name: o.name ?? '',
    mime: o.mime ?? '',
    size: o.size,
    chunkSize: o.chunkSize,
  } as Meta
  // null means absent, as Go's encoding/json reads it.
  if (o.image != null) m.image = o.image as Meta['image']
  if (o.text != null) m.text = o.text as Meta['text']
  const problem = metaProblem(m)
  if (problem) throw new DecryptError(`metadata of item ${contentId}: ${problem}`)
  if (m.image) m.image = { width: m.image.width, height: m.image.height }
  if (m.text) m.text = { chars: m.text.chars, lines: m.text.lines }
  return m
}

/**
 * Throws unless kdf is something the server would accept: the right alg, a 16-byte salt and
 * 1 to MAX_ITERATIONS iterations. Returns the decoded salt.
 */
export function checkKDF(kdf: KDF): Uint8Array<ArrayBuffer> {
  if (kdf?.alg !== 'PBKDF2-SHA256') throw new Error(`unsupported kdf alg ${JSON.stringify(kdf?.alg)}`)
  if (!Number.isInteger(kdf.iterations) || kdf.iterations < 1 || kdf.iterations > MAX_ITERATIONS) {
    throw new Error(`kdf iterations ${kdf.iterations} not from 1 to ${MAX_ITERATIONS}`)
  }
  let salt: Uint8Array<ArrayBuffer>
  try {
    salt = fromBase64(kdf.salt)
  } catch {
    throw new Error('kdf salt is not base64')
  }
  if (salt.length !== SALT_BYTES) throw new Error(`kdf salt is ${salt.length} bytes, not ${SALT_BYTES}`)
  return salt
}

function isKind(k: unknown): k is Kind {
  return k === 'text' || k === 'image' || k === 'file'
}

function counts(o: unknown, a: string, b: string): boolean {
  if (typeof o !== 'object' || o === null) return false
  const r = o as Record<string, unknown>
  return [r[a], r[b]].every((x) => Number.isSafeInteger(x) && (x as number) >= 0)
}
