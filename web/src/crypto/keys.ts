// The protocol's key schedule and sealing rules (PROTOCOL §2), written once against an AEAD
// and a Backend so that WebCrypto, the pure-JS fallback and remembered non-extractable keys
// all produce the same bytes. Runs inside the worker; nothing here posts messages.

import type { Backend } from './backend'
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding'
import {
  CHUNK_OVERHEAD, INFO, IV_BYTES, KEY_BYTES, MAX_METADATA_DATA, PREFIX, TAG_BYTES,
  checkKDF, chunkAAD, decodeMeta, encodeMeta, metaAAD, metaProblem,
} from './protocol'
import { DecryptError, type Bytes, type KDF, type Meta, type Sealed } from './types'

/** AES-256-GCM bound to one key, whatever form that key takes. */
export interface Aead {
  seal(iv: Bytes, plaintext: Bytes, aad: Bytes): Promise<Bytes>
  /** Rejects with DecryptError when the tag does not verify. */
  open(iv: Bytes, sealed: Bytes, aad: Bytes): Promise<Bytes>
}

/** What one passphrase yields for one session. master is kept only for the vector tests. */
export interface Secrets {
  master: Bytes
  fingerprintKey: Bytes
  fingerprintIV: Bytes
  contentKey: Bytes
}

export function backendAead(backend: Backend, key: Bytes): Aead {
  return {
    seal: (iv, plaintext, aad) => backend.aesGcmSeal(key, iv, plaintext, aad),
    open: (iv, sealed, aad) => backend.aesGcmOpen(key, iv, sealed, aad),
  }
}

/**
 * Runs the expensive PBKDF2 once and expands it with HKDF. The passphrase is NFC-normalised
 * so that the same words typed on systems that compose accents differently give the same keys.
 */
export async function deriveSecrets(backend: Backend, passphrase: string, kdf: KDF): Promise<Secrets> {
  const salt = checkKDF(kdf)
  const master = await backend.pbkdf2(utf8(passphrase.normalize('NFC')), salt, kdf.iterations, KEY_BYTES)
  const expand = (info: string, length: number) => backend.hkdf(master, new Uint8Array(0), utf8(PREFIX + info), length)
  return {
    master,
    fingerprintKey: await expand(INFO.fingerprintKey, KEY_BYTES),
    fingerprintIV: await expand(INFO.fingerprintIV, IV_BYTES),
    contentKey: await expand(INFO.contentKey, KEY_BYTES),
  }
}

/**
 * The deterministic self-encryption of the session id. The fixed IV is safe only because the
 * key encrypts this one plaintext; it lets the server compare without learning the passphrase.
 */
export async function sealFingerprint(fpKey: Aead, fpIV: Bytes, sessionId: string): Promise<Sealed> {
  const data = await fpKey.seal(fpIV, utf8(sessionId), new Uint8Array(0))
  return { iv: toBase64(fpIV), data: toBase64(data) }
}

/** The key of one item. The content id is the salt, so random IVs need not be unique across items. */
export function deriveItemKey(backend: Backend, contentKey: Bytes, contentId: string): Promise<Bytes> {
  return backend.hkdf(contentKey, utf8(contentId), utf8(PREFIX + INFO.itemKey), KEY_BYTES)
}

/** Seals meta in the canonical JSON. Refuses metadata a receiver would refuse, at the sender. */
export function sealMeta(item: Aead, contentId: string, meta: Meta, iv?: Bytes): Promise<Sealed> {
  const problem = metaProblem(meta)
  if (problem) return Promise.reject(new Error(`metadata: ${problem}`))
  return sealMetaJSON(item, contentId, utf8(encodeMeta(meta)), iv)
}

/** Seals metadata JSON byte for byte; the vectors need another client's exact bytes. */
export async function sealMetaJSON(item: Aead, contentId: string, json: Bytes, iv = randomIV()): Promise<Sealed> {
  if (json.length + TAG_BYTES > MAX_METADATA_DATA) {
    throw new Error(`metadata of ${json.length} bytes is over the limit of ${MAX_METADATA_DATA - TAG_BYTES}`)
  }
  checkIV(iv)
  const data = await item.seal(iv, json, utf8(metaAAD(contentId)))
  return { iv: toBase64(iv), data: toBase64(data) }
}

