// Decrypted contents for previews: the text of text items and a blob URL for image
// thumbnails. Contents never change (a rename only touches the metadata), so results are
// cached per content id, within a memory budget, and survive list refetches.
import { useEffect, useState } from 'react'
import type { Item } from '../api/client'
import type { Meta } from '../crypto'
import { readBlob, readText, type Ctx } from '../lib/items'
import { withType } from './download'
import { describeError } from './errors'
import { limiter } from './hooks'

/** Text items up to this size load by themselves; bigger ones wait for a click. */
export const TEXT_AUTO_BYTES = 1024 * 1024
/** Images up to this size get a thumbnail by themselves. */
export const IMAGE_AUTO_BYTES = 25 * 1024 * 1024

const CACHE_BYTES = 64 * 1024 * 1024
const limit = limiter(3)

class Cache<T> {
  private map = new Map<string, { value: T; size: number }>()
  private total = 0
  get(key: string): T | undefined {
    const hit = this.map.get(key)
    if (!hit) return undefined
    this.map.delete(key) // re-insert: most recently used last
    this.map.set(key, hit)
    return hit.value
  }
  set(key: string, value: T, size: number): void {
    if (size > CACHE_BYTES / 4) return
    this.map.set(key, { value, size })
    this.total += size
    for (const [k, v] of this.map) {
      if (this.total <= CACHE_BYTES) break
      this.map.delete(k)
      this.total -= v.size
    }
  }
}

const texts = new Cache<string>()
const blobs = new Cache<Blob>()
const inflight = new Map<string, Promise<unknown>>()

/** One decryption per item at a time, however many components ask for it. */
function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = inflight.get(key) as Promise<T> | undefined
  if (!p) {
    p = limit(load).finally(() => inflight.delete(key))
    inflight.set(key, p)
  }
  return p
}

export function cachedText(cid: string): string | undefined {
  return texts.get(cid)
}

export async function loadText(ctx: Ctx, item: Item, meta: Meta): Promise<string> {
  const hit = texts.get(item.contentId)
  if (hit !== undefined) return hit
  const text = await once(`text:${item.contentId}`, () => readText(ctx, item, meta))
  texts.set(item.contentId, text, text.length * 2)
  return text
}

export async function loadBlob(ctx: Ctx, item: Item, meta: Meta): Promise<Blob> {
  const hit = blobs.get(item.contentId)
  if (hit) return hit
  const blob = withType(await once(`blob:${item.contentId}`, () => readBlob(ctx, item, meta)), meta.mime)
  blobs.set(item.contentId, blob, blob.size)
  return blob
}

interface Loaded<T> {
  value: T | null
  error: string | null
}

export function useItemText(ctx: Ctx, item: Item, meta: Meta | undefined, enabled: boolean): Loaded<string> {
  const cid = item.contentId
  const [state, setState] = useState<Loaded<string>>(() => ({ value: cachedText(cid) ?? null, error: null }))
  const ready = enabled && !!meta && item.complete && meta.kind === 'text'
  useEffect(() => {
    if (!ready || !meta || state.value !== null) return
    let live = true
    loadText(ctx, item, meta).then(
      (value) => live && setState({ value, error: null }),
      (err) => live && setState({ value: null, error: describeError(err) }),
    )
    return () => {
      live = false
    }
    // item changes with every progress event; the text only depends on the id once complete.
  }, [ctx, cid, ready])
  return state
}

export function useImageUrl(ctx: Ctx, item: Item, meta: Meta | undefined, enabled: boolean): Loaded<string> {
  const cid = item.contentId
  const [state, setState] = useState<Loaded<string>>({ value: null, error: null })
  const ready = enabled && !!meta && item.complete && meta.kind === 'image'
  useEffect(() => {
    if (!ready || !meta) return
    let live = true
    let url: string | null = null
    loadBlob(ctx, item, meta).then(
      (blob) => {
        if (!live) return
        url = URL.createObjectURL(blob)
        setState({ value: url, error: null })
      },
      (err) => live && setState({ value: null, error: describeError(err) }),
    )
    return () => {
      live = false
      if (url) URL.revokeObjectURL(url)
    }
  }, [ctx, cid, ready])
  return state
}
