// The pure parts of the protocol: chunk arithmetic (it must agree with the Go client and the
// server, which check Upload-Length against it), the canonical metadata JSON and the exact
// base64 the wire uses.

import { describe, expect, it } from 'vitest'
import { fromBase64, toBase64 } from './encoding'
import { newKDF } from './index'
import { CHUNK_OVERHEAD, MIN_CHUNK_SIZE, blobSize, checkKDF, chunkAAD, chunkCount, encodeMeta, metaAAD, totalSize } from './protocol'

const cs = MIN_CHUNK_SIZE

describe('chunk arithmetic', () => {
  it.each([
    ['an empty item is one empty chunk', 0, 1, 28, 28],
    ['one byte', 1, 1, 29, 29],
    ['just under a chunk', cs - 1, 1, cs - 1 + 28, cs - 1 + 28],
    ['exactly a chunk', cs, 1, cs + 28, cs + 28],
    ['just over a chunk', cs + 1, 2, 29, cs + 1 + 56],
    ['three chunks and a bit', 3 * cs + 5, 4, 33, 3 * cs + 5 + 4 * 28],
    ['the vector file', 131073, 3, 29, 131073 + 3 * 28],
  ])('%s', (_, size, chunks, lastBlob, total) => {
    const n = chunkCount(size, cs)
    expect(n).toBe(chunks)
    expect(blobSize(size, cs, n - 1)).toBe(lastBlob)
    let sum = 0
    for (let i = 0; i < n; i++) sum += blobSize(size, cs, i)
    expect(totalSize(size, cs)).toBe(total)
    expect(sum).toBe(total)
    expect(blobSize(size, cs, -1)).toBe(0)
    expect(blobSize(size, cs, n)).toBe(0)
  })
  it('has the overhead of an IV and a tag', () => expect(CHUNK_OVERHEAD).toBe(28))
})

describe('strings bound into the AAD', () => {
  it('match the protocol', () => {
    expect(metaAAD('c')).toBe('sharethings/v1|meta|c')
    expect(chunkAAD('c', 2, 10)).toBe('sharethings/v1|chunk|c|2|10')
  })
})

describe('metadata JSON', () => {
  it('is in canonical order with extras last, whatever order the object has', () => {
    const m = { text: { lines: 2, chars: 5 }, chunkSize: cs, size: 5, mime: 'text/plain', name: '', kind: 'text' as const }
    expect(encodeMeta(m)).toBe('{"kind":"text","name":"","mime":"text/plain","size":5,"chunkSize":65536,"text":{"chars":5,"lines":2}}')
  })
})

describe('base64', () => {
  it('round-trips and is standard with padding', () => {
    const b = new Uint8Array([0xfb, 0xff, 0xfe, 0x00])
    expect(toBase64(b)).toBe('+//+AA==')
    expect(fromBase64('+//+AA==')).toEqual(b)
  })
  it.each(['+//+AA', '-__-AA==', '+//+ AA==', 'A===', '='])('refuses %j', (s) => {
    expect(() => fromBase64(s)).toThrow()
  })
})

describe('newKDF', () => {
  it('makes parameters the server accepts, with a fresh salt each time', () => {
    const a = newKDF()
    expect(a.alg).toBe('PBKDF2-SHA256')
    expect(a.iterations).toBe(600000)
    expect(checkKDF(a).length).toBe(16)
    expect(newKDF(1000).salt).not.toBe(a.salt)
  })
})
