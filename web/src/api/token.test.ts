import { describe, expect, it } from 'vitest'
import { fakeJWT } from './testing'
import { refreshAt, refreshDue, tokenExpired, tokenTimes } from './token'

describe('token times', () => {
  const tok = fakeJWT({ sid: 's', sub: 'c', name: 'Zoë ✓', iat: 1_000, exp: 1_000 + 3_600 })

  it('reads iat and exp in milliseconds', () => {
    expect(tokenTimes(tok)).toEqual({ iat: 1_000_000, exp: 4_600_000 })
  })

  it('refreshes at three quarters of the life', () => {
    expect(refreshAt(tok)).toBe(1_000_000 + 2_700_000)
    expect(refreshDue(tok, 3_699_999)).toBe(false)
    expect(refreshDue(tok, 3_700_000)).toBe(true)
  })

  it('knows when it expired', () => {
    expect(tokenExpired(tok, 4_599_999)).toBe(false)
    expect(tokenExpired(tok, 4_600_000)).toBe(true)
  })

  it.each([
    ['not a JWT', 'abc'],
    ['empty', ''],
    ['bad payload', 'a.!!!.c'],
    ['no exp', fakeJWT({ iat: 5 })],
    ['exp before iat', fakeJWT({ iat: 10, exp: 5 })],
    ['string claims', fakeJWT({ iat: '1', exp: '2' })],
  ])('ignores %s', (_, t) => {
    expect(tokenTimes(t)).toBeNull()
    expect(refreshDue(t, Number.MAX_SAFE_INTEGER)).toBe(false)
  })
})
