// A server that flips, reorders, swaps, truncates or re-counts chunks, or serves another
// item's metadata, must be caught with DecryptError, on both backends; and opened metadata
// that breaks the protocol's rules is refused the same way.

import { beforeAll, describe, expect, it } from 'vitest'
import type { Backend } from './backend'
import { toBase64, utf8 } from './encoding'
import { backendAead, deriveItemKey, deriveSecrets, openChunk, openMeta, sealChunk, sealMeta, sealMetaJSON, type Aead } from './keys'
import { nobleBackend } from './noble'
import { CHUNK_OVERHEAD, MIN_CHUNK_SIZE } from './protocol'
import { subtleBackend } from './subtle'
import { DecryptError, type KDF, type Meta, type Sealed } from './types'

// Cheap: these tests are about what happens after derivation.
const kdf: KDF = { alg: 'PBKDF2-SHA256', iterations: 1000, salt: toBase64(new Uint8Array(16).fill(7)) }
const otherSalt: KDF = { ...kdf, salt: toBase64(new Uint8Array(16).fill(8)) }
const CID = '0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b'
const OTHER_CID = '5a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d'
const PASS = 'correct horse battery staple'

const backends: Backend[] = [subtleBackend(), nobleBackend()]

async function itemOf(backend: Backend, passphrase: string, contentId: string, k = kdf): Promise<Aead> {
  const { contentKey } = await deriveSecrets(backend, passphrase, k)
  return backendAead(backend, await deriveItemKey(backend, contentKey, contentId))
}

async function wantDecryptError(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(DecryptError)
}

