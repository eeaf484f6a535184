// The pure-JS backend, for pages without crypto.subtle (plain HTTP on a LAN address). It uses
// the audited @noble libraries. The work is synchronous, which is why it runs in the worker;
// PBKDF2 alone yields now and then so that a long derivation does not stall other requests.

import { gcm } from '@noble/ciphers/aes.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { Backend } from './backend'
import { DecryptError } from './types'

export function nobleBackend(): Backend {
  return {
    name: 'fallback',

    async pbkdf2(password, salt, iterations, length) {
      return pbkdf2Async(sha256, password, salt, { c: iterations, dkLen: length })
    },

    async hkdf(ikm, salt, info, length) {
      // RFC 5869: an empty salt is HashLen zeros, which is what HMAC makes of an empty key.
      return hkdf(sha256, ikm, salt, info, length)
    },

    async aesGcmSeal(key, iv, plaintext, aad) {
      return gcm(key, iv, aad).encrypt(plaintext)
    },

    async aesGcmOpen(key, iv, sealed, aad) {
      try {
        return gcm(key, iv, aad).decrypt(sealed)
      } catch {
        throw new DecryptError('wrong passphrase or tampered data')
      }
    },

    async sha256(data) {
      return sha256(data)
    },
  }
}
