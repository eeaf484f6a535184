// Both backends, called directly (Vitest runs in Node, where Worker differs), must reproduce
// every value of testdata/protocol-vectors.json: the keys, the fingerprint, the item keys, the
// metadata and every chunk blob with the vector's IVs, and must open what the vectors sealed.

import { describe, expect, it } from 'vitest'
import raw from '../../../testdata/protocol-vectors.json?raw'
import type { Backend } from './backend'
import { fromBase64, toBase64, toHex, utf8 } from './encoding'
import { backendAead, deriveItemKey, deriveSecrets, openChunk, openMeta, sealChunk, sealFingerprint, sealMeta, sealMetaJSON } from './keys'
import { nobleBackend } from './noble'
import { PREFIX, blobSize, chunkCount, encodeMeta } from './protocol'
import { StoredKeyRing, storableKeys } from './remember'
import { subtleBackend } from './subtle'
import type { KDF, Meta, Sealed } from './types'

interface VectorSession {
  passphrase: string
  sessionId: string
  kdf: KDF
  master: string
  fingerprintKey: string
  fingerprint: Sealed
  contentKey: string
}

interface VectorChunk {
  index: number
  iv: string
  plaintextSHA256: string
  plaintextLength: number
  blobLength: number
  blobSHA256: string
  blob?: string // only for small chunks
}

interface VectorItem {
  session: number
  contentId: string
  itemKey: string
  plaintext?: string
  plaintextGenerator?: string
  totalChunks: number
  metadata: { json: string; iv: string; data: string }
  chunks: VectorChunk[]
}

const vectors = JSON.parse(raw) as { protocol: string; sessions: VectorSession[]; items: VectorItem[] }

/** The only plaintextGenerator the vectors use; an unknown one fails the test. */
const GENERATOR = 'byte i = (i*31 + 21 + (i>>8)) & 255'

function plaintextOf(vi: VectorItem, size: number): Uint8Array<ArrayBuffer> {
  if (vi.plaintextGenerator === undefined) return fromBase64(vi.plaintext ?? '')
  expect(vi.plaintextGenerator).toBe(GENERATOR)
  const p = new Uint8Array(size)
  for (let i = 0; i < size; i++) p[i] = (i * 31 + 21 + (i >> 8)) & 255
  return p
}

const backends: Backend[] = [subtleBackend(), nobleBackend()]
// PBKDF2 at 600000 iterations in pure JS takes seconds.
const SLOW = 120_000

it('speaks the protocol of the vectors', () => {
  expect(PREFIX).toBe(vectors.protocol + '|')
})

