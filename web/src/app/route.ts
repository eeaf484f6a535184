// Routing through location.hash, so the server only ever serves "/" and the passphrase an
// invite may carry (#/s/<sid>?p=<passphrase>) stays in the fragment, which browsers never send.
import { useMemo, useSyncExternalStore } from 'react'

export interface Route {
  /** The session the URL names, if any. */
  sid?: string
  /** A passphrase carried in the fragment of an invite link. */
  pass?: string
}

export function parseHash(hash: string): Route {
  const m = /^#\/s\/([^?]*)(?:\?(.*))?$/.exec(hash)
  if (!m) return {}
  let sid: string
  try {
    sid = decodeURIComponent(m[1])
  } catch {
    return {}
  }
  const pass = new URLSearchParams(m[2] ?? '').get('p')
  return { sid: sid || undefined, pass: pass || undefined }
}

export function sessionHash(sid: string, pass?: string): string {
  const base = `#/s/${encodeURIComponent(sid)}`
  return pass ? `${base}?p=${encodeURIComponent(pass)}` : base
}

/** The full invite URL for this page: same origin and path, the session in the fragment. */
export function inviteUrl(sid: string, pass?: string, loc: Location = location): string {
  return `${loc.origin}${loc.pathname}${sessionHash(sid, pass)}`
}

/**
 * Goes to a hash. `replace` rewrites the current history entry instead, e.g. to drop a
 * passphrase from the address bar once the form holds it; replaceState fires no hashchange,
 * so one is dispatched by hand for the listeners below.
 */
export function navigate(hash: string, replace = false): void {
  if (location.hash === hash) return
  if (replace) {
    history.replaceState(history.state, '', hash || location.pathname + location.search)
    window.dispatchEvent(new HashChangeEvent('hashchange'))
  } else {
    location.hash = hash
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash)
  return useMemo(() => parseHash(hash), [hash])
}

/** The session page loads on demand; the join form starts fetching it during key derivation. */
export const loadSessionPage = () => import('./SessionPage')
