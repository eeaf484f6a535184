import { describe, expect, it } from 'vitest'
import { isContentId, newContentId } from './ids'

describe('content ids', () => {
  it('are canonical lowercase version 4 UUIDs', () => {
    for (let i = 0; i < 100; i++) {
      const id = newContentId()
      expect(isContentId(id)).toBe(true)
      expect(id[14]).toBe('4')
      expect('89ab').toContain(id[19])
    }
  })

  it('formats the random bytes', () => {
    expect(newContentId((b) => b.fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff')
    expect(newContentId((b) => b.fill(0))).toBe('00000000-0000-4000-8000-000000000000')
  })

  it('refuses uppercase and other shapes', () => {
    expect(isContentId('FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF')).toBe(false)
    expect(isContentId('not-a-uuid')).toBe(false)
  })
})
