// The types of the crypto module's public API (PROTOCOL §2). The UI and the transport code
// import them from './index'; everything in this file crosses the worker boundary as plain
// structured-clone data, except DecryptError, which the client rebuilds on the main thread.

/** Kinds of shared item in protocol v1. */
export type Kind = 'text' | 'image' | 'file'

/** Key-derivation parameters of a session: public, chosen by its creator, stored by the server. */
export interface KDF {
  alg: 'PBKDF2-SHA256'
  iterations: number
  /** Standard base64 (with padding) of 16 random bytes. */
  salt: string
}

/** An AES-GCM ciphertext with its IV, as the wire carries it: both standard base64. */
export interface Sealed {
  iv: string
  data: string
}

/** The plaintext metadata of an item. It travels only encrypted (Item.metadata). */
export interface Meta {
  kind: Kind
  name: string
  mime: string
  size: number
  chunkSize: number
  image?: { width: number; height: number }
  text?: { chars: number; lines: number }
}

/**
 * A wrong key or tampered data. The two cannot be told apart by design, so callers get one
 * error for both; authentic metadata that breaks the protocol's rules is reported the same
 * way, so that "cannot read this item" is a single check.
 */
export class DecryptError extends Error {
  override name = 'DecryptError'
}

/** Which implementation does the work: WebCrypto, or the pure-JS fallback. */
export type BackendName = 'webcrypto' | 'fallback'

/**
 * Bytes that sit on a plain ArrayBuffer. WebCrypto's BufferSource refuses views of a
 * SharedArrayBuffer, so the module passes this type around instead of bare Uint8Array.
 */
export type Bytes = Uint8Array<ArrayBuffer>

/** Keys of one session, held inside the worker. */
export interface SessionKeys {
  readonly sessionId: string
  /** {iv: fpIV, data: GCM(fpKey, fpIV, utf8(sessionId))}: deterministic, for the join. */
  fingerprint(): Promise<Sealed>
  sealMeta(contentId: string, meta: Meta): Promise<Sealed>
  /** Rejects with DecryptError for a wrong key, tampering, or metadata that breaks the rules. */
  openMeta(contentId: string, sealed: Sealed): Promise<Meta>
  /** plaintext is transferred (detached) to the worker. Resolves to iv || ciphertext || tag. */
  sealChunk(contentId: string, index: number, total: number, plaintext: ArrayBuffer): Promise<Uint8Array>
  /** blob is transferred (detached) to the worker. Rejects with DecryptError. */
  openChunk(contentId: string, index: number, total: number, blob: ArrayBuffer): Promise<Uint8Array>
  /** Stores non-extractable keys for this session in IndexedDB; false if unsupported. */
  remember(): Promise<boolean>
  /** Removes what remember() stored for this session id. */
  forget(): Promise<void>
  /** Drops the keys from the worker; later calls reject. */
  close(): void
}
