// The main-thread side of the crypto RPC: a promise per request over postMessage, and the
// SessionKeys objects the app holds, which carry only a handle into the worker. index.ts
// binds these to the real Worker; the tests bind them to a MessageChannel.

import { backendName } from './backend'
import { asBytes, toHex } from './encoding'
import type { Op, Ops, Request, Response } from './service'
import { DecryptError, type KDF, type Meta, type Sealed, type SessionKeys } from './types'

/** The part of a Worker the client uses. */
export interface WorkerLike {
  onmessage: ((e: MessageEvent) => void) | null
  onerror: ((e: ErrorEvent) => void) | null
  postMessage(message: unknown, transfer: Transferable[]): void
  terminate(): void
}

/** A key ring in the worker: its number there, and which worker instance issued it. */
interface Handle {
  readonly id: number
  readonly worker: number
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }

export class RpcClient {
  private worker: WorkerLike | null = null
  /** Counts worker starts, so a handle from a crashed worker is never sent to its successor. */
  private generation = 0
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  constructor(private readonly spawn: () => WorkerLike) {}

  /** Sends one request. transfer lists buffers to move (detach) instead of copying. */
  call<K extends Op>(op: K, args: Ops[K]['args'], transfer: Transferable[] = [], worker?: number): Promise<Ops[K]['result']> {
    const w = this.connect()
    if (worker !== undefined && worker !== this.generation) {
      return Promise.reject(new Error('the crypto worker restarted; derive the session keys again'))
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      try {
        w.postMessage({ id, op, args } satisfies Request<K>, transfer)
      } catch (err) {
        // A detached or non-transferable buffer fails here, before anything reached the worker.
        this.pending.delete(id)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
  }

  /** Like call, for the operations that create a key ring; ties the handle to this worker. */
  async open(op: 'derive' | 'recall', args: Ops['derive' | 'recall']['args']): Promise<Handle | null> {
    this.connect()
    const worker = this.generation
    const id = await this.call(op, args as Ops[typeof op]['args'])
    return id === null ? null : { id, worker }
  }

  private connect(): WorkerLike {
    if (this.worker) return this.worker
    const w = this.spawn()
    w.onmessage = (e: MessageEvent<Response>) => this.settle(e.data)
    w.onerror = (e) => this.fail(w, e)
    this.worker = w
    this.generation++
    return w
  }

  private settle(res: Response): void {
    const p = this.pending.get(res.id)
    if (!p) return
    this.pending.delete(res.id)
    if ('error' in res) {
      p.reject(res.error.name === 'DecryptError' ? new DecryptError(res.error.message) : new Error(res.error.message))
    } else {
      p.resolve(res.result)
    }
  }

  /**
   * The worker failed to load or crashed. Its keys are gone with it, so every pending call
   * fails, and the next call starts a fresh worker (where old handles are refused).
   */
  private fail(w: WorkerLike, e: ErrorEvent): void {
    if (this.worker !== w) return
    this.worker = null
    w.terminate()
    const err = new Error(`crypto worker failed: ${e.message || 'could not start'}`)
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}

type AfterHandle<T> = T extends [number, ...infer R] ? R : never

/** Closes rings whose SessionKeys the app dropped without close(), so keys do not pile up. */
const abandoned = new FinalizationRegistry<{ rpc: RpcClient; handle: Handle }>(({ rpc, handle }) => {
  rpc.call('close', [handle.id], [], handle.worker).catch(() => {})
})

class WorkerSessionKeys implements SessionKeys {
  private closed = false

  constructor(private readonly rpc: RpcClient, readonly sessionId: string, private readonly handle: Handle) {
    abandoned.register(this, { rpc, handle }, this)
  }

  fingerprint(): Promise<Sealed> {
    return this.call('fingerprint', [])
  }
  sealMeta(contentId: string, meta: Meta): Promise<Sealed> {
    return this.call('sealMeta', [contentId, meta])
  }
  openMeta(contentId: string, sealed: Sealed): Promise<Meta> {
    return this.call('openMeta', [contentId, sealed])
  }
  sealChunk(contentId: string, index: number, total: number, plaintext: ArrayBuffer): Promise<Uint8Array> {
    return this.call('sealChunk', [contentId, index, total, plaintext], [plaintext])
  }
  openChunk(contentId: string, index: number, total: number, blob: ArrayBuffer): Promise<Uint8Array> {
    return this.call('openChunk', [contentId, index, total, blob], [blob])
  }
  remember(): Promise<boolean> {
    return this.call('remember', [])
  }
  async forget(): Promise<void> {
    await this.rpc.call('forget', [this.sessionId])
  }
  close(): void {
    if (this.closed) return
    this.closed = true
    abandoned.unregister(this)
    this.rpc.call('close', [this.handle.id], [], this.handle.worker).catch(() => {})
  }

  private call<K extends Op>(op: K, rest: AfterHandle<Ops[K]['args']>, transfer: Transferable[] = []): Promise<Ops[K]['result']> {
    if (this.closed) return Promise.reject(new Error('these session keys were closed'))
    const args = [this.handle.id, ...rest] as unknown as Ops[K]['args']
    return this.rpc.call(op, args, transfer, this.handle.worker)
  }
}

export async function deriveVia(rpc: RpcClient, sessionId: string, passphrase: string, kdf: KDF): Promise<SessionKeys> {
  const handle = await rpc.open('derive', [sessionId, passphrase, kdf])
  return new WorkerSessionKeys(rpc, sessionId, handle!)
}

export async function recallVia(rpc: RpcClient, sessionId: string): Promise<SessionKeys | null> {
  const handle = await rpc.open('recall', [sessionId])
  return handle && new WorkerSessionKeys(rpc, sessionId, handle)
}

/**
 * SHA-256 in lowercase hex. With WebCrypto it runs right here (digest is asynchronous and off
 * the main thread anyway); without, in the worker on a copy, so the caller keeps its bytes.
 */
export async function sha256HexVia(rpc: () => RpcClient, data: ArrayBuffer | Uint8Array): Promise<string> {
  if (backendName() === 'webcrypto') return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', asBytes(data))))
  return rpc().call('sha256', [data])
}
