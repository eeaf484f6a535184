import { describe, expect, it } from 'vitest'
import { DecryptError, type Meta, type SessionKeys } from '../crypto'
import { ApiClient } from '../api/client'
import { etagOf, fakeFetch, fakeJWT, json } from '../api/testing'
import type { Item } from '../api/types'
import { openItem, readBlob, readText, receiveItem } from './items'

const CS = 65536
const SIDE = 28 // iv + tag

/** "Encryption" for these tests: 12 bytes in front, 16 behind; the real thing is tested in ../crypto. */
const fakeKeys = (meta: Meta): SessionKeys => ({
  sessionId: 'team',
  fingerprint: async () => ({ iv: '', data: '' }),
  sealMeta: async () => ({ iv: 'aXY=', data: 'ZA==' }),
  openMeta: async (_cid, sealed) => {
    if (sealed.data === 'bad') throw new DecryptError('wrong key')
    return meta
  },
  sealChunk: async () => new Uint8Array(),
  openChunk: async (_cid, _i, _n, blob) => new Uint8Array(blob.slice(12, blob.byteLength - 16)),
  remember: async () => false,
  forget: async () => undefined,
  close: () => undefined,
})

function seal(plain: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(plain.length + SIDE)
  out.set(plain, 12)
  return out
}

function item(meta: Meta, over: Partial<Item> = {}): Item {
  const n = Math.max(1, Math.ceil(meta.size / meta.chunkSize))
  return {
    contentId: 'c1', senderId: 's', senderName: 'S', chunkSize: meta.chunkSize, totalChunks: n,
    totalSize: meta.size + n * SIDE, receivedChunks: n, complete: true, pinned: false,
    metadata: { iv: 'aXY=', data: 'ZA==' }, createdAt: '', updatedAt: '', ...over,
  }
}

/** A joined client whose server stores the given plaintext, sealed, in chunks. */
async function serverWith(plain: Uint8Array, chunkSize = CS) {
  const n = Math.max(1, Math.ceil(plain.length / chunkSize))
  const routes: Parameters<typeof fakeFetch>[0] = {
    'POST /api/v1/sessions/team/join': () => json(200, { token: fakeJWT({ iat: 1, exp: 2 ** 40 }), clientId: 'c', clients: [], lastEventId: 0, session: {}, expiresAt: '' }),
  }
  for (let i = 0; i < n; i++) {
    const blob = seal(plain.slice(i * chunkSize, (i + 1) * chunkSize))
    const etag = await etagOf(blob)
    routes[`GET /api/v1/sessions/team/contents/c1/chunks/${i}`] = () => new Response(blob, { headers: { ETag: etag } })
  }
  const f = fakeFetch(routes)
  const api = new ApiClient({ baseUrl: 'http://s.test', fetch: f.fetch })
  await api.join('team', { clientName: 'x', fingerprint: { iv: '', data: '' } })
  return { api, routes }
}

describe('openItem', () => {
  const meta: Meta = { kind: 'file', name: 'a.bin', mime: 'application/octet-stream', size: 100_000, chunkSize: CS }

  it('decrypts and checks the counts', async () => {
    const it0 = item(meta)
    await expect(openItem(fakeKeys(meta), it0)).resolves.toEqual({ item: it0, meta })
  })

  it('refuses counts the metadata does not explain', async () => {
    await expect(openItem(fakeKeys(meta), item(meta, { totalSize: 1 }))).rejects.toBeInstanceOf(DecryptError)
  })

  it('passes on a wrong key', async () => {
    const bad = item(meta, { metadata: { iv: 'aXY=', data: 'bad' } })
    await expect(openItem(fakeKeys(meta), bad)).rejects.toBeInstanceOf(DecryptError)
  })
})

describe('receiving', () => {
  const plain = Uint8Array.from({ length: 2 * CS + 5 }, (_, i) => i % 256)
  const meta: Meta = { kind: 'file', name: 'a', mime: 'application/x-test', size: plain.length, chunkSize: CS }

  it('writes the chunks in order and reports encrypted bytes', async () => {
    const { api } = await serverWith(plain)
    const out: Uint8Array[] = []
    const seen: number[] = []
    let closed = false
    await receiveItem({ api, keys: fakeKeys(meta) }, item(meta), meta, {
      write: async (c) => void out.push(c),
      close: async () => void (closed = true),
    }, (got, total) => {
      expect(total).toBe(plain.length + 3 * SIDE)
      seen.push(got)
    })
    expect(closed).toBe(true)
    expect(out.map((c) => c.length)).toEqual([CS, CS, 5])
    expect(seen.at(-1)).toBe(plain.length + 3 * SIDE)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })

  it('reads text and blobs', async () => {
    const text = 'héllo\nwörld 😀'
    const bytes = new TextEncoder().encode(text)
    const tmeta: Meta = { kind: 'text', name: '', mime: 'text/plain;charset=utf-8', size: bytes.length, chunkSize: CS }
    const { api } = await serverWith(bytes)
    const ctx = { api, keys: fakeKeys(tmeta) }
    expect(await readText(ctx, item(tmeta), tmeta)).toBe(text)
    const blob = await readBlob(ctx, item(tmeta), tmeta)
    expect(blob.type).toBe('text/plain;charset=utf-8')
    expect(await blob.text()).toBe(text)
  })

  it('aborts the sink when a chunk is refused', async () => {
    const { api, routes } = await serverWith(plain)
    const blob = seal(new Uint8Array(10)) // wrong length for chunk 1
    const etag = await etagOf(blob)
    routes['GET /api/v1/sessions/team/contents/c1/chunks/1'] = () => new Response(blob, { headers: { ETag: etag } })
    let aborted = false
    const p = receiveItem({ api, keys: fakeKeys(meta) }, item(meta), meta, {
      write: async () => undefined,
      close: async () => undefined,
      abort: async () => void (aborted = true),
    })
    await expect(p).rejects.toBeInstanceOf(DecryptError)
    expect(aborted).toBe(true)
  })

  it('waits for a chunk not uploaded yet', async () => {
    const { api, routes } = await serverWith(plain)
    const real = routes['GET /api/v1/sessions/team/contents/c1/chunks/2']
    let asked = 0
    routes['GET /api/v1/sessions/team/contents/c1/chunks/2'] = (r) => (asked++ === 0 ? json(404, { code: 'not_found', title: 'Not Found' }) : real(r))
    const out: Uint8Array[] = []
    await receiveItem({ api, keys: fakeKeys(meta) }, item(meta, { complete: false }), meta, {
      write: async (c) => void out.push(c),
      close: async () => undefined,
    })
    expect(asked).toBe(2)
    expect(out).toHaveLength(3)
  })
})
