// Content ids are canonical lowercase UUIDs chosen by the sender (PROTOCOL §1).
// crypto.randomUUID exists only in secure contexts, and the app is also served over plain
// HTTP on LAN addresses, so the id is built from getRandomValues, which exists everywhere.

/** A random (version 4) UUID in canonical lowercase form. */
export function newContentId(random: (b: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer> = (b) => crypto.getRandomValues(b)): string {
  const b = random(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40 // version 4
  b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const CONTENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether s is a content id the server accepts (lowercase only). */
export function isContentId(s: string): boolean {
  return CONTENT_ID.test(s)
}
