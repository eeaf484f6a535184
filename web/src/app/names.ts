// Names the UI suggests or remembers: random session ids, the user's display name, names
// for pasted files, and the sessions recently joined on this device. localStorage may be
// unavailable (private mode, blocked storage), so every access is guarded.
import { randomInt, randomWords } from './passphrase'

export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

const NAME_KEY = 'sharethings.clientName'
const RECENT_KEY = 'sharethings.recent'
const MAX_RECENT = 6
const PATCH_SIZE_KEY = 'sharethings.patchSize'

/** Two words and two digits, e.g. "amber-river-42": easy to read aloud, 22 bits. */
export function randomSessionId(): string {
  const [a, b] = randomWords(2)
  return `${a}-${b}-${String(randomInt(100)).padStart(2, '0')}`
}

export function validateSessionId(sid: string): string | null {
  if (sid === '') return 'Enter a session id.'
  if (!SESSION_ID_RE.test(sid)) {
    return 'A session id uses letters, digits, "-" and "_" (up to 64), starting with a letter or digit.'
  }
  return null
}

export function validateClientName(name: string): string | null {
  const t = name.trim()
  if (t === '') return 'Enter your name, so others see who shared what.'
  if ([...t].length > 64) return 'Your name can be at most 64 characters.'
  if (/[\u0000-\u001f\u007f]/.test(t)) return 'Your name cannot contain control characters.'
  return null
}

function read(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value)
  } catch {
    // Storage is a convenience; the app works without it.
  }
}

/**
 * The largest upload request body, for proxies that limit request bodies; undefined sends
 * each encrypted chunk in one request.
 */
export function loadPatchSize(): number | undefined {
  const n = Number(read(PATCH_SIZE_KEY))
  return Number.isInteger(n) && n > 0 ? n : undefined
}

export function savePatchSize(bytes: number | undefined): void {
  write(PATCH_SIZE_KEY, bytes ? String(bytes) : '')
}

export function loadClientName(): string {
  return read(NAME_KEY) ?? defaultClientName(navigator.userAgent)
}

export function saveClientName(name: string): void {
  write(NAME_KEY, name.trim())
}

/** "Firefox on Android" and the like: a first name suggestion the user can edit. */
export function defaultClientName(ua: string): string {
  const browser = /Edg\//.test(ua) ? 'Edge'
    : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrome\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari'
    : 'Browser'
  const os = /Android/.test(ua) ? 'Android'
    : /iPhone|iPad/.test(ua) ? 'iOS'
    : /Mac OS X/.test(ua) ? 'Mac'
    : /Windows/.test(ua) ? 'Windows'
    : /Linux/.test(ua) ? 'Linux'
    : ''
  return os ? `${browser} on ${os}` : browser
}

/** Clipboard images are all called "image.png"; give them a name that tells them apart. */
export function pastedFileName(file: File, now = new Date()): string {
  if (file.name && !/^image\.(png|jpe?g|gif|webp)$/i.test(file.name)) return file.name
  const ext = (file.type.split('/')[1] ?? 'bin').replace('jpeg', 'jpg').replace(/[^a-z0-9]/gi, '')
  const pad = (n: number) => String(n).padStart(2, '0')
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}` +
    ` ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`
  return `Pasted ${stamp}.${ext || 'bin'}`
}

export interface RecentSession {
  sessionId: string
  remembered: boolean
}

export function loadRecent(): RecentSession[] {
  try {
    const v: unknown = JSON.parse(read(RECENT_KEY) ?? '[]')
    if (!Array.isArray(v)) return []
    return v.filter((r): r is RecentSession =>
      typeof r?.sessionId === 'string' && SESSION_ID_RE.test(r.sessionId)).slice(0, MAX_RECENT)
  } catch {
    return []
  }
}

export function addRecent(sessionId: string, remembered: boolean): void {
  const rest = loadRecent().filter((r) => r.sessionId !== sessionId)
  write(RECENT_KEY, JSON.stringify([{ sessionId, remembered }, ...rest].slice(0, MAX_RECENT)))
}

export function forgetRecent(sessionId: string): void {
  write(RECENT_KEY, JSON.stringify(loadRecent().filter((r) => r.sessionId !== sessionId)))
}
