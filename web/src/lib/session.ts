// Joining a session (PROTOCOL §2, §4): fetch its public kdf parameters, or make new ones when
// the session does not exist yet; derive the keys in the crypto worker; prove the passphrase
// with the fingerprint. The passphrase goes no further than deriveKeys.
import { deriveKeys, newKDF, rememberedKeys, type KDF, type SessionKeys } from '../crypto'
import type { ApiClient } from '../api/client'
import { isProblem, ProblemError } from '../api/errors'
import type { JoinResult, KDFWire, Session } from '../api/types'

export interface JoinInput {
  sessionId: string
  clientName: string
  passphrase: string
  /** Store the keys on this device (IndexedDB, non-extractable) for rejoinRemembered. */
  remember?: boolean
}

export interface Joined {
  keys: SessionKeys
  join: JoinResult
  /** This join created the session. */
  created: boolean
}

/** Attempts in all when the session appears or vanishes between looking it up and joining. */
const JOIN_ATTEMPTS = 3

/**
 * Joins the session, creating it when it is new. Throws ProblemError (fingerprint_mismatch for
 * a wrong passphrase, rate_limited with retryAfter, invalid_session_id…) or NetworkError.
 */
export async function joinSession(api: ApiClient, input: JoinInput): Promise<Joined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinOnce(api, input)
    } catch (err) {
      // session_exists: someone created it with other parameters meanwhile; session_not_found:
      // it expired meanwhile. Either way, look it up again and derive again.
      if (attempt < JOIN_ATTEMPTS && isProblem(err, 'session_exists', 'session_not_found')) continue
      throw err
    }
  }
}

async function joinOnce(api: ApiClient, input: JoinInput): Promise<Joined> {
  const { sessionId, clientName, passphrase } = input
  const existing = await lookUp(api, sessionId)
  const kdf = existing ? toKDF(existing.kdf) : newKDF()
  const keys = await deriveKeys(sessionId, passphrase, kdf)
  try {
    const fingerprint = await keys.fingerprint()
    // kdf only to create: for an existing session the stored parameters apply.
    const join = await api.join(sessionId, { clientName, fingerprint, kdf: existing ? undefined : kdf })
    if (input.remember) await keys.remember().catch(() => false) // not being remembered is no reason to fail
    return { keys, join, created: join.created }
  } catch (err) {
    keys.close()
    throw err
  }
}

/** The session's public parameters, or null when it does not exist yet. */
async function lookUp(api: ApiClient, sessionId: string): Promise<Session | null> {
  try {
    return await api.session(sessionId)
  } catch (err) {
    if (isProblem(err, 'session_not_found')) return null
    throw err
  }
}

function toKDF(k: KDFWire): KDF {
  if (k.alg !== 'PBKDF2-SHA256') {
    throw new ProblemError({ status: 400, code: 'unsupported_kdf', title: 'Unsupported KDF', detail: `this client does not know ${k.alg}` })
  }
  return { alg: k.alg, iterations: k.iterations, salt: k.salt }
}

/**
 * Joins with keys remembered on this device, without the passphrase. Null when none are
 * stored, or when they no longer fit (the session expired, or was recreated with another
 * passphrase): those are forgotten, and the user is asked for the passphrase again.
 */
export async function rejoinRemembered(api: ApiClient, sessionId: string, clientName: string): Promise<Joined | null> {
  const keys = await rememberedKeys(sessionId)
  if (!keys) return null
  try {
    const fingerprint = await keys.fingerprint()
    const join = await api.join(sessionId, { clientName, fingerprint })
    return { keys, join, created: false }
  } catch (err) {
    if (isProblem(err, 'fingerprint_mismatch', 'session_not_found')) {
      await keys.forget().catch(() => undefined)
      keys.close()
      return null
    }
    keys.close()
    throw err
  }
}
