import { describe, expect, it } from 'vitest'
import { RETRY_DELAYS, rebaseUploadUrl, shouldRetry } from './upload'

describe('tus retry rule', () => {
  it.each([
    [0, '', true, true], // network error
    [0, '', false, false], // offline: wait for 'online' instead
    [500, 'internal', true, true],
    [502, '', true, true],
    [503, 'not_ready', true, true],
    [507, 'storage_full', true, true],
    [423, '', true, true], // tusd lock still held
    [429, 'rate_limited', true, true],
    [409, '', true, true], // tusd offset mismatch: HEAD fixes it
    [409, 'chunk_exists', true, false], // an outcome: done
    [409, 'chunk_in_progress', true, false], // an outcome: resume that upload
    [400, 'invalid_request', true, false],
    [401, 'token_expired', true, false],
    [403, 'forbidden', true, false],
    [404, 'not_found', true, false],
    [413, 'quota_exceeded', true, false],
  ])('status %i %s online=%s → %s', (status, code, online, want) => {
    expect(shouldRetry(status, code, online)).toBe(want)
  })

  it('waits about a minute in all', () => {
    const total = RETRY_DELAYS.reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThanOrEqual(55_000)
    expect(total).toBeLessThanOrEqual(70_000)
  })
})

describe('rebaseUploadUrl', () => {
  const endpoint = 'https://share.example/api/v1/uploads/'
  it('keeps the path, takes the origin the page talks to', () => {
    expect(rebaseUploadUrl('http://127.0.0.1:8080/api/v1/uploads/team/c/0-0123456789abcdef', endpoint))
      .toBe('https://share.example/api/v1/uploads/team/c/0-0123456789abcdef')
  })
  it('resolves relative URLs', () => {
    expect(rebaseUploadUrl('/api/v1/uploads/x', endpoint)).toBe('https://share.example/api/v1/uploads/x')
  })
})
