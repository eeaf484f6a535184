import { describe, expect, it } from 'vitest'
import { DecryptError, type Meta } from '../crypto'
import { checkCounts, countsMismatch, expectedCounts, fileMeta, kindOf, pickChunkSize, textMeta, textStats } from './meta'

const meta = (size: number, chunkSize = 65536): Meta => ({ kind: 'file', name: 'a', mime: 'x/y', size, chunkSize })

describe('item/meta consistency', () => {
  it.each([
    [0, 1, 28], // an empty item is one empty chunk
    [1, 1, 29],
    [65536, 1, 65564],
    [65537, 2, 65537 + 56],
    [3 * 65536, 3, 3 * 65536 + 84],
  ])('size %i → %i chunks, %i bytes', (size, chunks, total) => {
    expect(expectedCounts(meta(size))).toEqual({ chunkSize: 65536, totalChunks: chunks, totalSize: total })
  })

  it('accepts an item that matches its metadata', () => {
    const item = { contentId: 'c', chunkSize: 65536, totalChunks: 2, totalSize: 100_000 + 56 }
    expect(countsMismatch(item, meta(100_000))).toBeNull()
    expect(() => checkCounts(item, meta(100_000))).not.toThrow()
  })

  it.each([
    ['chunk size', { chunkSize: 131072, totalChunks: 2, totalSize: 100_056 }],
    ['chunk count', { chunkSize: 65536, totalChunks: 3, totalSize: 100_056 }],
    ['total size', { chunkSize: 65536, totalChunks: 2, totalSize: 100_057 }],
  ])('refuses a server that changed the %s', (_, counts) => {
    const item = { contentId: 'c', ...counts }
    expect(countsMismatch(item, meta(100_000))).not.toBeNull()
    expect(() => checkCounts(item, meta(100_000))).toThrow(DecryptError)
  })

  it('refuses absurd metadata before dividing by it', () => {
    const item = { chunkSize: 0, totalChunks: 1, totalSize: 28 }
    expect(countsMismatch(item, meta(0, 0))).toMatch(/chunkSize/)
    expect(countsMismatch(item, meta(-1))).toMatch(/size/)
    expect(countsMismatch(item, meta(0, 32 * 1024 * 1024))).toMatch(/chunkSize/)
  })
})

describe('describing what is shared', () => {
  it('counts characters and lines like the CLI', () => {
    expect(textStats('')).toEqual({ chars: 0, lines: 0 })
    expect(textStats('a')).toEqual({ chars: 1, lines: 1 })
    expect(textStats('a\n')).toEqual({ chars: 2, lines: 1 })
    expect(textStats('a\nb')).toEqual({ chars: 3, lines: 2 })
    expect(textStats('😀\n\n')).toEqual({ chars: 3, lines: 2 })
  })

  it('makes text metadata', () => {
    expect(textMeta(5, 'héllo'.slice(0, 4), 65536)).toMatchObject({ kind: 'text', name: '', mime: 'text/plain;charset=utf-8', size: 5 })
  })

  it('tells images from other files', () => {
    expect(kindOf('image/png')).toBe('image')
    expect(kindOf('IMAGE/JPEG')).toBe('image')
    expect(kindOf('application/pdf')).toBe('file')
    expect(fileMeta('x', '', 3, 65536)).toEqual({ kind: 'file', name: 'x', mime: 'application/octet-stream', size: 3, chunkSize: 65536 })
  })

  it("uses the server's default chunk size within bounds", () => {
    expect(pickChunkSize()).toBe(4 * 1024 * 1024)
    expect(pickChunkSize({ defaultChunkSize: 1 << 20, minChunkSize: 65536, maxChunkSize: 1 << 24 })).toBe(1 << 20)
    expect(pickChunkSize({ defaultChunkSize: 1 << 26, minChunkSize: 65536, maxChunkSize: 1 << 22 })).toBe(1 << 22)
    expect(pickChunkSize({ defaultChunkSize: 1000, minChunkSize: 1000, maxChunkSize: 1 << 24 })).toBe(65536)
  })
})
