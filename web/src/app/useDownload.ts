// Downloading one item, with progress. Up to BIG_BYTES: decrypt into memory, then save.
// Bigger: stream to a file the user picks (showSaveFilePicker) or, where the browser has no
// picker, warn first that the whole item is held in memory.
import { useCallback, useEffect, useRef, useState } from 'react'
import type { Item } from '../api/client'
import type { Meta } from '../crypto'
import { receiveItem, type Ctx } from '../lib/items'
import { BIG_BYTES, canStreamToDisk, fileSink, memorySink, pickWritable, saveBlob } from './download'
import { describeError, isAbort } from './errors'
import { loadBlob } from './useItemContent'

type Announce = (message: string, tone?: 'info' | 'error') => void

export interface DownloadState {
  /** 0..1 while running. */
  progress: number | null
  /** True while waiting for the user to accept holding a big item in memory. */
  warning: boolean
  start(): void
  confirm(): void
  dismiss(): void
  cancel(): void
}

export function useDownload(ctx: Ctx, item: Item, meta: Meta | undefined, name: string, announce: Announce): DownloadState {
  const [progress, setProgress] = useState<number | null>(null)
  const [warning, setWarning] = useState(false)
  const abort = useRef<AbortController | null>(null)
  useEffect(() => () => abort.current?.abort(), [])

  const run = useCallback(async (mode: 'memory' | 'stream' | 'small') => {
    if (!meta) return
    const ac = new AbortController()
    abort.current = ac
    const onProgress = (got: number, total: number) => setProgress(total > 0 ? got / total : 1)
    try {
      if (mode === 'stream') {
        const w = await pickWritable(name) // first await: still inside the click
        setProgress(0)
        await receiveItem(ctx, item, meta, fileSink(w), onProgress, ac.signal)
      } else if (mode === 'memory') {
        setProgress(0)
        const sink = memorySink(meta.mime)
        await receiveItem(ctx, item, meta, sink, onProgress, ac.signal)
        saveBlob(sink.blob(), name)
      } else {
        setProgress(0)
        saveBlob(await loadBlob(ctx, item, meta), name)
      }
      announce(`Downloaded ${name}.`)
    } catch (err) {
      if (!isAbort(err) && !ac.signal.aborted) announce(`Could not download ${name}: ${describeError(err)}`, 'error')
    } finally {
      if (abort.current === ac) abort.current = null
      setProgress(null)
    }
  }, [ctx, item, meta, name, announce])

  const start = useCallback(() => {
    if (!meta || progress !== null) return
    if (meta.size <= BIG_BYTES) void run('small')
    else if (canStreamToDisk()) void run('stream')
    else setWarning(true)
  }, [meta, progress, run])

  const confirm = useCallback(() => {
    setWarning(false)
    void run('memory')
  }, [run])

  return {
    progress,
    warning,
    start,
    confirm,
    dismiss: () => setWarning(false),
    cancel: () => abort.current?.abort(),
  }
}
