// Reading a session token's times to schedule its refresh. The client never verifies the JWT
// (it has no key and needs none: the server verifies); it only reads iat/exp to know when to
// ask for a new one. The server refuses to refresh an expired token and closes event streams
// a minute before expiry, so waiting for a token_expired answer would be too late.

export interface TokenTimes {
  /** issued at, ms since the epoch */
  iat: number
  /** expires at, ms since the epoch */
  exp: number
}

/** The iat/exp claims of a JWT in milliseconds, or null for anything that is not one. */
export function tokenTimes(token: string | null | undefined): TokenTimes | null {
  const parts = (token ?? '').split('.')
  if (parts.length !== 3) return null
  let claims: unknown
  try {
    claims = JSON.parse(base64UrlDecode(parts[1]))
  } catch {
    return null
  }
  if (typeof claims !== 'object' || claims === null) return null
  const { iat, exp } = claims as { iat?: unknown; exp?: unknown }
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat) return null
  return { iat: iat * 1000, exp: exp * 1000 }
}

/** When the token should be refreshed: three quarters of the way from iat to exp. */
export function refreshAt(token: string | null | undefined): number | null {
  const t = tokenTimes(token)
  return t ? t.iat + ((t.exp - t.iat) * 3) / 4 : null
}

/** Whether the token is in the last quarter of its life (and so due for a refresh). */
export function refreshDue(token: string | null | undefined, nowMs: number): boolean {
  const at = refreshAt(token)
  return at !== null && nowMs >= at
}

/** Whether the token has expired; a token we cannot read is treated as not expired. */
export function tokenExpired(token: string | null | undefined, nowMs: number): boolean {
  const t = tokenTimes(token)
  return t !== null && nowMs >= t.exp
}

/** Decodes base64url (no padding) to a string; JWT payloads are UTF-8 JSON. */
function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4)
  const bin = atob(padded)
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}