describe.each(backends)('$name', (backend) => {
  let item: Aead
  beforeAll(async () => {
    item = await itemOf(backend, PASS, CID)
  })

  describe('chunks', () => {
    const plain = utf8('Grüße aus der Schweiz!')
    const index = 1
    const total = 3
    let blob: Uint8Array<ArrayBuffer>
    beforeAll(async () => {
      blob = await sealChunk(item, CID, index, total, plain)
    })
    const flip = (b: Uint8Array, i: number) => {
      const c = new Uint8Array(b)
      c[i] ^= 1
      return c
    }

    it('opens what it sealed', async () => {
      expect(await openChunk(item, CID, index, total, blob)).toEqual(plain)
    })
    it('refuses every flipped byte', async () => {
      for (let i = 0; i < blob.length; i++) await wantDecryptError(openChunk(item, CID, index, total, flip(blob, i)))
    })
    it.each([
      ['another index', 0, total],
      ['another total', index, total + 1],
      ['a truncated total', index, index + 1],
    ])('refuses %s', async (_, i, n) => {
      await wantDecryptError(openChunk(item, CID, i, n, blob))
    })
    it('refuses truncated and extended blobs', async () => {
      await wantDecryptError(openChunk(item, CID, index, total, blob.subarray(0, blob.length - 1)))
      await wantDecryptError(openChunk(item, CID, index, total, blob.subarray(0, CHUNK_OVERHEAD - 1)))
      await wantDecryptError(openChunk(item, CID, index, total, new Uint8Array(0)))
      const longer = new Uint8Array(blob.length + 1)
      longer.set(blob)
      await wantDecryptError(openChunk(item, CID, index, total, longer))
    })
    it('refuses a wrong key and another item', async () => {
      await wantDecryptError(openChunk(await itemOf(backend, PASS + 'r', CID), CID, index, total, blob))
      await wantDecryptError(openChunk(await itemOf(backend, PASS, OTHER_CID), OTHER_CID, index, total, blob))
      await wantDecryptError(openChunk(item, OTHER_CID, index, total, blob))
    })
    it('refuses chunks swapped by the server', async () => {
      const first = await sealChunk(item, CID, 0, total, utf8('first'))
      await wantDecryptError(openChunk(item, CID, index, total, first))
    })
    it('uses a fresh IV every time', async () => {
      const again = await sealChunk(item, CID, index, total, plain)
      expect(toBase64(again)).not.toBe(toBase64(blob))
    })
    it('refuses to seal an index outside the count', async () => {
      await expect(sealChunk(item, CID, 3, 3, plain)).rejects.toThrow(/not below/)
      await expect(sealChunk(item, CID, -1, 3, plain)).rejects.toThrow(/not below/)
    })
  })

  describe('metadata', () => {
    const meta: Meta = { kind: 'file', name: 'räport.bin', mime: 'application/octet-stream', size: 5, chunkSize: MIN_CHUNK_SIZE }
    let sealed: Sealed
    beforeAll(async () => {
      sealed = await sealMeta(item, CID, meta)
    })
    const flipB64 = (s: string, i: number) => {
      const b = Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
      b[i] ^= 0x80
      return toBase64(b)
    }

    it('opens what it sealed', async () => {
      expect(await openMeta(item, CID, sealed)).toEqual(meta)
    })
    it('refuses a wrong passphrase, salt or item', async () => {
      await wantDecryptError(openMeta(await itemOf(backend, PASS + 'r', CID), CID, sealed))
      await wantDecryptError(openMeta(await itemOf(backend, PASS, CID, otherSalt), CID, sealed))
      await wantDecryptError(openMeta(await itemOf(backend, PASS, OTHER_CID), OTHER_CID, sealed))
    })
    it('refuses tampered, short or malformed data', async () => {
      await wantDecryptError(openMeta(item, CID, { iv: sealed.iv, data: flipB64(sealed.data, 3) }))
      await wantDecryptError(openMeta(item, CID, { iv: flipB64(sealed.iv, 0), data: sealed.data }))
      await wantDecryptError(openMeta(item, CID, { iv: toBase64(new Uint8Array(11)), data: sealed.data }))
      await wantDecryptError(openMeta(item, CID, { iv: '', data: '' }))
      await wantDecryptError(openMeta(item, CID, { iv: sealed.iv, data: sealed.data.slice(0, -4) + '!!==' }))
      await wantDecryptError(openMeta(item, CID, { iv: sealed.iv, data: sealed.data + '\n' }))
    })
    it('refuses to seal metadata a receiver would refuse', async () => {
      const bad = { ...meta, chunkSize: 1000 }
      const err = await sealMeta(item, CID, bad).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      expect(err).not.toBeInstanceOf(DecryptError)
    })
  })

  // Authentic (correctly sealed) metadata that breaks the rules is still unreadable.
  describe('opened metadata validation', () => {
    const open = async (json: string | Uint8Array<ArrayBuffer>) =>
      openMeta(item, CID, await sealMetaJSON(item, CID, typeof json === 'string' ? utf8(json) : json))
    const base = { kind: 'text', name: 'n', mime: 'text/plain', size: 3, chunkSize: 65536 }
    const js = (extra: Record<string, unknown>) => JSON.stringify({ ...base, ...extra })

    it.each([
      ['kind video', js({ kind: 'video' })],
      ['no kind', JSON.stringify({ ...base, kind: undefined })],
      ['negative size', js({ size: -1 })],
      ['fractional size', js({ size: 1.5 })],
      ['size as a string', js({ size: '3' })],
      ['size beyond 2^53', js({ size: 2 ** 53 })],
      ['chunkSize 65535', js({ chunkSize: 65535 })],
      ['chunkSize 16777217', js({ chunkSize: 16777217 })],
      ['no chunkSize', JSON.stringify({ ...base, chunkSize: undefined })],
      ['name as a number', js({ name: 7 })],
      ['image without height', js({ image: { width: 3 } })],
      ['text as a string', js({ text: 'x' })],
      ['an array', '[]'],
      ['null', 'null'],
      ['not JSON', '{"kind":'],
    ])('refuses %s', async (_, json) => {
      await wantDecryptError(open(json))
    })

    it('refuses metadata that is not UTF-8', async () => {
      const bytes = utf8(js({ name: 'XX' }))
      const at = bytes.indexOf(0x58) // the first X
      bytes[at] = 0xff
      await wantDecryptError(open(bytes))
    })

    it('accepts the bounds, drops unknown fields, reads null and missing as Go does', async () => {
      expect(await open(js({ size: 0, chunkSize: 16777216, future: { x: 1 } }))).toEqual({ ...base, size: 0, chunkSize: 16777216 })
      expect(await open(JSON.stringify({ ...base, name: undefined, mime: null, image: null }))).toEqual({ ...base, name: '', mime: '' })
      const image = { width: 640, height: 480, depth: 8 }
      expect(await open(js({ kind: 'image', image }))).toEqual({ ...base, kind: 'image', image: { width: 640, height: 480 } })
    })
  })
})

it('each backend opens what the other sealed', async () => {
  const [subtle, noble] = backends
  const a = await itemOf(subtle, PASS, CID)
  const b = await itemOf(noble, PASS, CID)
  const plain = utf8('same bytes either way')
  expect(await openChunk(b, CID, 0, 1, await sealChunk(a, CID, 0, 1, plain))).toEqual(plain)
  expect(await openChunk(a, CID, 0, 1, await sealChunk(b, CID, 0, 1, plain))).toEqual(plain)
})
