import { describe, expect, it } from 'vitest'
import { Parts, contentLength, etagHex, parseContentRange, retryDelayMs } from './range'

const hex = 'ab'.repeat(32)

describe('range helpers', () => {
  it.each([
    ['bytes 0-9/10', { start: 0, end: 9, total: 10 }],
    ['bytes 30000-99999/100000', { start: 30000, end: 99999, total: 100000 }],
    ['bytes */10', null],
    ['bytes 5-3/10', null],
    ['bytes 0-10/10', null],
    [null, null],
  ])('Content-Range %j', (v, want) => {
    expect(parseContentRange(v)).toEqual(want)
  })

  it.each([
    [`"${hex}"`, hex],
    [`W/"${hex.toUpperCase()}"`, hex],
    ['"abc"', null],
    [null, null],
  ])('ETag %j', (v, want) => {
    expect(etagHex(v)).toBe(want)
  })

  it('reads Content-Length', () => {
    expect(contentLength('42')).toBe(42)
    expect(contentLength(null)).toBeNull()
    expect(contentLength('4x')).toBeNull()
  })

  it('backs off from 0.5 s to 8 s', () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 8000])
  })

  it('joins parts in order', () => {
    const p = new Parts()
    p.push(Uint8Array.of(1, 2))
    p.push(new Uint8Array(0))
    p.push(Uint8Array.of(3))
    expect(p.received).toBe(3)
    expect([...new Uint8Array(p.toArrayBuffer())]).toEqual([1, 2, 3])
    p.reset()
    expect(p.received).toBe(0)
    expect(p.toArrayBuffer().byteLength).toBe(0)
  })
})
