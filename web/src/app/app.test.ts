// Unit tests for the UI's plain modules: the item-list state machine, hash routes, names,
// passphrases and formatting. The components are covered by the browser scenarios in e2e/.
import { describe, expect, it } from 'vitest'
import type { Item } from '../api/client'
import { downloadName, firstLine, formatBytes } from './format'
import { initialList, listReducer, sortedEntries, type Action, type ListState } from './itemsState'
import { defaultClientName, randomSessionId, SESSION_ID_RE, validateClientName } from './names'
import { generatePassphrase, WORDS } from './passphrase'
import { parseHash, sessionHash } from './route'

function item(id: string, over: Partial<Item> = {}): Item {
  return {
    contentId: id, senderId: 's', senderName: 'S', totalChunks: 3, totalSize: 300, chunkSize: 65536,
    receivedChunks: 0, complete: false, pinned: false, metadata: { iv: 'iv', data: 'd' },
    createdAt: `2026-01-01T00:00:0${id}Z`, updatedAt: '2026-01-01T00:00:00Z', ...over,
  }
}

const run = (actions: Action[], s: ListState = initialList()) => actions.reduce(listReducer, s)
const ids = (s: ListState) => sortedEntries(s).map((e) => e.item.contentId)

describe('itemsState', () => {
  it('sorts pinned first, then newest or oldest', () => {
    const s = run([{ type: 'upsert', item: item('1') }, { type: 'upsert', item: item('2') }, { type: 'upsert', item: item('3', { pinned: true }) }])
    expect(ids(s)).toEqual(['3', '2', '1'])
    expect(ids({ ...s, order: 'oldest' })).toEqual(['3', '1', '2'])
  })

  it('counts chunk events once each, and a page never takes progress back', () => {
    let s = run([{ type: 'upsert', item: item('1') }, { type: 'chunk', contentId: '1', index: 0 }, { type: 'chunk', contentId: '1', index: 0 }])
    expect(s.entries['1'].item.receivedChunks).toBe(1)
    s = run([{ type: 'chunk', contentId: '1', index: 2 }, { type: 'page', epoch: 0, items: [item('1')], nextCursor: null }], s)
    expect(s.entries['1'].item.receivedChunks).toBe(2)
    s = run([{ type: 'completed', contentId: '1' }], s)
    expect(s.entries['1'].item).toMatchObject({ complete: true, receivedChunks: 3 })
  })

  it('drops pages of an older epoch and keeps metadata across resets', () => {
    let s = run([{ type: 'upsert', item: item('1') }, { type: 'meta', contentId: '1', iv: 'iv', failed: true }, { type: 'reset', order: 'oldest' }])
    expect(s.epoch).toBe(1)
    s = run([{ type: 'page', epoch: 0, items: [item('2')], nextCursor: 'c' }], s)
    expect(ids(s)).toEqual([])
    s = run([{ type: 'page', epoch: 1, items: [item('1')], nextCursor: null }], s)
    expect(ids(s)).toEqual(['1'])
    expect(s.metas['1'].failed).toBe(true)
  })

  it('applies updates, hides for undo, removes and clears', () => {
    let s = run([{ type: 'upsert', item: item('1') }, { type: 'updated', contentId: '1', pinned: true }, { type: 'hide', contentId: '1', hidden: true }])
    expect(s.entries['1'].item.pinned).toBe(true)
    expect(s.hidden['1']).toBe(true)
    s = run([{ type: 'hide', contentId: '1', hidden: false }, { type: 'remove', contentId: '1' }], s)
    expect(s.hidden).toEqual({})
    expect(run([{ type: 'upsert', item: item('2') }, { type: 'clear' }], s).entries).toEqual({})
  })
})

describe('route', () => {
  it('round-trips a session and a passphrase in the fragment', () => {
    const h = sessionHash('a-b_1', 'p & q/ü')
    expect(parseHash(h)).toEqual({ sid: 'a-b_1', pass: 'p & q/ü' })
    expect(parseHash('#/s/x')).toEqual({ sid: 'x', pass: undefined })
    expect(parseHash('#/')).toEqual({})
    expect(parseHash('#/s/%E0%A4%A')).toEqual({})
  })
})

describe('names and passphrases', () => {
  it('offers valid session ids and word passphrases', () => {
    expect(new Set(WORDS).size).toBe(256)
    for (let i = 0; i < 50; i++) expect(randomSessionId()).toMatch(SESSION_ID_RE)
    expect(generatePassphrase().split('-')).toHaveLength(6)
  })

  it('validates names', () => {
    expect(validateClientName('  ')).not.toBeNull()
    expect(validateClientName('a\u0007')).not.toBeNull()
    expect(validateClientName('x'.repeat(65))).not.toBeNull()
    expect(validateClientName('Ann')).toBeNull()
    expect(defaultClientName('Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36')).toBe('Chrome on Android')
  })
})

describe('format', () => {
  it('formats sizes, first lines and download names', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1536)).toBe('1.50 KB')
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MB')
    expect(firstLine('\n  hello\nworld')).toBe('hello')
    const text = { kind: 'text', name: '', mime: 'text/plain', size: 5, chunkSize: 65536 } as const
    expect(downloadName(text, 'hi: there\nx')).toBe('hi  there.txt')
    expect(downloadName({ ...text, kind: 'file', name: 'a.pdf' })).toBe('a.pdf')
  })
})
