// The main-thread API end to end, with the worker's service on the far side of a
// MessageChannel instead of a Worker (Vitest runs in Node): the same messages, the same
// structured cloning, the same transfers.

import { afterAll, describe, expect, it } from 'vitest'
import raw from '../../../testdata/protocol-vectors.json?raw'
import type { Backend } from './backend'
import { RpcClient, deriveVia, recallVia, type WorkerLike } from './client'
import { fromBase64, toBase64 } from './encoding'
import { nobleBackend } from './noble'
import { CryptoService, serve, type Port } from './service'
import { subtleBackend } from './subtle'
import { DecryptError, type KDF, type Meta } from './types'

const session = (JSON.parse(raw) as { sessions: { passphrase: string; sessionId: string; kdf: KDF; fingerprint: unknown }[] }).sessions[0]
const CID = '0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b'

const ports: MessagePort[] = []
afterAll(() => ports.forEach((p) => p.close()))

/** A fake worker: a fresh service behind a fresh channel each time it is spawned. */
function fakeWorker(backend: Backend): WorkerLike {
  const { port1, port2 } = new MessageChannel()
  ports.push(port1, port2)
  serve(port2 as unknown as Port, new CryptoService(backend))
  return {
    get onmessage() {
      return port1.onmessage as WorkerLike['onmessage']
    },
    set onmessage(f) {
      port1.onmessage = f
    },
    onerror: null,
    postMessage: (m, transfer) => port1.postMessage(m, transfer),
    terminate: () => port1.close(),
  }
}

describe.each([subtleBackend(), nobleBackend()])('$name', (backend) => {
  const workers: WorkerLike[] = []
  const rpc = new RpcClient(() => {
    workers.push(fakeWorker(backend))
    return workers[workers.length - 1]
  })

  it('derives keys whose fingerprint is the vector', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    expect(keys.sessionId).toBe(session.sessionId)
    expect(await keys.fingerprint()).toEqual(session.fingerprint)
    expect(await rpc.call('backend', [])).toBe(backend.name)
    keys.close()
  })

  it('moves chunks by transfer and opens them again', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    const plain = new TextEncoder().encode('hello, worker')
    const sent = plain.slice().buffer
    const blob = await keys.sealChunk(CID, 0, 1, sent)
    expect(sent.byteLength).toBe(0) // detached: it went to the worker, not a copy
    expect(blob).toBeInstanceOf(Uint8Array)
    expect(blob.length).toBe(plain.length + 28)

    const copy = blob.slice()
    expect(await keys.openChunk(CID, 0, 1, blob.buffer as ArrayBuffer)).toEqual(plain)
    expect(blob.buffer.byteLength).toBe(0)
    copy[20] ^= 1
    await expect(keys.openChunk(CID, 0, 1, copy.buffer)).rejects.toBeInstanceOf(DecryptError)
    // Browsers refuse to post a detached buffer again (DataCloneError); Node 20 posts it as
    // empty, so that case is not asserted here.
    keys.close()
  })

  it('seals and opens metadata; DecryptError survives the trip', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    const meta: Meta = { kind: 'image', name: 'cat.png', mime: 'image/png', size: 10, chunkSize: 65536, image: { width: 2, height: 1 } }
    const sealed = await keys.sealMeta(CID, meta)
    expect(await keys.openMeta(CID, sealed)).toEqual(meta)
    const err = await keys.openMeta('5a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d', sealed).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DecryptError)
    expect((err as Error).message).toMatch(/5a1b2c3d/)
    keys.close()
  })

  it('refuses kdf parameters the server would refuse, as plain errors', async () => {
    for (const kdf of [
      { ...session.kdf, iterations: 0 },
      { ...session.kdf, iterations: 10_000_001 },
      { ...session.kdf, salt: toBase64(new Uint8Array(15)) },
      { ...session.kdf, alg: 'PBKDF2-SHA1' as 'PBKDF2-SHA256' },
    ]) {
      const err = await deriveVia(rpc, 's', 'pw', kdf).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      expect(err).not.toBeInstanceOf(DecryptError)
    }
  })

  it('refuses calls after close', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    keys.close()
    keys.close()
    await expect(keys.fingerprint()).rejects.toThrow(/closed/)
  })

  it('cannot remember without IndexedDB, and says so', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    expect(await keys.remember()).toBe(false)
    await keys.forget()
    expect(await recallVia(rpc, session.sessionId)).toBeNull()
    keys.close()
  })

  it('hashes in the worker', async () => {
    const data = new TextEncoder().encode('abc')
    expect(await rpc.call('sha256', [data])).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(data.length).toBe(3) // copied, not transferred
  })

  it('fails pending calls when the worker dies, and never reuses its handles', async () => {
    const keys = await deriveVia(rpc, session.sessionId, session.passphrase, session.kdf)
    const dead = workers[workers.length - 1]
    const pending = rpc.call('derive', [session.sessionId, session.passphrase, session.kdf])
    dead.onerror!({ message: 'boom' } as ErrorEvent)
    await expect(pending).rejects.toThrow(/boom/)
    // A new worker starts; its handle 1 is another ring, and the old object must not reach it.
    const fresh = await deriveVia(rpc, 'other', 'pw', session.kdf)
    expect(workers.length).toBeGreaterThan(1)
    await expect(keys.fingerprint()).rejects.toThrow(/restarted/)
    expect(fromBase64((await fresh.fingerprint()).data).length).toBe('other'.length + 16)
    fresh.close()
  })
})
