// Formatting for the item list: sizes, relative times, first lines, download names.
import type { Kind, Meta } from '../crypto'

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

export function formatBytes(n: number): string {
  let v = n
  let u = 0
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024
    u++
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${v.toFixed(digits)} ${UNITS[u]}`
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const s = Math.round((t - now) / 1000)
  const abs = Math.abs(s)
  if (abs < 45) return 'just now'
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour')
  if (abs < 7 * 86400) return rtf.format(Math.round(s / 86400), 'day')
  return new Date(t).toLocaleDateString()
}

export function absoluteTime(iso: string): string {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString()
}

/** The first non-blank line, shortened to `max` characters. */
export function firstLine(text: string, max = 80): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? ''
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

const KIND_LABEL: Record<Kind, string> = { text: 'Text', image: 'Image', file: 'File' }

export function kindLabel(kind: Kind): string {
  return KIND_LABEL[kind] ?? 'File'
}

/** What the list shows as the title: text items are known by their first line. */
export function displayName(meta: Meta, text?: string | null): string {
  if (meta.kind === 'text') return meta.name || (text ? firstLine(text) : '') || 'Text'
  return meta.name || 'Untitled'
}

/** A file name for saving: text items without a name get one from their first line. */
export function downloadName(meta: Meta, text?: string | null): string {
  if (meta.name && meta.kind !== 'text') return meta.name
  if (meta.name) return /\.[a-z0-9]{1,8}$/i.test(meta.name) ? meta.name : `${meta.name}.txt`
  const base = (text ? firstLine(text, 40) : '').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim()
  return `${base || 'text'}.txt`
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 100
  return Math.min(100, Math.floor((done / total) * 100))
}
