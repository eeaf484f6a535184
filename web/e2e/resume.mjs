// An upload survives a network cut: while A uploads a 12 MiB file in 256 KiB requests, every
// upload request is refused (as when the network goes away), then allowed again. The upload
// goes on from where it stopped (HEAD + PATCH at the offset reached, no new creation for the
// chunk) and B receives the file byte-identical.
//
//   node e2e/resume.mjs --url http://127.0.0.1:PORT
import { randomBytes } from 'node:crypto'
import { options, run, joinedPages, step, sha256, downloadedSHA256, until, expectedConsole, slowUploads } from './lib.mjs'

const opts = options()
const session = `resume-${randomBytes(3).toString('hex')}`

run(async (browser) => {
  const [a, b] = await joinedPages(browser, opts.url, session, opts.passphrase, ['Alice', 'Bob'])
  await a.getByTestId('patch-size').selectOption(String(256 << 10))
  await slowUploads(a, 40) // 48 requests: the cut lands in the middle on a fast loopback

  const patches = [] // {url, offset} of every PATCH the page sent
  let creations = 0
  a.on('request', (r) => {
    if (!r.url().includes('/api/v1/uploads')) return
    if (r.method() === 'POST') creations++
    if (r.method() === 'PATCH') patches.push({ url: r.url(), offset: Number(r.headers()['upload-offset']) })
  })

  const data = randomBytes(12 << 20)
  await a.getByTestId('file-input').setInputFiles({ name: 'resumed.bin', mimeType: 'application/octet-stream', buffer: data })
  await until('1 MiB of the first chunk sent', () => patches.some((p) => p.offset >= 1 << 20))

  let refused = 0
  // Cut-off requests fail; a retried creation may meet 409 chunk_in_progress naming the
  // upload to continue. Both are expected here, neither is an app error.
  expectedConsole.push(/net::ERR_INTERNET_DISCONNECTED/, /status of 409/)
  const refuse = (route) => {
    refused++
    return route.abort('internetdisconnected')
  }
  await a.route('**/api/v1/uploads**', refuse)
  const cut = patches.at(-1)
  await until('the upload to retry twice while cut off', () => refused >= 2, 60_000)
  const beforeRestore = patches.length
  await a.unroute('**/api/v1/uploads**', refuse)
  step('cut', { at: cut.offset, refused })

  const card = b.locator('[data-testid="item"][data-complete="true"]', { has: b.getByTestId('item-name').filter({ hasText: 'resumed.bin' }) })
  await card.waitFor({ timeout: 120_000 })
  const got = await downloadedSHA256(b, () => card.getByTestId('item-download').click())
  if (got.sha256 !== sha256(data)) throw new Error(`downloaded ${got.sha256}, want ${sha256(data)}`)

  const after = patches.slice(beforeRestore).filter((p) => p.url === cut.url)
  const from = Math.min(...after.map((p) => p.offset))
  if (after.length === 0 || from < cut.offset) {
    throw new Error(`after the cut at ${cut.offset} the chunk was sent again from ${from}: it restarted`)
  }
  if (creations !== 3) throw new Error(`${creations} uploads created for 3 chunks`)
  step('resumed', { from, creations })
})
