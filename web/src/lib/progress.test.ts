import { describe, expect, it } from 'vitest'
import { ByteProgress } from './progress'

describe('ByteProgress', () => {
  it('adds finished chunks and the current one', () => {
    const p = new ByteProgress(300)
    p.setCurrent(50)
    expect(p.snapshot()).toEqual({ sent: 50, total: 300 })
    p.finishChunk(128)
    expect(p.sent).toBe(128)
    p.setCurrent(100)
    expect(p.sent).toBe(228)
  })

  it('follows a chunk that steps back after a retry, never below the finished chunks', () => {
    const p = new ByteProgress(300)
    p.finishChunk(128)
    p.setCurrent(90)
    p.setCurrent(40)
    expect(p.sent).toBe(168)
    p.setCurrent(-5)
    expect(p.sent).toBe(128)
  })

  it('never passes the total', () => {
    const p = new ByteProgress(100)
    p.finishChunk(90)
    p.setCurrent(50)
    expect(p.sent).toBe(100)
    p.complete()
    expect(p.snapshot()).toEqual({ sent: 100, total: 100 })
  })
})