describe.each(backends)('$name', (backend) => {
  const secretsOf = (s: VectorSession) => deriveSecrets(backend, s.passphrase, s.kdf)

  describe('sessions', () => {
    it.each(vectors.sessions)('$sessionId, $kdf.iterations iterations', async (s) => {
      const k = await secretsOf(s)
      expect(toHex(k.master)).toBe(s.master)
      expect(toHex(k.fingerprintKey)).toBe(s.fingerprintKey)
      expect(toHex(k.contentKey)).toBe(s.contentKey)
      expect(toBase64(k.fingerprintIV)).toBe(s.fingerprint.iv)
      const fp = await sealFingerprint(backendAead(backend, k.fingerprintKey), k.fingerprintIV, s.sessionId)
      expect(fp).toEqual(s.fingerprint)
    }, SLOW)

    // The vectors hold a passphrase in decomposed form; a browser that normalises derives
    // the keys of the composed form, and so must we from either form.
    it('normalises the passphrase to NFC', async () => {
      const nfd = vectors.sessions.filter((s) => s.passphrase !== s.passphrase.normalize('NFC'))
      expect(nfd.length).toBeGreaterThan(0)
      for (const s of nfd) {
        for (const form of ['NFC', 'NFD'] as const) {
          const k = await deriveSecrets(backend, s.passphrase.normalize(form), s.kdf)
          expect(toHex(k.master), form).toBe(s.master)
        }
      }
    })
  })

  describe.each(vectors.items)('item $contentId', (vi) => {
    const s = vectors.sessions[vi.session]
    const itemKey = async () => deriveItemKey(backend, (await secretsOf(s)).contentKey, vi.contentId)

    it('derives the item key', async () => {
      expect(toHex(await itemKey())).toBe(vi.itemKey)
    })

    it('seals and opens the metadata', async () => {
      const item = backendAead(backend, await itemKey())
      const md = vi.metadata
      const iv = fromBase64(md.iv)
      expect(await sealMetaJSON(item, vi.contentId, utf8(md.json), iv)).toEqual({ iv: md.iv, data: md.data })
      const meta = await openMeta(item, vi.contentId, { iv: md.iv, data: md.data })
      // Our canonical encoding is the vectors' encoding, so sealMeta reproduces them too.
      expect(encodeMeta(meta)).toBe(md.json)
      expect(await sealMeta(item, vi.contentId, meta, iv)).toEqual({ iv: md.iv, data: md.data })
    })

    it('seals and opens every chunk', async () => {
      const item = backendAead(backend, await itemKey())
      const meta = JSON.parse(vi.metadata.json) as Meta
      const plain = plaintextOf(vi, meta.size)
      expect(plain.length).toBe(meta.size)
      expect(chunkCount(meta.size, meta.chunkSize)).toBe(vi.totalChunks)
      expect(vi.chunks.length).toBe(vi.totalChunks)
      for (const c of vi.chunks) {
        const piece = plain.subarray(c.index * meta.chunkSize, (c.index + 1) * meta.chunkSize)
        expect(piece.length).toBe(c.plaintextLength)
        expect(toHex(await backend.sha256(piece))).toBe(c.plaintextSHA256)

        const blob = await sealChunk(item, vi.contentId, c.index, vi.totalChunks, piece, fromBase64(c.iv))
        expect(blob.length).toBe(c.blobLength)
        expect(blobSize(meta.size, meta.chunkSize, c.index)).toBe(c.blobLength)
        expect(toHex(await backend.sha256(blob))).toBe(c.blobSHA256)
        if (c.blob !== undefined) expect(toBase64(blob)).toBe(c.blob)

        const theirs = c.blob !== undefined ? fromBase64(c.blob) : blob
        const opened = await openChunk(item, vi.contentId, c.index, vi.totalChunks, theirs)
        expect(toHex(opened)).toBe(toHex(piece))
      }
    })
  })
})

// Remembered keys live only as non-extractable CryptoKeys; they must still speak the vectors.
describe('remembered keys (WebCrypto, non-extractable)', () => {
  const backend = subtleBackend()

  it.each(vectors.items)('reproduce item $contentId', async (vi) => {
    const s = vectors.sessions[vi.session]
    const { master: _, ...secrets } = await deriveSecrets(backend, s.passphrase, s.kdf)
    const stored = await storableKeys(s.sessionId, secrets)
    expect(stored.fingerprintKey.extractable).toBe(false)
    expect(stored.contentKey.extractable).toBe(false)
    expect(JSON.stringify(stored)).not.toContain(s.contentKey)

    const ring = new StoredKeyRing(stored)
    expect(await ring.fingerprint()).toEqual(s.fingerprint)
    const item = await ring.item(vi.contentId)
    const md = vi.metadata
    expect(await sealMetaJSON(item, vi.contentId, utf8(md.json), fromBase64(md.iv))).toEqual({ iv: md.iv, data: md.data })
    const last = vi.chunks[vi.chunks.length - 1]
    if (last.blob !== undefined) {
      const opened = await openChunk(item, vi.contentId, last.index, vi.totalChunks, fromBase64(last.blob))
      expect(opened.length).toBe(last.plaintextLength)
    }
  })
})

// Not a benchmark and no threshold: a number in the test log for the record.
it('times sealing a 4 MiB chunk with each backend', async () => {
  // getRandomValues gives at most 64 KiB at a time.
  const plain = crypto.getRandomValues(new Uint8Array(65536))
  const chunk = new Uint8Array(4 * 1024 * 1024)
  for (let i = 0; i < chunk.length; i += plain.length) chunk.set(plain, i)
  for (const backend of backends) {
    const item = backendAead(backend, crypto.getRandomValues(new Uint8Array(32)))
    await sealChunk(item, 'warm-up', 0, 1, chunk.subarray(0, 65536))
    const t0 = performance.now()
    const blob = await sealChunk(item, '0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b', 0, 1, chunk)
    const ms = performance.now() - t0
    expect(blob.length).toBe(chunk.length + 28)
    console.log(`sealChunk 4 MiB, ${backend.name}: ${ms.toFixed(1)} ms (${(4 / (ms / 1000)).toFixed(0)} MiB/s)`)
  }
}, SLOW)
