// Turns what the transport and crypto layers throw into sentences for people.
import { NetworkError, ProblemError } from '../api/client'
import { DecryptError } from '../crypto'

export interface JoinErrorText {
  message: string
  /** Seconds to wait before trying again (rate limiting). */
  retryAfter?: number
}

export function describeJoinError(err: unknown): JoinErrorText {
  if (err instanceof ProblemError) {
    switch (err.code) {
      case 'fingerprint_mismatch':
        return { message: 'Wrong passphrase for this session. Check it and try again.' }
      case 'rate_limited':
        return {
          message: 'Too many join attempts. Wait a moment before trying again.',
          retryAfter: err.retryAfter ?? 60,
        }
      case 'invalid_session_id':
        return { message: 'That session id is not valid: use letters, digits, "-" and "_".' }
      case 'session_exists':
        return { message: 'Someone created this session at the same moment. Try joining again.' }
      case 'unsupported_kdf':
        return { message: 'This session uses key settings this server no longer accepts.' }
      case 'too_many_subscribers':
        return { message: 'The server is busy. Try again in a little while.', retryAfter: err.retryAfter }
    }
  }
  return { message: describeError(err) }
}

export function describeError(err: unknown): string {
  if (err instanceof NetworkError) {
    return 'Cannot reach the server. Check your connection and try again.'
  }
  if (err instanceof DecryptError) {
    return 'Cannot decrypt this: it was shared with another passphrase or it was altered.'
  }
  if (err instanceof ProblemError) {
    switch (err.code) {
      case 'token_expired':
      case 'unauthorized':
      case 'client_left':
        return 'Your access to this session ended. Join it again.'
      case 'too_large':
        return 'Too large for this server.'
      case 'quota_exceeded':
        return 'This session is full: delete something first.'
      case 'storage_full':
        return 'The server is out of space.'
      case 'rate_limited':
        return `Too many requests. Try again in ${err.retryAfter ?? 60} s.`
      case 'content_not_found':
      case 'not_found':
        return 'This item no longer exists.'
      case 'internal':
        return 'The server had a problem. Try again.'
    }
    return err.detail || err.title || err.message
  }
  if (err instanceof DOMException && err.name === 'AbortError') return 'Cancelled.'
  if (err instanceof Error) return err.message
  return String(err)
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError'
}
