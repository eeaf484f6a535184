// Byte-string helpers: standard base64 with padding (every byte string on the wire), hex
// (keys in the vectors, ETags) and UTF-8. They run in the worker and on the main thread, so
// they use only what both have (atob/btoa, TextEncoder/TextDecoder), not Node's Buffer.

import type { Bytes } from './types'

const encoder = new TextEncoder()
// fatal: metadata that is not valid UTF-8 must be refused, not silently repaired.
const strictDecoder = new TextDecoder('utf-8', { fatal: true })

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** UTF-8 bytes of s. */
export function utf8(s: string): Bytes {
  return encoder.encode(s)
}

/** Decodes UTF-8, throwing TypeError on malformed input. */
export function fromUtf8(b: Uint8Array): string {
  return strictDecoder.decode(b)
}

/** Standard base64 with padding. */
export function toBase64(b: Uint8Array): string {
  // String.fromCharCode(...b) overflows the call stack on large inputs, so go in slices.
  let bin = ''
  for (let i = 0; i < b.length; i += 0x8000) {
    bin += String.fromCharCode(...b.subarray(i, i + 0x8000))
  }
  return btoa(bin)
}

/**
 * Decodes standard base64 with padding. atob alone would also accept whitespace and missing
 * padding; the protocol's encoding is exact, and a lenient decoder would let two different
 * wire strings mean the same bytes.
 */
export function fromBase64(s: string): Bytes {
  if (typeof s !== 'string' || !base64Pattern.test(s)) {
    throw new TypeError('not standard base64 with padding')
  }
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

const hexDigits = '0123456789abcdef'

/** Lowercase hex, the form of ETags and of the vectors' keys. */
export function toHex(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += hexDigits[x >> 4] + hexDigits[x & 15]
  return s
}

/** Bytes over their own whole ArrayBuffer, so that the buffer can be transferred as is. */
export function ownBuffer(b: Uint8Array): Bytes {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) {
    return b as Bytes
  }
  return new Uint8Array(b) as Bytes
}

/** A view of what the caller handed in, without copying when it is already a plain buffer. */
export function asBytes(data: ArrayBuffer | Uint8Array): Bytes {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data.buffer instanceof ArrayBuffer ? (data as Bytes) : new Uint8Array(data)
}
