// The uploads this page started: one Transfer each, shown as progress rows until they end.
// Finished rows fade out after a moment; failed ones stay until dismissed.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { shareFile, shareText, type Ctx, type Transfer } from '../lib/items'
import { describeError } from './errors'
import { formatBytes } from './format'

const DONE_LINGER_MS = 2500

type Announce = (message: string, tone?: 'info' | 'error') => void

export function useUploads(ctx: Ctx, announce: Announce) {
  const [transfers, setTransfers] = useState<Transfer[]>([])
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>())

  const dismiss = useCallback((t: Transfer) => {
    setTransfers((ts) => ts.filter((x) => x !== t))
  }, [])

  const later = useCallback((fn: () => void, ms: number) => {
    const id = setTimeout(() => {
      timers.current.delete(id)
      fn()
    }, ms)
    timers.current.add(id)
  }, [])

  useEffect(() => () => timers.current.forEach(clearTimeout), [])

  const track = useCallback((t: Transfer, label: string) => {
    setTransfers((ts) => [t, ...ts])
    t.done.then(
      () => {
        if (t.state === 'cancelled') return dismiss(t)
        announce(`Shared ${label}.`)
        later(() => dismiss(t), DONE_LINGER_MS)
      },
      (err) => {
        if (t.state === 'cancelled') {
          announce(`Cancelled ${label}.`)
          return dismiss(t)
        }
        announce(`Could not share ${label}: ${describeError(err)}`, 'error')
      },
    )
  }, [announce, dismiss, later])

  const addText = useCallback((text: string) => {
    if (text === '') return
    try {
      track(shareText(ctx, text), 'text')
    } catch (err) {
      announce(`Could not share text: ${describeError(err)}`, 'error')
    }
  }, [ctx, track, announce])

  const addFiles = useCallback((files: Iterable<File>, nameOf?: (f: File) => string) => {
    for (const f of files) {
      const name = nameOf ? nameOf(f) : f.name
      if (f.size > ctx.config.maxItemBytes) {
        announce(`${name} is too large: this server takes up to ${formatBytes(ctx.config.maxItemBytes)}.`, 'error')
        continue
      }
      try {
        track(shareFile(ctx, f, name), name)
      } catch (err) {
        announce(`Could not share ${name}: ${describeError(err)}`, 'error')
      }
    }
  }, [ctx, track, announce])

  const cancelAll = useCallback(() => {
    for (const t of transfers) if (t.state === 'running' || t.state === 'paused') t.cancel()
  }, [transfers])

  const byContentId = useMemo(() => new Map(transfers.map((t) => [t.contentId, t])), [transfers])

  return { transfers, byContentId, addText, addFiles, dismiss, cancelAll }
}

export type Uploads = ReturnType<typeof useUploads>

/** Re-renders when a transfer moves; the snapshot is a string, so it compares by value. */
export function useTransfer(t: Transfer | undefined): string {
  const sub = useCallback((fn: () => void) => (t ? t.onChange(fn) : () => {}), [t])
  return useSyncExternalStore(sub, () => (t ? `${t.state}:${t.progress.sent}/${t.progress.total}` : ''))
}
