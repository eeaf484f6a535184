// The WebCrypto backend. Raw key bytes are imported as non-extractable CryptoKeys per call:
// an import costs microseconds against milliseconds of GCM over a chunk, and it keeps this
// backend as stateless as the pure-JS one.

import type { Backend } from './backend'
import { DecryptError, type Bytes } from './types'

export function subtleBackend(subtle: SubtleCrypto = crypto.subtle): Backend {
  const aesKey = (raw: Bytes, usage: KeyUsage) => subtle.importKey('raw', raw, 'AES-GCM', false, [usage])

  return {
    name: 'webcrypto',

    async pbkdf2(password, salt, iterations, length) {
      const key = await subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits'])
      const bits = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, length * 8)
      return new Uint8Array(bits)
    },

    async hkdf(ikm, salt, info, length) {
      const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits'])
      const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8)
      return new Uint8Array(bits)
    },

    async aesGcmSeal(key, iv, plaintext, aad) {
      const k = await aesKey(key, 'encrypt')
      return new Uint8Array(await subtle.encrypt(gcmParams(iv, aad), k, plaintext))
    },

    async aesGcmOpen(key, iv, sealed, aad) {
      const k = await aesKey(key, 'decrypt')
      return openWith(subtle, k, iv, sealed, aad)
    },

    async sha256(data) {
      return new Uint8Array(await subtle.digest('SHA-256', data))
    },
  }
}

/** AES-GCM parameters; an empty AAD is left out, which GCM treats the same. */
export function gcmParams(iv: Bytes, aad: Bytes): AesGcmParams {
  const p: AesGcmParams = { name: 'AES-GCM', iv, tagLength: 128 }
  if (aad.length > 0) p.additionalData = aad
  return p
}

/**
 * Decrypts with a CryptoKey, turning WebCrypto's OperationError into DecryptError. Shared
 * with remember.ts, whose keys exist only as non-extractable CryptoKeys.
 */
export async function openWith(subtle: SubtleCrypto, key: CryptoKey, iv: Bytes, sealed: Bytes, aad: Bytes): Promise<Bytes> {
  try {
    return new Uint8Array(await subtle.decrypt(gcmParams(iv, aad), key, sealed))
  } catch {
    throw new DecryptError('wrong passphrase or tampered data')
  }
}
