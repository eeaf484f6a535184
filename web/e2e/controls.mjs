// What a user behind a hostile network, or in a hurry, relies on:
// - where no event stream gets through (the stream form of /events is refused), the app
//   switches to the long-poll form by itself, says so, and still receives what others share;
// - an upload can be paused and resumed (and then arrives intact) or cancelled (and then
//   disappears for everyone).
//
//   node e2e/controls.mjs --url URL
import { randomBytes } from 'node:crypto'
import { options, run, newPage, join, waitLive, step, sha256, downloadedSHA256, expectedConsole, slowUploads } from './lib.mjs'

const opts = options()
const session = `controls-${randomBytes(3).toString('hex')}`
const named = (page, name) => page.locator('[data-testid="item"]', { has: page.getByTestId('item-name').filter({ hasText: name }) })

run(async (browser) => {
  const a = await newPage(browser)
  await join(a, opts.url, { session, name: 'Alice', passphrase: opts.passphrase })
  await waitLive(a)
  const c = await pollingClient(browser)

  await a.getByTestId('share-text').fill('through the long poll')
  await a.getByTestId('share-button').click()
  await c.locator('[data-testid="item"][data-kind="text"]').getByTestId('item-text').filter({ hasText: 'through the long poll' }).waitFor()
  step('polling-delivers')

  await a.getByTestId('patch-size').selectOption(String(256 << 10))
  // Resuming may first meet the upload that a pause cut short: 409 chunk_in_progress names it,
  // and the app continues there. The protocol's answer, not an app error.
  expectedConsole.push(/status of 409/)
  await slowUploads(a, 40) // 48 requests per upload: time to press pause in the middle
  await pauseAndResume(a, c)
  await cancel(a, c)
})

/** A client whose event streams are refused: only the long-poll form gets through. */
async function pollingClient(browser) {
  const c = await newPage(browser)
  expectedConsole.push(/net::ERR_FAILED/, /EventSource/)
  await c.route(/\/events\?(?!.*poll=1)/, (route) => route.abort('failed'))
  await join(c, opts.url, { session, name: 'Carol', passphrase: opts.passphrase })
  await c.locator('[data-testid="connection-badge"][data-state="polling"]').waitFor({ timeout: 60_000 })
  step('polling')
  return c
}

async function pauseAndResume(a, c) {
  const data = randomBytes(12 << 20)
  await a.getByTestId('file-input').setInputFiles({ name: 'paused.bin', mimeType: 'application/octet-stream', buffer: data })
  const row = a.locator('[data-testid="upload-row"]', { hasText: 'paused.bin' })
  await row.getByTestId('upload-pause').click()
  await row.and(a.locator('[data-state="paused"]')).waitFor()
  // The receiver sees an incomplete item with its progress while the upload waits.
  await named(c, 'paused.bin').and(c.locator('[data-complete="false"]')).getByTestId('item-progress').waitFor()
  await row.getByTestId('upload-resume').click()
  const done = named(c, 'paused.bin').and(c.locator('[data-complete="true"]'))
  await done.waitFor({ timeout: 60_000 })
  const got = await downloadedSHA256(c, () => done.getByTestId('item-download').click())
  if (got.sha256 !== sha256(data)) throw new Error(`paused.bin: downloaded ${got.sha256}, want ${sha256(data)}`)
  step('pause-resume')
}

async function cancel(a, c) {
  await a.getByTestId('file-input').setInputFiles({ name: 'cancelled.bin', mimeType: 'application/octet-stream', buffer: randomBytes(12 << 20) })
  const row = a.locator('[data-testid="upload-row"]', { hasText: 'cancelled.bin' })
  await row.getByTestId('upload-pause').click()
  await named(c, 'cancelled.bin').waitFor()
  await row.getByTestId('upload-cancel').click()
  await c.waitForFunction(() => ![...document.querySelectorAll('[data-testid="item-name"]')].some((e) => e.textContent.includes('cancelled.bin')), null, { timeout: 30_000 })
  await a.waitForFunction(() => ![...document.querySelectorAll('[data-testid="item-name"]')].some((e) => e.textContent.includes('cancelled.bin')), null, { timeout: 30_000 })
  step('cancel')
}
