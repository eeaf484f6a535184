// What the user does to items: rename, pin, delete with undo, clear all. Changes show at
// once (optimistically) and are rolled back with a message when the server refuses them.
import { useCallback, useEffect, useMemo, useRef } from 'react'
import type { Item } from '../api/client'
import type { Meta } from '../crypto'
import { clearAll, deleteItem, renameItem, setPinned, type Ctx } from '../lib/items'
import { describeError } from './errors'
import type { Action } from './itemsState'

export const UNDO_MS = 5000

type Dispatch = (a: Action) => void
type Announce = (message: string, tone?: 'info' | 'error') => void

interface Pending {
  item: Item
  timer: ReturnType<typeof setTimeout>
}

export function useItemActions(ctx: Ctx, dispatch: Dispatch, announce: Announce) {
  const pending = useRef(new Map<string, Pending>())

  const commit = useCallback(async (cid: string) => {
    const p = pending.current.get(cid)
    if (!p) return
    clearTimeout(p.timer)
    pending.current.delete(cid)
    try {
      await deleteItem(ctx, p.item)
      dispatch({ type: 'remove', contentId: cid })
    } catch (err) {
      if (isGone(err)) {
        dispatch({ type: 'remove', contentId: cid })
        return
      }
      dispatch({ type: 'hide', contentId: cid, hidden: false })
      announce(`Could not delete: ${describeError(err)}`, 'error')
    }
  }, [ctx, dispatch, announce])

  const remove = useCallback((item: Item, label: string) => {
    const cid = item.contentId
    if (pending.current.has(cid)) return
    dispatch({ type: 'hide', contentId: cid, hidden: true })
    pending.current.set(cid, { item, timer: setTimeout(() => void commit(cid), UNDO_MS) })
    announce(`Deleted ${label}. Undo is available for ${UNDO_MS / 1000} seconds.`)
  }, [commit, dispatch, announce])

  const undo = useCallback((cid: string) => {
    const p = pending.current.get(cid)
    if (!p) return
    clearTimeout(p.timer)
    pending.current.delete(cid)
    dispatch({ type: 'hide', contentId: cid, hidden: false })
    announce('Delete undone.')
  }, [dispatch, announce])

  /** Carries out every delete still waiting for its undo delay, e.g. before leaving. */
  const flush = useCallback(async () => {
    await Promise.all([...pending.current.keys()].map((cid) => commit(cid)))
  }, [commit])

  // Deletes the user asked for still happen if the page goes away before the delay ends.
  useEffect(() => () => void flush(), [flush])

  const rename = useCallback(async (item: Item, meta: Meta, name: string) => {
    const cid = item.contentId
    const iv = item.metadata.iv
    dispatch({ type: 'meta', contentId: cid, iv, meta: { ...meta, name } })
    try {
      await renameItem(ctx, item, meta, name)
      announce(`Renamed to ${name}.`)
    } catch (err) {
      dispatch({ type: 'meta', contentId: cid, iv, meta })
      announce(`Could not rename: ${describeError(err)}`, 'error')
    }
  }, [ctx, dispatch, announce])

  const togglePin = useCallback(async (item: Item) => {
    const pinned = !item.pinned
    dispatch({ type: 'updated', contentId: item.contentId, pinned })
    try {
      await setPinned(ctx, item, pinned)
      announce(pinned ? 'Pinned.' : 'Unpinned.')
    } catch (err) {
      dispatch({ type: 'updated', contentId: item.contentId, pinned: !pinned })
      announce(`Could not ${pinned ? 'pin' : 'unpin'}: ${describeError(err)}`, 'error')
    }
  }, [ctx, dispatch, announce])

  const clear = useCallback(async (): Promise<boolean> => {
    try {
      await clearAll(ctx)
      for (const p of pending.current.values()) clearTimeout(p.timer)
      pending.current.clear()
      dispatch({ type: 'clear' })
      announce('Cleared every item.')
      return true
    } catch (err) {
      announce(`Could not clear: ${describeError(err)}`, 'error')
      return false
    }
  }, [ctx, dispatch, announce])

  return useMemo(() => ({ remove, undo, flush, rename, togglePin, clear }),
    [remove, undo, flush, rename, togglePin, clear])
}

export type ItemActions = ReturnType<typeof useItemActions>

function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return code === 'content_not_found' || code === 'not_found'
}
