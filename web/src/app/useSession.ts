// The live state of a joined session: the item list (pages + events through itemsState),
// the people present and the connection state. One event stream per mounted session page.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react'
import type { Client, Item } from '../api/client'
import { subscribe } from '../api/events'
import { openItem } from '../lib/items'
import { describeError } from './errors'
import { initialList, listReducer, sortedEntries, type Action, type Order } from './itemsState'
import type { ActiveSession } from './session'

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'offline'

const PAGE_SIZE = 50

interface StreamEvent {
  id: number
  type: string
  data: any
}

export interface SessionHooks {
  onExpired(): void
  /** The server refused this client for good (token expired, left, session gone). */
  onFatal?(err: Error): void
  onRemoteClear?(): void
}

export function useSession(s: ActiveSession, hooks: SessionHooks) {
  const [list, dispatch] = useReducer(listReducer, undefined, () => initialList())
  const [clients, setClients] = useState<Client[]>(s.clients)
  const [connection, setConnection] = useState<ConnectionState>('connecting')
  const listRef = useRef(list)
  listRef.current = list
  const hooksRef = useRef(hooks)
  hooksRef.current = hooks

  // Decrypts an item's metadata once per metadata iv (a rename brings a new iv).
  const opened = useRef(new Map<string, string>())
  const openMeta = useCallback((item: Item) => {
    const { contentId } = item
    const iv = item.metadata.iv
    if (opened.current.get(contentId) === iv) return
    opened.current.set(contentId, iv)
    openItem(s.keys, item).then(
      ({ meta }) => dispatch({ type: 'meta', contentId, iv, meta }),
      () => dispatch({ type: 'meta', contentId, iv, failed: true }),
    )
  }, [s])

  const fetchPage = useCallback((cursor: string | null) => {
    const { epoch, order } = listRef.current
    dispatch({ type: 'loading' })
    s.api.list({ cursor: cursor ?? undefined, limit: PAGE_SIZE, order }).then(
      (r) => {
        dispatch({ type: 'page', epoch, items: r.items, nextCursor: r.nextCursor })
        r.items.forEach(openMeta)
      },
      (err) => dispatch({ type: 'pageError', epoch, message: describeError(err) }),
    )
  }, [s, openMeta])

  // The first page, again after every reset (sort change, resync).
  useEffect(() => {
    fetchPage(null)
  }, [fetchPage, list.epoch])

  const inflight = useRef<string | null>(null)
  const loadMore = useCallback(() => {
    const { nextCursor, loading, epoch } = listRef.current
    const key = `${epoch}:${nextCursor}`
    if (!nextCursor || loading || inflight.current === key) return
    inflight.current = key
    fetchPage(nextCursor)
  }, [fetchPage])

  const retry = useCallback(() => {
    inflight.current = null
    fetchPage(listRef.current.nextCursor)
  }, [fetchPage])

  const setOrder = useCallback((order: Order) => dispatch({ type: 'reset', order }), [])

  const onEvent = useCallback((e: StreamEvent) => {
    const d = e.data ?? {}
    switch (e.type) {
      case 'client.joined':
        setClients((cs) => cs.some((c) => c.clientId === d.clientId) ? cs
          : [...cs, { clientId: d.clientId, clientName: d.clientName, connectedAt: new Date().toISOString() }])
        break
      case 'client.left':
        setClients((cs) => cs.filter((c) => c.clientId !== d.clientId))
        break
      case 'content.created':
        dispatch({ type: 'upsert', item: d as Item })
        openMeta(d as Item)
        break
      case 'content.chunk':
        dispatch({ type: 'chunk', contentId: d.contentId, index: d.chunkIndex })
        break
      case 'content.completed':
        dispatch({ type: 'completed', contentId: d.contentId })
        break
      case 'content.updated': {
        dispatch({ type: 'updated', contentId: d.contentId, pinned: d.pinned, metadata: d.metadata })
        const entry = listRef.current.entries[d.contentId]
        if (entry && d.metadata) openMeta({ ...entry.item, metadata: d.metadata })
        break
      }
      case 'content.deleted':
        dispatch({ type: 'remove', contentId: d.contentId })
        break
      case 'session.cleared':
        dispatch({ type: 'clear' })
        hooksRef.current.onRemoteClear?.()
        break
      case 'session.expired':
        hooksRef.current.onExpired()
        break
      case 'session.resync':
        dispatch({ type: 'reset', order: listRef.current.order })
        s.api.clients().then(setClients, () => {})
        break
    }
  }, [s, openMeta])

  // One stream; after a remount (StrictMode, navigation) it resumes from the last id seen.
  const lastId = useRef<number>(s.lastEventId)
  const onEventRef = useRef(onEvent)
  onEventRef.current = onEvent
  useEffect(() => {
    const stop = subscribe(s.api, lastId.current, {
      onEvent(e) {
        if (typeof e.id === 'number' && e.id > lastId.current) lastId.current = e.id
        onEventRef.current(e)
      },
      onState: setConnection,
      onFatal: (err) => hooksRef.current.onFatal?.(err),
    })
    return stop
  }, [s])

  const entries = useMemo(() => sortedEntries(list), [list])
  const send = useCallback((a: Action) => dispatch(a), [])

  return { list, entries, clients, connection, loadMore, retry, setOrder, dispatch: send, listRef }
}

export type SessionState = ReturnType<typeof useSession>
