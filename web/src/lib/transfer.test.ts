import { describe, expect, it } from 'vitest'
import type { Meta } from '../crypto'
import type { UploadHandle } from '../api/upload'
import { UploadTransfer, type TransferSteps } from './transfer'

const tick = () => new Promise((r) => setTimeout(r, 0))
const meta: Meta = { kind: 'file', name: 'f', mime: 'x/y', size: 3 * 65536, chunkSize: 65536 }
const BLOB = 65536 + 28

interface FakeUpload {
  index: number
  paused: boolean
  aborted: boolean
  progress(n: number): void
  finish(): void
  fail(err: Error): void
}

/** Steps that record what happens and let the test finish each upload. */
function fakeSteps(over: Partial<TransferSteps> = {}) {
  const log: string[] = []
  const uploads: FakeUpload[] = []
  const steps: TransferSteps = {
    describe: async (m) => ({ ...m, image: { width: 1, height: 2 } }),
    announce: async () => void log.push('announce'),
    seal: async (i) => {
      log.push(`seal ${i}`)
      return new Uint8Array(BLOB)
    },
    upload(index, _blob, onProgress) {
      log.push(`upload ${index}`)
      let resolve!: () => void
      let reject!: (e: Error) => void
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
      const u: FakeUpload = {
        index, paused: false, aborted: false,
        progress: onProgress, finish: resolve, fail: reject,
      }
      uploads.push(u)
      const h: UploadHandle = {
        done, uploadedOffset: 0, url: null,
        pause: () => void (u.paused = true),
        resume: () => void (u.paused = false),
        abort: () => {
          u.aborted = true
          reject(new DOMException('cancelled', 'AbortError'))
        },
      }
      return h
    },
    remove: async () => void log.push('remove'),
    ...over,
  }
  return { steps, log, uploads }
}

function start(steps: TransferSteps) {
  return new UploadTransfer('cid', meta, 3, 3 * BLOB, steps)
}

describe('UploadTransfer', () => {
  it('announces, then uploads each chunk with at most one sealed ahead', async () => {
    const { steps, log, uploads } = fakeSteps()
    const t = start(steps)
    let changes = 0
    t.onChange(() => changes++)
    await tick()
    expect(t.meta.image).toEqual({ width: 1, height: 2 })
    expect(log).toEqual(['announce', 'seal 0', 'seal 1', 'upload 0'])
    uploads[0].progress(1000)
    expect(t.progress).toEqual({ sent: 1000, total: 3 * BLOB })
    uploads[0].finish()
    await tick()
    expect(log).toEqual(['announce', 'seal 0', 'seal 1', 'upload 0', 'seal 2', 'upload 1'])
    expect(t.progress.sent).toBe(BLOB)
    uploads[1].finish()
    await tick()
    uploads[2].finish()
    await t.done
    expect(t.state).toBe('done')
    expect(t.progress).toEqual({ sent: 3 * BLOB, total: 3 * BLOB })
    expect(changes).toBeGreaterThan(3)
  })

  it('pauses the running upload and holds the next one until resumed', async () => {
    const { steps, log, uploads } = fakeSteps()
    const t = start(steps)
    await tick()
    t.pause()
    expect(t.state).toBe('paused')
    expect(uploads[0].paused).toBe(true)
    uploads[0].finish() // the server had it all already
    await tick()
    expect(log).not.toContain('upload 1')
    t.resume()
    await tick()
    expect(log).toContain('upload 1')
    expect(t.state).toBe('running')
  })

  it('cancel aborts the upload and deletes the announced item', async () => {
    const { steps, log, uploads } = fakeSteps()
    const t = start(steps)
    await tick()
    t.cancel()
    await expect(t.done).rejects.toMatchObject({ name: 'AbortError' })
    expect(uploads[0].aborted).toBe(true)
    expect(t.state).toBe('cancelled')
    expect(log.at(-1)).toBe('remove')
  })

  it('cancel while paused between chunks also ends it', async () => {
    const { steps, log, uploads } = fakeSteps()
    const t = start(steps)
    await tick()
    t.pause()
    uploads[0].finish()
    await tick()
    t.cancel()
    await expect(t.done).rejects.toMatchObject({ name: 'AbortError' })
    expect(log).toContain('remove')
    expect(log).not.toContain('upload 1')
  })

  it('cancel before the announce deletes nothing', async () => {
    let announce!: () => void
    const { steps, log } = fakeSteps({ announce: () => new Promise<void>((r) => (announce = r)) })
    const t = start(steps)
    await tick()
    t.cancel()
    announce()
    await expect(t.done).rejects.toMatchObject({ name: 'AbortError' })
    // The announce went through after all: the item is deleted.
    expect(log).toContain('remove')
  })

  it('a failed chunk ends in error, the item stays', async () => {
    const { steps, log, uploads } = fakeSteps()
    const t = start(steps)
    await tick()
    const err = new Error('quota_exceeded')
    uploads[0].fail(err)
    await expect(t.done).rejects.toBe(err)
    expect(t.state).toBe('error')
    expect(t.error).toBe(err)
    expect(log).not.toContain('remove')
  })

  it('a refused announce is an error before any chunk is read', async () => {
    const err = new Error('too_large')
    const { steps, log } = fakeSteps({ announce: () => Promise.reject(err) })
    const t = start(steps)
    await expect(t.done).rejects.toBe(err)
    expect(log).toEqual([])
  })
})
