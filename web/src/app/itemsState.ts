// The item list as a pure state machine: list pages and live events go in as actions, the
// sorted rows come out. Pages and events may arrive in any order (a page fetched before an
// event can land after it), so every action is idempotent and merges rather than replaces.
import type { Item } from '../api/client'
import type { Meta } from '../crypto'

export type Order = 'newest' | 'oldest'

export interface Entry {
  item: Item
  /** Chunk indexes announced by content.chunk events, to count progress without double counting. */
  seen: readonly number[]
}

/** Decrypted metadata, kept across list resets so a refetch does not decrypt again. */
export interface MetaState {
  iv: string
  meta?: Meta
  failed?: boolean
}

export interface ListState {
  order: Order
  /** Bumped on every reset; pages fetched for an older epoch are dropped. */
  epoch: number
  entries: Record<string, Entry>
  metas: Record<string, MetaState>
  /** Deleted locally and waiting out the undo delay. */
  hidden: Record<string, true>
  nextCursor: string | null
  loading: boolean
  loaded: boolean
  error: string | null
}

export type Action =
  | { type: 'reset'; order: Order }
  | { type: 'loading' }
  | { type: 'page'; epoch: number; items: Item[]; nextCursor: string | null }
  | { type: 'pageError'; epoch: number; message: string }
  | { type: 'upsert'; item: Item }
  | { type: 'meta'; contentId: string; iv: string; meta?: Meta; failed?: boolean }
  | { type: 'chunk'; contentId: string; index: number }
  | { type: 'completed'; contentId: string }
  | { type: 'updated'; contentId: string; pinned?: boolean; metadata?: Item['metadata'] }
  | { type: 'hide'; contentId: string; hidden: boolean }
  | { type: 'remove'; contentId: string }
  | { type: 'clear' }

export function initialList(order: Order = 'newest'): ListState {
  return {
    order, epoch: 0, entries: {}, metas: {}, hidden: {},
    nextCursor: null, loading: false, loaded: false, error: null,
  }
}

function received(item: Item, seen: readonly number[]): number {
  if (item.complete) return item.totalChunks
  return Math.min(item.totalChunks, Math.max(item.receivedChunks, seen.length))
}

/** A newer copy of an item from a page or an event; progress never goes backwards. */
function merge(old: Entry | undefined, next: Item): Entry {
  if (!old) return { item: { ...next, receivedChunks: received(next, []) }, seen: [] }
  const newer = Date.parse(next.updatedAt) >= Date.parse(old.item.updatedAt)
  const base = newer ? next : old.item
  const item = {
    ...base,
    complete: old.item.complete || next.complete,
    receivedChunks: Math.max(old.item.receivedChunks, next.receivedChunks),
  }
  item.receivedChunks = received(item, old.seen)
  return { item, seen: old.seen }
}

function patch(s: ListState, cid: string, f: (e: Entry) => Entry): ListState {
  const e = s.entries[cid]
  return e ? { ...s, entries: { ...s.entries, [cid]: f(e) } } : s
}

function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  if (!(key in rec)) return rec
  const next = { ...rec }
  delete next[key]
  return next
}

export function listReducer(s: ListState, a: Action): ListState {
  switch (a.type) {
    case 'reset':
      return { ...s, order: a.order, epoch: s.epoch + 1, entries: {}, nextCursor: null, loading: true, loaded: false, error: null }
    case 'loading':
      return { ...s, loading: true, error: null }
    case 'page': {
      if (a.epoch !== s.epoch) return s
      const entries = { ...s.entries }
      for (const it of a.items) entries[it.contentId] = merge(entries[it.contentId], it)
      return { ...s, entries, nextCursor: a.nextCursor, loading: false, loaded: true }
    }
    case 'pageError':
      return a.epoch === s.epoch ? { ...s, loading: false, error: a.message } : s
    case 'upsert':
      return { ...s, entries: { ...s.entries, [a.item.contentId]: merge(s.entries[a.item.contentId], a.item) } }
    case 'meta':
      return { ...s, metas: { ...s.metas, [a.contentId]: { iv: a.iv, meta: a.meta, failed: a.failed } } }
    case 'chunk':
      return patch(s, a.contentId, (e) => {
        if (e.seen.includes(a.index)) return e
        const seen = [...e.seen, a.index]
        return { seen, item: { ...e.item, receivedChunks: received(e.item, seen) } }
      })
    case 'completed':
      return patch(s, a.contentId, (e) => ({ ...e, item: { ...e.item, complete: true, receivedChunks: e.item.totalChunks } }))
    case 'updated':
      return patch(s, a.contentId, (e) => ({
        ...e,
        item: {
          ...e.item,
          ...(a.pinned !== undefined ? { pinned: a.pinned } : {}),
          ...(a.metadata ? { metadata: a.metadata } : {}),
        },
      }))
    case 'hide':
      return { ...s, hidden: a.hidden ? { ...s.hidden, [a.contentId]: true } : without(s.hidden, a.contentId) }
    case 'remove':
      return { ...s, entries: without(s.entries, a.contentId), metas: without(s.metas, a.contentId), hidden: without(s.hidden, a.contentId) }
    case 'clear':
      return { ...s, entries: {}, metas: {}, nextCursor: null }
  }
}

function compare(order: Order) {
  const dir = order === 'newest' ? -1 : 1
  return (a: Entry, b: Entry): number => {
    if (a.item.pinned !== b.item.pinned) return a.item.pinned ? -1 : 1
    const t = Date.parse(a.item.createdAt) - Date.parse(b.item.createdAt)
    if (t !== 0) return dir * t
    return dir * (a.item.contentId < b.item.contentId ? -1 : a.item.contentId > b.item.contentId ? 1 : 0)
  }
}

/** The rows in display order: pinned first, then by time in the chosen direction. */
export function sortedEntries(s: ListState): Entry[] {
  return Object.values(s.entries).sort(compare(s.order))
}
