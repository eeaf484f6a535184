// Remember-this-device: a session's keys kept in IndexedDB so that a reload need not ask for
// the passphrase again. What is stored is only non-extractable CryptoKeys (the fingerprint
// AES-GCM key and the content key as an HKDF key) plus the fingerprint IV, which the server
// sees anyway. Never the passphrase, never raw key bytes: script on the page can use the keys
// while the record exists, but cannot read them out. That needs WebCrypto, so without
// crypto.subtle (plain HTTP on a LAN address) remembering is simply unavailable.
//
// Runs inside the worker (IndexedDB and CryptoKey cloning work there), like all key handling.

import { hasSubtle } from './backend'
import { utf8 } from './encoding'
import { memoItems, sealFingerprint, type Aead, type KeyRing, type Secrets } from './keys'
import { INFO, IV_BYTES, PREFIX } from './protocol'
import { gcmParams, openWith } from './subtle'
import type { Bytes, Sealed } from './types'

/** One remembered session, as stored: one record per session id. */
export interface StoredKeys {
  sessionId: string
  /** Records of another protocol version are ignored, not misread. */
  protocol: 'sharethings/v1'
  /** AES-GCM, encrypt only, non-extractable. */
  fingerprintKey: CryptoKey
  fingerprintIV: Bytes
  /** HKDF, deriveKey only, non-extractable: item keys are derived from it inside WebCrypto. */
  contentKey: CryptoKey
  savedAt: string
}

/** Imports the session's keys as non-extractable CryptoKeys, ready to store. */
export async function storableKeys(sessionId: string, secrets: Omit<Secrets, 'master'>): Promise<StoredKeys> {
  const subtle = crypto.subtle
  return {
    sessionId,
    protocol: 'sharethings/v1',
    fingerprintKey: await subtle.importKey('raw', secrets.fingerprintKey, 'AES-GCM', false, ['encrypt']),
    fingerprintIV: new Uint8Array(secrets.fingerprintIV),
    contentKey: await subtle.importKey('raw', secrets.contentKey, 'HKDF', false, ['deriveKey']),
    savedAt: new Date().toISOString(),
  }
}

/** Keys restored from IndexedDB (or just imported); every operation runs inside WebCrypto. */
export class StoredKeyRing implements KeyRing {
  readonly sessionId: string
  readonly item: (contentId: string) => Promise<Aead>

  constructor(readonly stored: StoredKeys) {
    this.sessionId = stored.sessionId
    this.item = memoItems(async (contentId) => cryptoKeyAead(await storedItemKey(stored.contentKey, contentId)))
  }

  fingerprint(): Promise<Sealed> {
    return sealFingerprint(cryptoKeyAead(this.stored.fingerprintKey), this.stored.fingerprintIV, this.sessionId)
  }
}

/** itemKey = HKDF(contentKey, salt=contentId, info=P+"item-key"), never leaving WebCrypto. */
function storedItemKey(contentKey: CryptoKey, contentId: string): Promise<CryptoKey> {
  const params = { name: 'HKDF', hash: 'SHA-256', salt: utf8(contentId), info: utf8(PREFIX + INFO.itemKey) }
  return crypto.subtle.deriveKey(params, contentKey, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

function cryptoKeyAead(key: CryptoKey): Aead {
  return {
    seal: async (iv, plaintext, aad) => new Uint8Array(await crypto.subtle.encrypt(gcmParams(iv, aad), key, plaintext)),
    open: (iv, sealed, aad) => openWith(crypto.subtle, key, iv, sealed, aad),
  }
}

const DB_NAME = 'sharethings-keys'
const STORE = 'sessions'

/** Whether this context could remember keys at all. */
export function canRemember(): boolean {
  return hasSubtle() && typeof indexedDB !== 'undefined'
}

/** Stores k, replacing an earlier record of the session; false where IndexedDB is unusable. */
export async function saveKeys(k: StoredKeys): Promise<boolean> {
  const db = canRemember() ? await openDB().catch(() => null) : null
  if (!db) return false
  await inStore(db, 'readwrite', (s) => s.put(k))
  return true
}

/** The stored keys of sessionId, or null; a record that does not look right is deleted. */
export async function loadKeys(sessionId: string): Promise<StoredKeys | null> {
  const db = canRemember() ? await openDB().catch(() => null) : null
  if (!db) return null
  const v = await inStore<unknown>(db, 'readonly', (s) => s.get(sessionId))
  if (v === undefined) return null
  if (isStoredKeys(v, sessionId)) return v
  await deleteKeys(sessionId)
  return null
}

export async function deleteKeys(sessionId: string): Promise<void> {
  const db = typeof indexedDB !== 'undefined' ? await openDB().catch(() => null) : null
  if (db) await inStore(db, 'readwrite', (s) => s.delete(sessionId))
}

/**
 * One store keyed by session id rather than a store per session: creating a store needs a
 * version upgrade, which another open tab can block indefinitely.
 */
function openDB(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'sessionId' })
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/** Runs one request in its own transaction and closes the database when it has committed. */
function inStore<T>(db: IDBDatabase, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(STORE, mode)
    const req = op(tx.objectStore(STORE))
    tx.oncomplete = () => resolve(req.result as T)
    tx.onerror = tx.onabort = () => reject(tx.error ?? req.error)
  }).finally(() => db.close())
}

function isStoredKeys(v: unknown, sessionId: string): v is StoredKeys {
  if (typeof v !== 'object' || v === null || typeof CryptoKey === 'undefined') return false
  const r = v as Partial<StoredKeys>
  return r.protocol === 'sharethings/v1' && r.sessionId === sessionId &&
    r.fingerprintKey instanceof CryptoKey && r.fingerprintKey.algorithm.name === 'AES-GCM' &&
    r.contentKey instanceof CryptoKey && r.contentKey.algorithm.name === 'HKDF' &&
    r.fingerprintIV instanceof Uint8Array && r.fingerprintIV.length === IV_BYTES
}
