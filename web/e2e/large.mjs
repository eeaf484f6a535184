// A file too large to hold comfortably in memory goes to disk chunk by chunk: B's browser
// streams the decrypted chunks into the file the user picked (File System Access API). The
// picker is answered with a file in the origin-private file system, the same kind of
// writable a real picker returns; the file written is checked against --sha256.
//
//   node e2e/large.mjs --url URL --file PATH --sha256 HEX
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { options, run, joinedPages, step } from './lib.mjs'

const opts = options()
const session = `large-${randomBytes(3).toString('hex')}`

run(async (browser) => {
  const [a, b] = await joinedPages(browser, opts.url, session, opts.passphrase, ['Alice', 'Bob'])
  const name = basename(opts.file)
  await a.getByTestId('file-input').setInputFiles(opts.file)
  const card = b.locator('[data-testid="item"][data-complete="true"]', { has: b.getByTestId('item-name').filter({ hasText: name }) })
  await card.waitFor({ timeout: 300_000 })

  await b.evaluate(() => {
    window.showSaveFilePicker = async ({ suggestedName }) => {
      const dir = await navigator.storage.getDirectory()
      window.savedName = suggestedName
      window.saved = await dir.getFileHandle('picked.bin', { create: true })
      return window.saved
    }
  })
  await card.getByTestId('item-download').click()
  await b.getByTestId('status').filter({ hasText: `Downloaded ${name}` }).waitFor({ timeout: 300_000 })
  const got = await b.evaluate(async () => {
    const file = await window.saved.getFile()
    const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer())
    return { name: window.savedName, size: file.size, sha256: [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('') }
  })
  if (got.sha256 !== opts.sha256 || got.name !== name) throw new Error(`streamed to disk: ${JSON.stringify(got)}, want ${opts.sha256}`)
  step('streamed-to-disk', { bytes: got.size })
})
