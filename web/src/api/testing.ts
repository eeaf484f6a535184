// Helpers shared by the transport's unit tests (not used by the app).

/** A JWT-shaped token with the given claims; the client never checks signatures. */
export function fakeJWT(claims: Record<string, unknown>): string {
  const enc = (o: unknown) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o))))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}.c2ln`
}

export interface Recorded {
  method: string
  url: string
  headers: Headers
  body: string
}

/**
 * A fetch that answers from a route table (by "METHOD path") and records every request.
 * A handler may return a Response or throw (a network error).
 */
export function fakeFetch(routes: Record<string, (req: Recorded) => Response | Promise<Response>>) {
  const calls: Recorded[] = []
  const fn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(String(input), init)
    const rec: Recorded = { method: req.method, url: req.url, headers: req.headers, body: req.body ? await req.text() : '' }
    calls.push(rec)
    const key = `${req.method} ${new URL(req.url).pathname}`
    const route = routes[key]
    if (!route) return json(404, { code: 'not_found', title: 'Not Found', detail: key })
    return route(rec)
  }
  return { fetch: fn as typeof fetch, calls }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json'
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, ...headers } })
}

/** The ETag the server sends for a blob: its quoted lowercase hex SHA-256. */
export async function etagOf(blob: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', blob))
  return `"${Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('')}"`
}
