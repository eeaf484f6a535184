// How long sharing a file takes from A to B, end to end: A picks --file, the browser reads,
// encrypts and uploads it chunk by chunk; B is notified, downloads and decrypts it, and the
// saved file is checked against --sha256. Prints the times of each stage.
//
//   node e2e/timing.mjs --url URL --file PATH --sha256 HEX
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { options, run, joinedPages, step, downloadedSHA256 } from './lib.mjs'

const opts = options()
const session = `timing-${randomBytes(3).toString('hex')}`

run(async (browser) => {
  const [a, b] = await joinedPages(browser, opts.url, session, opts.passphrase, ['Alice', 'Bob'])
  const name = basename(opts.file)
  const complete = (page) => page.locator('[data-testid="item"][data-complete="true"]', { has: page.getByTestId('item-name').filter({ hasText: name }) })
  const start = Date.now()
  await a.getByTestId('file-input').setInputFiles(opts.file)
  await complete(b).waitFor({ timeout: 600_000 })
  const uploaded = Date.now()
  const got = await downloadedSHA256(b, () => complete(b).getByTestId('item-download').click())
  const received = Date.now()
  if (got.sha256 !== opts.sha256) throw new Error(`downloaded ${got.sha256}, want ${opts.sha256}`)
  step('timing', { uploadAndNotifyMs: uploaded - start, downloadMs: received - uploaded, totalMs: received - start })
})
