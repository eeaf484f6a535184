/**
 * Client-side cryptography of ShareThings protocol v1 (docs/PROTOCOL.md §2), the only API the
 * UI and the transport code use for it.
 *
 * Where the work happens. Every key operation runs in one Web Worker (worker.ts), started on
 * first use. The main thread sends {id, op, args} and gets back {id, result} or
 * {id, error: {name, message}} (service.ts lists every op); DecryptError is rebuilt on this
 * side so `instanceof` works. Chunk buffers are transferred, not copied: the ArrayBuffer given
 * to sealChunk/openChunk is detached afterwards, and the Uint8Array that comes back owns the
 * buffer the worker produced. Derived keys stay in the worker in a Map by handle; a
 * SessionKeys object holds only that handle, and close() drops the keys. If the worker dies,
 * its keys die with it: pending calls reject, the next call starts a fresh worker, and old
 * SessionKeys reject until the keys are derived again.
 *
 * Which crypto. WebCrypto where crypto.subtle exists; otherwise (a page served over plain
 * HTTP on a LAN address) the audited pure-JS @noble/hashes and @noble/ciphers. Both reproduce
 * testdata/protocol-vectors.json byte for byte (vectors.test.ts). cryptoBackendName() says
 * which one the worker uses: a dedicated worker is a secure context exactly when its page is.
 *
 * What is derived. master = PBKDF2-SHA256(NFC(passphrase), salt, iterations); fingerprint key
 * and IV and the content key are HKDF-expanded from it; each item's key is HKDF(contentKey,
 * salt = contentId). Metadata and chunks are AES-256-GCM with random 12-byte IVs; the AADs
 * bind the content id, and for chunks the index and the chunk count, so a server that swaps,
 * reorders or truncates is caught (DecryptError).
 *
 * Remember this device. remember() stores non-extractable CryptoKeys (never the passphrase,
 * never key bytes) in IndexedDB, one record per session id; rememberedKeys() brings them
 * back after a reload. Only with WebCrypto: without it remember() resolves false.
 */

import { backendName } from './backend'
import { RpcClient, deriveVia, recallVia, sha256HexVia } from './client'
import { toBase64 } from './encoding'
import { DEFAULT_ITERATIONS, SALT_BYTES } from './protocol'
import type { BackendName, KDF, SessionKeys } from './types'

export { DecryptError } from './types'
export type { Kind, KDF, Meta, Sealed, SessionKeys } from './types'
export { DEFAULT_CHUNK_SIZE, DEFAULT_ITERATIONS, blobSize, chunkCount, totalSize } from './protocol'

let rpc: RpcClient | null = null

/** The one client, and with it the worker, created on first use so pages that never touch crypto pay nothing. */
function client(): RpcClient {
  rpc ??= new RpcClient(() => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }))
  return rpc
}

/** Fresh parameters for a new session: PBKDF2-SHA256 with 16 random salt bytes. */
export function newKDF(iterations: number = DEFAULT_ITERATIONS): KDF {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  return { alg: 'PBKDF2-SHA256', iterations, salt: toBase64(salt) }
}

/** Which implementation the worker uses. */
export function cryptoBackendName(): BackendName {
  return backendName()
}

/**
 * Runs PBKDF2 in the worker: the slow part, at 600000 iterations about 0.1 s with WebCrypto
 * and 1 s with the fallback on a desktop Chromium, several times that on a phone. Rejects
 * with a plain Error for kdf parameters the server would refuse.
 */
export function deriveKeys(sessionId: string, passphrase: string, kdf: KDF): Promise<SessionKeys> {
  return deriveVia(client(), sessionId, passphrase, kdf)
}

/** The keys remember() stored for sessionId on this device, or null. */
export function rememberedKeys(sessionId: string): Promise<SessionKeys | null> {
  return recallVia(client(), sessionId)
}

/** Lowercase hex SHA-256, as in a chunk's ETag; works with or without crypto.subtle. */
export function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  return sha256HexVia(client, data)
}