/** Opens and checks an item's metadata. Every failure, malformed base64 included, is a DecryptError. */
export async function openMeta(item: Aead, contentId: string, sealed: Sealed): Promise<Meta> {
  let iv: Bytes, data: Bytes
  try {
    iv = fromBase64(sealed?.iv)
    data = fromBase64(sealed?.data)
  } catch {
    throw new DecryptError(`metadata of item ${contentId} is not base64`)
  }
  // GCM implementations throw their own errors on other IV lengths; the IV comes from the server.
  if (iv.length !== IV_BYTES || data.length < TAG_BYTES) {
    throw new DecryptError(`metadata of item ${contentId} is too short`)
  }
  const plain = await item.open(iv, data, utf8(metaAAD(contentId))).catch(rethrow(`metadata of item ${contentId}`))
  let json: string
  try {
    json = fromUtf8(plain)
  } catch {
    throw new DecryptError(`metadata of item ${contentId} is not UTF-8`)
  }
  return decodeMeta(json, contentId)
}

/** Returns iv || GCM(plaintext) || tag for chunk index of total, in one buffer ready to transfer. */
export async function sealChunk(
  item: Aead, contentId: string, index: number, total: number, plaintext: Bytes, iv = randomIV(),
): Promise<Bytes> {
  if (!Number.isInteger(index) || !Number.isInteger(total) || index < 0 || index >= total) {
    throw new Error(`chunk index ${index} is not below the chunk count ${total}`)
  }
  checkIV(iv)
  const sealed = await item.seal(iv, plaintext, utf8(chunkAAD(contentId, index, total)))
  const blob = new Uint8Array(IV_BYTES + sealed.length)
  blob.set(iv)
  blob.set(sealed, IV_BYTES)
  return blob
}

/** Opens a chunk blob. A short blob, a wrong tag, or another index, count or item: DecryptError. */
export async function openChunk(item: Aead, contentId: string, index: number, total: number, blob: Bytes): Promise<Bytes> {
  const where = `chunk ${index}/${total} of item ${contentId}`
  if (blob.length < CHUNK_OVERHEAD) {
    throw new DecryptError(`${where} is ${blob.length} bytes, shorter than iv and tag`)
  }
  const aad = utf8(chunkAAD(contentId, index, total))
  return item.open(blob.subarray(0, IV_BYTES), blob.subarray(IV_BYTES), aad).catch(rethrow(where))
}

/** 12 fresh random bytes. getRandomValues exists even where crypto.subtle does not. */
export function randomIV(): Bytes {
  return crypto.getRandomValues(new Uint8Array(IV_BYTES))
}

function checkIV(iv: Bytes): void {
  if (iv.length !== IV_BYTES) throw new Error(`iv is ${iv.length} bytes, not ${IV_BYTES}`)
}

/** Prefixes a DecryptError's message with where it happened; other errors pass unchanged. */
function rethrow(where: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof DecryptError) throw new DecryptError(`${where}: ${err.message}`)
    throw err
  }
}

/** The keys of one session as the worker holds them behind a handle. */
export interface KeyRing {
  readonly sessionId: string
  fingerprint(): Promise<Sealed>
  /** The AEAD of one item; derived once and kept while the item is in use. */
  item(contentId: string): Promise<Aead>
}

/** Keys derived from a passphrase in this worker, usable with either backend. */
export class DerivedKeyRing implements KeyRing {
  readonly secrets: Omit<Secrets, 'master'>
  readonly item: (contentId: string) => Promise<Aead>

  constructor(private readonly backend: Backend, readonly sessionId: string, secrets: Secrets) {
    // Everything is expanded from master already; no reason to keep it in memory.
    const { master, ...rest } = secrets
    master.fill(0)
    this.secrets = rest
    this.item = memoItems(async (contentId) => backendAead(backend, await deriveItemKey(backend, rest.contentKey, contentId)))
  }

  fingerprint(): Promise<Sealed> {
    const { fingerprintKey, fingerprintIV } = this.secrets
    return sealFingerprint(backendAead(this.backend, fingerprintKey), fingerprintIV, this.sessionId)
  }
}

/** Items kept per key ring: an upload or download asks for the same item once per chunk. */
const ITEMS_KEPT = 64

/** Memoises item derivation, forgetting the oldest items and any derivation that failed. */
export function memoItems(derive: (contentId: string) => Promise<Aead>): (contentId: string) => Promise<Aead> {
  const kept = new Map<string, Promise<Aead>>()
  return (contentId) => {
    let p = kept.get(contentId)
    if (p) {
      kept.delete(contentId) // re-insert: Map order is then least recently used first
    } else {
      const derived = derive(contentId)
      derived.catch(() => kept.get(contentId) === derived && kept.delete(contentId))
      p = derived
    }
    kept.set(contentId, p)
    if (kept.size > ITEMS_KEPT) kept.delete(kept.keys().next().value!)
    return p
  }
}
