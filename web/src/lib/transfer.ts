// One outgoing item as the UI follows it: describe → announce → for each chunk, seal (in the
// crypto worker) and upload, with the next chunk sealed while the current one uploads, never
// more (memory stays at about two chunks whatever the file size). The steps are injected, so
// the sequencing, pausing and cancelling are tested without a server or a worker.
import type { Meta } from '../crypto'
import type { UploadHandle } from '../api/upload'
import { abortError, isAbort } from '../api/errors'
import { ByteProgress } from './progress'

export type TransferState = 'running' | 'paused' | 'done' | 'error' | 'cancelled'

export interface Transfer {
  readonly contentId: string
  /** What is being shared; the image extra appears once measured (before the announce). */
  readonly meta: Meta
  /** Encrypted bytes uploaded of the item's total. */
  readonly progress: { sent: number; total: number }
  readonly state: TransferState
  readonly error?: Error
  pause(): void
  resume(): void
  /** Stops the uploads and deletes the item if it was announced. done then rejects with AbortError. */
  cancel(): void
  /** Resolves when every chunk is stored; rejects with the error, or AbortError after cancel(). */
  readonly done: Promise<void>
  /** Called on every state or progress change; returns the unsubscribe function. */
  onChange(fn: () => void): () => void
}

export interface TransferSteps {
  /** Finishes the metadata (e.g. measures an image); may return it unchanged. */
  describe(meta: Meta): Promise<Meta>
  announce(meta: Meta): Promise<void>
  /** Reads and seals chunk index. */
  seal(index: number): Promise<Uint8Array>
  upload(index: number, blob: Uint8Array, onProgress: (sent: number) => void): UploadHandle
  /** Deletes the announced item (after cancel). */
  remove(): Promise<void>
}

export class UploadTransfer implements Transfer {
  meta: Meta
  state: TransferState = 'running'
  error?: Error
  readonly done: Promise<void>
  private readonly bytes: ByteProgress
  private readonly listeners = new Set<() => void>()
  private handle: UploadHandle | null = null
  private announced = false
  /** Resolves the wait of a paused loop (on resume or cancel). */
  private wake: (() => void) | null = null

  constructor(
    readonly contentId: string,
    meta: Meta,
    private readonly totalChunks: number,
    totalBytes: number,
    private readonly steps: TransferSteps,
  ) {
    this.meta = meta
    this.bytes = new ByteProgress(totalBytes)
    this.done = this.run()
    this.done.catch(() => undefined) // the UI may not listen; the state says it all
  }

  get progress(): { sent: number; total: number } {
    return this.bytes.snapshot()
  }

  pause(): void {
    if (this.state !== 'running') return
    this.state = 'paused'
    this.handle?.pause()
    this.changed()
  }

  resume(): void {
    if (this.state !== 'paused') return
    this.state = 'running'
    this.handle?.resume()
    this.wakeUp()
    this.changed()
  }

  cancel(): void {
    if (this.state !== 'running' && this.state !== 'paused') return
    this.state = 'cancelled'
    this.handle?.abort()
    this.wakeUp()
    this.changed()
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private async run(): Promise<void> {
    try {
      this.meta = await this.steps.describe(this.meta)
      this.check()
      await this.steps.announce(this.meta)
      this.announced = true
      await this.sendChunks()
      this.check()
      this.bytes.complete()
      this.state = 'done'
      this.changed()
    } catch (err) {
      await this.fail(err as Error)
      throw this.error ?? err
    }
  }

  /** Uploads chunk i while chunk i+1 is being sealed. */
  private async sendChunks(): Promise<void> {
    let next: Promise<Uint8Array> | null = this.steps.seal(0)
    for (let i = 0; i < this.totalChunks; i++) {
      const blob: Uint8Array = await next!
      this.check()
      next = i + 1 < this.totalChunks ? this.steps.seal(i + 1) : null
      next?.catch(() => undefined) // if chunk i fails, nobody awaits i+1
      await this.whileUnpaused()
      this.handle = this.steps.upload(i, blob, (sent) => {
        this.bytes.setCurrent(sent)
        this.changed()
      })
      if (this.state === 'paused') this.handle.pause() // paused between the check and here
      await this.handle.done
      this.handle = null
      this.bytes.finishChunk(blob.byteLength)
      this.changed()
    }
  }

  /** Waits while paused; cancel() and resume() end the wait. */
  private async whileUnpaused(): Promise<void> {
    while (this.state === 'paused') await new Promise<void>((r) => (this.wake = r))
    this.check()
  }

  private wakeUp(): void {
    const w = this.wake
    this.wake = null
    w?.()
  }

  /** Throws AbortError once cancelled, so the run stops at its next step. */
  private check(): void {
    if (this.state === 'cancelled') throw abortError()
  }

  private async fail(err: Error): Promise<void> {
    this.handle = null
    if (this.state === 'cancelled' || isAbort(err)) {
      this.state = 'cancelled'
      this.error = abortError()
      // Others saw content.created; deleting tells them the item is gone, and frees the quota.
      if (this.announced) await this.steps.remove().catch(() => undefined)
    } else {
      this.state = 'error'
      this.error = err
    }
    this.changed()
  }

  private changed(): void {
    for (const fn of this.listeners) {
      try {
        fn()
      } catch (err) {
        setTimeout(() => {
          throw err
        })
      }
    }
  }
}
