import { describe, expect, it } from 'vitest'
import { NetworkError, ProblemError, isProblem, isTransient, parseProblem, parseRetryAfter } from './errors'

const headers = (h: Record<string, string>) => new Headers(h)

describe('parseProblem', () => {
  it('reads a problem body', () => {
    const body = { type: 'about:blank', title: 'Conflict', status: 409, detail: 'upload unfinished', code: 'chunk_in_progress', uploadUrl: 'http://h/api/v1/uploads/s/c/0-00' }
    const p = parseProblem(409, headers({}), JSON.stringify(body))
    expect(p).toBeInstanceOf(ProblemError)
    expect(p).toMatchObject({ status: 409, code: 'chunk_in_progress', title: 'Conflict', detail: 'upload unfinished', uploadUrl: body.uploadUrl })
    expect(p.retryAfter).toBeUndefined()
    expect(p.message).toBe('chunk_in_progress: upload unfinished')
  })

  it('takes an already parsed body (openapi-fetch) and Retry-After', () => {
    const p = parseProblem(429, headers({ 'Retry-After': '7' }), { code: 'rate_limited', title: 'Too Many Requests', detail: '' })
    expect(p.code).toBe('rate_limited')
    expect(p.retryAfter).toBe(7)
    expect(isProblem(p, 'rate_limited')).toBe(true)
    expect(isProblem(p, 'other')).toBe(false)
    expect(isTransient(p)).toBe(true)
  })

  it('keeps one line of a body that is not a problem', () => {
    const p = parseProblem(502, null, '<html>\n  <body>Bad   gateway</body>\n</html>')
    expect(p.code).toBe('')
    expect(p.title).toBe('Bad Gateway')
    expect(p.detail).toBe('<html> <body>Bad gateway</body> </html>')
    expect(p.message).toBe('HTTP 502: <html> <body>Bad gateway</body> </html>')
    expect(isTransient(p)).toBe(true)
  })

  it('shortens long bodies', () => {
    expect(parseProblem(400, null, 'x'.repeat(500)).detail).toHaveLength(201)
  })

  it('4xx refusals are not transient, network errors are', () => {
    expect(isTransient(parseProblem(401, null, { code: 'token_expired' }))).toBe(false)
    expect(isTransient(new NetworkError('down'))).toBe(true)
    expect(isTransient(new Error('x'))).toBe(false)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  it.each([
    [null, undefined],
    ['', undefined],
    ['0', 0],
    [' 30 ', 30],
    ['Wed, 01 Jan 2025 00:00:10 GMT', 10],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['soon', undefined],
  ])('%j → %j', (v, want) => {
    expect(parseRetryAfter(v, now)).toBe(want)
  })
})
