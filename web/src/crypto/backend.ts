// The primitive operations the protocol needs, as one interface with two implementations:
// subtle.ts (WebCrypto) and noble.ts (pure JS, for pages without crypto.subtle). Everything
// above this layer (keys.ts) is written once against the interface, and the vector tests run
// it on both, so the two cannot drift apart.

import type { BackendName, Bytes } from './types'

export interface Backend {
  readonly name: BackendName
  /** PBKDF2-HMAC-SHA256 of password, length bytes. */
  pbkdf2(password: Bytes, salt: Bytes, iterations: number, length: number): Promise<Bytes>
  /** HKDF-SHA256 (extract and expand), length bytes. An empty salt means HashLen zeros. */
  hkdf(ikm: Bytes, salt: Bytes, info: Bytes, length: number): Promise<Bytes>
  /** AES-256-GCM with a 12-byte IV and 16-byte tag: ciphertext || tag. */
  aesGcmSeal(key: Bytes, iv: Bytes, plaintext: Bytes, aad: Bytes): Promise<Bytes>
  /** Inverse of aesGcmSeal; rejects with DecryptError when the tag does not verify. */
  aesGcmOpen(key: Bytes, iv: Bytes, sealed: Bytes, aad: Bytes): Promise<Bytes>
  sha256(data: Bytes): Promise<Bytes>
}

/**
 * Whether this context has WebCrypto's subtle API. Browsers hide it outside secure contexts
 * (plain HTTP on a LAN address), and a dedicated worker is secure exactly when the page that
 * started it is, so the main thread can answer for the worker.
 */
export function hasSubtle(): boolean {
  return typeof crypto !== 'undefined' && crypto.subtle != null
}

/** The backend name this context would use. */
export function backendName(): BackendName {
  return hasSubtle() ? 'webcrypto' : 'fallback'
}
