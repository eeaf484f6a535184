// The list of shared items: a toolbar (count, sort order, clear all), the rows, and a
// sentinel that loads the next page when it scrolls into view.
import { useEffect, useRef, useState } from 'react'
import type { Ctx, Transfer } from '../lib/items'
import { ClearAllDialog } from './ClearAllDialog'
import { useNow } from './hooks'
import { Icon } from './ui'
import { ItemRow } from './ItemRow'
import type { Entry, ListState, Order } from './itemsState'
import type { ItemActions } from './useItemActions'

interface Props {
  ctx: Ctx
  sessionId: string
  selfId: string
  list: ListState
  entries: Entry[]
  transfers: Map<string, Transfer>
  actions: ItemActions
  onOrder(order: Order): void
  onMore(): void
  onRetry(): void
}

function Sentinel({ onVisible, active }: { onVisible(): void; active: boolean }) {
  const ref = useRef<HTMLDivElement>(null)
  const cb = useRef(onVisible)
  cb.current = onVisible
  useEffect(() => {
    const el = ref.current
    if (!active || !el || typeof IntersectionObserver === 'undefined') return
    // Re-created whenever a page lands, so a sentinel still in view asks for the next one.
    const io = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) cb.current()
    }, { rootMargin: '600px' })
    io.observe(el)
    return () => io.disconnect()
  }, [active])
  return <div ref={ref} className="sentinel" aria-hidden="true" />
}

export function ItemList(p: Props) {
  const now = useNow()
  const [clearing, setClearing] = useState(false)
  const { list } = p
  const count = p.entries.filter((e) => !list.hidden[e.item.contentId]).length
  const more = list.nextCursor !== null

  return (
    <section className="items" aria-labelledby="items-head" aria-busy={list.loading}>
      <div className="toolbar">
        <h2 id="items-head">Shared <span className="muted">({count}{more ? '+' : ''})</span></h2>
        <button type="button" className="button small secondary" data-testid="sort-toggle" data-order={list.order}
          onClick={() => p.onOrder(list.order === 'newest' ? 'oldest' : 'newest')}
          aria-label={`Sorted ${list.order} first. Switch to ${list.order === 'newest' ? 'oldest' : 'newest'} first.`}>
          <Icon name="sort" size={16} /> {list.order === 'newest' ? 'Newest first' : 'Oldest first'}
        </button>
        <button type="button" className="button small danger-outline" data-testid="clear-all"
          onClick={() => setClearing(true)}>
          Clear all
        </button>
      </div>
      {list.loaded && count === 0 && !list.error && (
        <p className="empty muted">Nothing shared yet. Type above, paste, or drop files anywhere on the page.</p>
      )}
      <ul className="item-list" data-testid="item-list">
        {p.entries.map((e) => (
          <ItemRow key={e.item.contentId} ctx={p.ctx} entry={e} metaState={list.metas[e.item.contentId]}
            hidden={!!list.hidden[e.item.contentId]} transfer={p.transfers.get(e.item.contentId)}
            now={now} selfId={p.selfId} actions={p.actions} />
        ))}
      </ul>
      {list.error && (
        <p className="error" role="alert">
          Could not load the list: {list.error}{' '}
          <button type="button" className="link-button" onClick={p.onRetry}>Try again</button>
        </p>
      )}
      {list.loading && <p className="muted small loading">Loading…</p>}
      {more && !list.error && (
        <>
          <Sentinel onVisible={p.onMore} active={!list.loading} />
          <button type="button" className="button secondary wide" onClick={p.onMore} disabled={list.loading}>
            Load more
          </button>
        </>
      )}
      {clearing && (
        <ClearAllDialog sessionId={p.sessionId} onConfirm={p.actions.clear} onClose={() => setClearing(false)} />
      )}
    </section>
  )
}
