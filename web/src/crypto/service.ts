// The worker side of the crypto RPC: the message shapes, the table of operations, and the
// Map of key rings by handle. Keys enter this module (derived or loaded from IndexedDB) and
// never leave it: the main thread holds only a handle number. worker.ts wires it to the
// worker's global scope; the tests wire it to a MessageChannel, so the same code is tested.

import type { Backend } from './backend'
import { asBytes, ownBuffer, toHex } from './encoding'
import { DerivedKeyRing, deriveSecrets, openChunk, openMeta, sealChunk, sealMeta, type KeyRing } from './keys'
import { StoredKeyRing, canRemember, deleteKeys, loadKeys, saveKeys, storableKeys } from './remember'
import { DecryptError, type BackendName, type KDF, type Meta, type Sealed } from './types'

/** Every operation with its arguments and result, as they cross postMessage. */
export interface Ops {
  backend: { args: []; result: BackendName }
  derive: { args: [sessionId: string, passphrase: string, kdf: KDF]; result: number }
  recall: { args: [sessionId: string]; result: number | null }
  fingerprint: { args: [handle: number]; result: Sealed }
  sealMeta: { args: [handle: number, contentId: string, meta: Meta]; result: Sealed }
  openMeta: { args: [handle: number, contentId: string, sealed: Sealed]; result: Meta }
  sealChunk: { args: [handle: number, contentId: string, index: number, total: number, plaintext: ArrayBuffer]; result: Uint8Array }
  openChunk: { args: [handle: number, contentId: string, index: number, total: number, blob: ArrayBuffer]; result: Uint8Array }
  remember: { args: [handle: number]; result: boolean }
  forget: { args: [sessionId: string]; result: null }
  close: { args: [handle: number]; result: null }
  sha256: { args: [data: ArrayBuffer | Uint8Array]; result: string }
}
export type Op = keyof Ops

/** Main thread → worker. */
export interface Request<K extends Op = Op> {
  id: number
  op: K
  args: Ops[K]['args']
}

/** Worker → main thread: exactly one per request. Errors travel by name and message. */
export type Response =
  | { id: number; result: unknown }
  | { id: number; error: { name: 'DecryptError' | 'Error'; message: string } }

/** The part of a worker scope or MessagePort that serve() uses. */
export interface Port {
  onmessage: ((e: MessageEvent) => void) | null
  postMessage(message: unknown, transfer: Transferable[]): void
}

type Handlers = { [K in Op]: (...args: Ops[K]['args']) => Promise<Ops[K]['result']> }

export class CryptoService {
  private readonly rings = new Map<number, KeyRing>()
  private nextHandle = 1

  constructor(private readonly backend: Backend) {}

  /** Runs one request; a Uint8Array result is sent by transferring its buffer, not copied. */
  async handle(req: Request): Promise<{ result: unknown; transfer: Transferable[] }> {
    const fn = this.ops[req.op] as (...args: unknown[]) => Promise<unknown>
    if (typeof fn !== 'function' || !Array.isArray(req.args)) throw new Error(`unknown crypto op ${String(req.op)}`)
    let result = await fn(...req.args)
    if (result instanceof Uint8Array) {
      result = ownBuffer(result)
      return { result, transfer: [(result as Uint8Array<ArrayBuffer>).buffer] }
    }
    return { result, transfer: [] }
  }

  private readonly ops: Handlers = {
    backend: async () => this.backend.name,
    derive: async (sessionId, passphrase, kdf) => {
      const secrets = await deriveSecrets(this.backend, passphrase, kdf)
      return this.add(new DerivedKeyRing(this.backend, sessionId, secrets))
    },
    recall: async (sessionId) => {
      const stored = await loadKeys(sessionId)
      return stored ? this.add(new StoredKeyRing(stored)) : null
    },
    fingerprint: async (h) => this.ring(h).fingerprint(),
    sealMeta: async (h, contentId, meta) => sealMeta(await this.ring(h).item(contentId), contentId, meta),
    openMeta: async (h, contentId, sealed) => openMeta(await this.ring(h).item(contentId), contentId, sealed),
    sealChunk: async (h, contentId, index, total, plaintext) =>
      sealChunk(await this.ring(h).item(contentId), contentId, index, total, asBytes(plaintext)),
    openChunk: async (h, contentId, index, total, blob) =>
      openChunk(await this.ring(h).item(contentId), contentId, index, total, asBytes(blob)),
    remember: async (h) => {
      const ring = this.ring(h)
      if (ring instanceof StoredKeyRing) return saveKeys(ring.stored)
      if (!(ring instanceof DerivedKeyRing) || !canRemember()) return false
      return saveKeys(await storableKeys(ring.sessionId, ring.secrets))
    },
    forget: async (sessionId) => {
      await deleteKeys(sessionId)
      return null
    },
    close: async (h) => {
      this.rings.delete(h)
      return null
    },
    sha256: async (data) => toHex(await this.backend.sha256(asBytes(data))),
  }

  private add(ring: KeyRing): number {
    const h = this.nextHandle++
    this.rings.set(h, ring)
    return h
  }

  private ring(h: number): KeyRing {
    const ring = this.rings.get(h)
    if (!ring) throw new Error('these session keys were closed')
    return ring
  }
}

/** Answers requests arriving on port, each exactly once, in whatever order they finish. */
export function serve(port: Port, service: CryptoService): void {
  port.onmessage = (e: MessageEvent<Request>) => {
    void reply(port, service, e.data)
  }
}

async function reply(port: Port, service: CryptoService, req: Request): Promise<void> {
  try {
    const { result, transfer } = await service.handle(req)
    port.postMessage({ id: req.id, result } satisfies Response, transfer)
  } catch (err) {
    const name = err instanceof DecryptError ? 'DecryptError' : 'Error'
    const message = err instanceof Error ? err.message : String(err)
    port.postMessage({ id: req.id, error: { name, message } } satisfies Response, [])
  }
}
