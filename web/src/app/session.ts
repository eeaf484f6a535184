// The state of one joined session as the app holds it, and the plain steps of joining,
// rejoining with a remembered key, and leaving. Components call these; no React here.
import { ApiClient, type Client, type Config } from '../api/client'
import type { SessionKeys } from '../crypto'
// From lib/session rather than lib/items, so the home page's bundle does not carry the upload code.
import type { Ctx } from '../lib/items'
import { joinSession, rejoinRemembered, type Joined } from '../lib/session'
import { addRecent, loadPatchSize } from './names'

export interface ActiveSession {
  sessionId: string
  clientId: string
  clientName: string
  api: ApiClient
  keys: SessionKeys
  config: Config
  /** Who was present at join; events keep it current from there. */
  clients: Client[]
  lastEventId: number
  /** The key is stored on this device, so leaving keeps it. */
  remembered: boolean
  created: boolean
  /** Kept in memory only when typed in, so the invite dialog can offer to include it. */
  passphrase?: string
}

async function finish(api: ApiClient, r: Joined, clientName: string,
  opts: { remembered: boolean; passphrase?: string }): Promise<ActiveSession> {
  let config: Config
  try {
    config = await api.config()
  } catch (err) {
    r.keys.close()
    throw err
  }
  const sessionId = r.join.session.sessionId
  addRecent(sessionId, opts.remembered)
  return {
    sessionId,
    clientId: r.join.clientId,
    clientName,
    api,
    keys: r.keys,
    config,
    clients: r.join.clients,
    lastEventId: r.join.lastEventId,
    remembered: opts.remembered,
    created: r.created,
    passphrase: opts.passphrase,
  }
}

export interface JoinInput {
  sessionId: string
  clientName: string
  passphrase: string
  remember: boolean
}

/** Creates the session if it is new, else joins it; throws ProblemError / NetworkError. */
export async function join(input: JoinInput): Promise<ActiveSession> {
  const api = new ApiClient()
  const clientName = input.clientName.trim()
  const r = await joinSession(api, { ...input, clientName })
  return finish(api, r, clientName, { remembered: input.remember, passphrase: input.passphrase })
}

/** Joins with a key remembered on this device; null when there is none. */
export async function rejoin(sessionId: string, clientName: string): Promise<ActiveSession | null> {
  const api = new ApiClient()
  const r = await rejoinRemembered(api, sessionId, clientName.trim())
  if (!r) return null
  return finish(api, r, clientName.trim(), { remembered: true })
}

export function contextOf(s: ActiveSession): Ctx {
  return {
    api: s.api,
    keys: s.keys,
    config: s.config,
    // Read at each upload, so a change in the share box applies to the next one.
    get patchSize() {
      return loadPatchSize()
    },
  }
}

/**
 * Ends presence at once and drops the key from memory; a key remembered on this device is
 * kept unless `forget` is set. Failures of the leave call are not the user's problem: the
 * server also ends presence after its grace period.
 */
export async function leave(s: ActiveSession, forget = false): Promise<void> {
  try {
    await s.api.leave()
  } catch {
    // Unreachable server or an already-ended token: presence ends on its own.
  }
  if (forget || !s.remembered) {
    addRecent(s.sessionId, false)
    try {
      await s.keys.forget()
    } catch {
      // Nothing stored, or storage unavailable.
    }
  }
  s.keys.close()
}
