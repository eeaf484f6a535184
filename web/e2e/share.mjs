// Two people in one session, in two browser contexts: what A shares appears on B live and
// decrypts byte-identically; presence, pin, rename, delete and clear reach the other side; a
// reload restores the list; a wrong passphrase shows its error. Screenshots of home and
// session pages, light and dark, and a phone-sized viewport go to --shots.
//
//   node e2e/share.mjs --url http://127.0.0.1:PORT --session e2e-x --shots DIR
import { randomBytes } from 'node:crypto'
import { options, run, newPage, join, waitLive, step, sha256, downloadedSHA256, screenshot, makePNG } from './lib.mjs'

const opts = options()
const session = opts.session || `e2e-${randomBytes(3).toString('hex')}`
const item = (page, kind, nth = 0) => page.locator(`[data-testid="item"][data-kind="${kind}"][data-complete="true"]`).nth(nth)

run(async (browser) => {
  const a = await newPage(browser, { colorScheme: 'light', viewport: { width: 1280, height: 900 } })
  const b = await newPage(browser, { colorScheme: 'dark', viewport: { width: 1280, height: 900 } })
  await a.goto(opts.url)
  if (opts.protocol) {
    const got = await a.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol)
    if (got !== opts.protocol) throw new Error(`the page came over ${got}, want ${opts.protocol}`)
    step('protocol', { protocol: got })
  }
  await screenshot(a, opts.shots, 'home-light')
  await b.goto(opts.url)
  await screenshot(b, opts.shots, 'home-dark')

  await join(a, opts.url, { session, name: 'Alice', passphrase: opts.passphrase })
  await waitLive(a)
  await join(b, opts.url, { session, name: 'Bob', passphrase: opts.passphrase, remember: true })
  await waitLive(b)
  for (const page of [a, b]) await page.getByTestId('presence-item').nth(1).waitFor()
  step('presence', { a: await a.getByTestId('presence-item').count(), b: await b.getByTestId('presence-item').count() })

  await wrongPassphrase(browser)
  await shareText(a, b)
  await shareImages(a, b)
  await shareLargeFile(a, b)
  await screenshot(a, opts.shots, 'session-light')
  await screenshot(b, opts.shots, 'session-dark')
  await phone(browser)
  await reloadRestores(b)
  await manage(a, b)
})

async function wrongPassphrase(browser) {
  const c = await newPage(browser)
  await join(c, opts.url, { session, name: 'Mallory', passphrase: 'not the passphrase' })
  const error = c.getByTestId('join-error')
  await error.waitFor()
  const text = await error.innerText()
  if (!/passphrase/i.test(text)) throw new Error(`wrong passphrase shows ${JSON.stringify(text)}`)
  step('wrong-passphrase', { error: text })
  await c.context().close()
}

async function shareText(a, b) {
  await a.getByTestId('share-text').fill('hello from Alice\nsecond line')
  await a.getByTestId('share-button').click()
  await item(b, 'text').getByTestId('item-text').filter({ hasText: 'hello from Alice' }).waitFor()
  step('text')
}

async function shareImages(a, b) {
  const png = makePNG(64, 48, [200, 40, 40])
  const want = sha256(png)
  const base64 = png.toString('base64')
  // Paste: a ClipboardEvent carrying the image as a file, as when pasting a screenshot.
  await a.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
    const dt = new DataTransfer()
    dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }))
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }))
  }, base64)
  // Drop: dragenter, dragover and drop with the image, on the page.
  await a.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
    const dt = new DataTransfer()
    dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }))
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }))
    }
  }, base64)
  for (const name of ['pasted.png', 'dropped.png']) {
    const card = b.locator('[data-testid="item"][data-kind="image"][data-complete="true"]', { has: b.getByTestId('item-name').filter({ hasText: name }) })
    await card.getByTestId('item-image').waitFor()
    const got = await downloadedSHA256(b, () => card.getByTestId('item-download').click())
    if (got.sha256 !== want || got.name !== name) throw new Error(`${name}: downloaded ${got.name} ${got.sha256}, want ${want}`)
  }
  step('images', { sha256: want })
}

async function shareLargeFile(a, b) {
  const data = randomBytes(20 << 20)
  const want = sha256(data)
  const started = Date.now()
  await a.getByTestId('file-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: data })
  const card = b.locator('[data-testid="item"][data-complete="true"]', { has: b.getByTestId('item-name').filter({ hasText: 'big.bin' }) })
  await card.waitFor({ timeout: 120_000 })
  const got = await downloadedSHA256(b, () => card.getByTestId('item-download').click())
  if (got.sha256 !== want || got.name !== 'big.bin') throw new Error(`big.bin: downloaded ${got.name} ${got.sha256}, want ${want}`)
  step('file-20MiB', { sha256: want, ms: Date.now() - started })
}

async function phone(browser) {
  const p = await newPage(browser, { colorScheme: 'light', viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true })
  await join(p, opts.url, { session, name: 'Phone', passphrase: opts.passphrase })
  await waitLive(p)
  await item(p, 'text').waitFor()
  await screenshot(p, opts.shots, 'session-phone')
  await p.context().close()
}

async function reloadRestores(b) {
  const before = await b.getByTestId('item').count()
  await b.reload()
  await waitLive(b)
  await b.getByTestId('item').nth(before - 1).waitFor()
  step('reload', { items: await b.getByTestId('item').count() })
}

async function manage(a, b) {
  const textOn = (page) => page.locator('[data-testid="item"][data-kind="text"]')
  await textOn(a).getByTestId('item-pin').click()
  await b.locator('[data-testid="item"]').first().and(textOn(b)).waitFor()
  await b.locator('[data-testid="item"][data-pinned="true"][data-kind="text"]').waitFor()
  step('pin')

  const big = (page) => page.locator('[data-testid="item"]', { has: page.getByTestId('item-name').filter({ hasText: /big|renamed/ }) })
  await big(a).getByTestId('item-rename').click()
  await a.getByTestId('rename-input').fill('renamed.bin')
  await a.getByTestId('rename-input').press('Enter')
  await b.getByTestId('item-name').filter({ hasText: 'renamed.bin' }).waitFor()
  step('rename')

  const count = await b.getByTestId('item').count()
  await big(a).getByTestId('item-delete').click()
  await b.waitForFunction((n) => document.querySelectorAll('[data-testid="item"]').length === n - 1, count, { timeout: 30_000 })
  step('delete')

  await a.getByTestId('clear-all').click()
  await a.getByTestId('clear-confirm-input').fill(session)
  await a.getByTestId('clear-confirm-button').click()
  await b.waitForFunction(() => document.querySelectorAll('[data-testid="item"]').length === 0, null, { timeout: 30_000 })
  step('clear')
}
