// Helpers of the browser end-to-end scenarios: Debian's Chromium driven by playwright-core
// (its own browser download cannot run here), one JSON line per step on stdout for the Go test
// that runs the scenario, and a non-zero exit with the reason when a step fails.
import { chromium } from 'playwright-core'
import { createHash } from 'node:crypto'
import { readFile, mkdir } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import zlib from 'node:zlib'

export function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      shots: { type: 'string' },
      session: { type: 'string' },
      passphrase: { type: 'string', default: 'correct horse battery staple' },
      file: { type: 'string' },
      sha256: { type: 'string' },
      out: { type: 'string' },
      protocol: { type: 'string' },
    },
  })
  if (!values.url) throw new Error('--url is required')
  return values
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root in CI containers cannot use Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
}

/** A browser context that fails the scenario on any console error or page error. */
export async function newPage(browser, opts = {}) {
  // The HTTPS tests put a proxy with a self-signed certificate in front of the server.
  const context = await browser.newContext({ acceptDownloads: true, ignoreHTTPSErrors: true, ...opts })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return
    // Chromium logs every 4xx answer; the protocol gives two on purpose: 404 for a session
    // that does not exist yet, 401 for a wrong passphrase. Neither is an app error.
    if (/^Failed to load resource: the server responded with a status of 40[14]/.test(m.text())) return
    if (expectedConsole.some((re) => re.test(m.text()))) return
    problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  return page
}

/** Console errors and page errors seen so far; a scenario fails if any remain at its end. */
export const problems = []

/** Console messages a scenario causes on purpose (a cut network logs failed requests). */
export const expectedConsole = []

export function step(name, fields = {}) {
  console.log(JSON.stringify({ step: name, ...fields }))
}

/** Waits until cond() holds, checking every 20 ms, or fails after timeoutMs. */
export async function until(what, cond, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * Makes every upload request of page wait ms before it goes out, as on a slow uplink, so a
 * scenario can act in the middle of an upload on a fast loopback.
 */
export async function slowUploads(page, ms) {
  await page.route('**/api/v1/uploads**', async (route) => {
    await new Promise((r) => setTimeout(r, ms))
    await route.fallback()
  })
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex')
}

export async function downloadedSHA256(page, click) {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()])
  const path = await download.path()
  return { sha256: sha256(await readFile(path)), name: download.suggestedFilename() }
}

export async function join(page, url, { session, name, passphrase, remember = false }) {
  await page.goto(url)
  await page.getByTestId('session-id').fill(session)
  await page.getByTestId('client-name').fill(name)
  await page.getByTestId('passphrase').fill(passphrase)
  if (remember) await page.getByTestId('remember').check()
  await page.getByTestId('join-button').click()
}

/** Opens a page per name, each joined to session and live, as people on separate devices. */
export async function joinedPages(browser, url, session, passphrase, names) {
  const pages = []
  for (const name of names) {
    const page = await newPage(browser)
    await join(page, url, { session, name, passphrase })
    await waitLive(page)
    pages.push(page)
  }
  return pages
}

export async function waitLive(page) {
  await page.locator('[data-testid="connection-badge"][data-state="live"]').waitFor({ timeout: 30_000 })
}

export async function screenshot(page, dir, name) {
  if (!dir) return
  await mkdir(dir, { recursive: true })
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true })
  step('screenshot', { name })
}

/** Runs a scenario, reporting its failure (and any console problems) as the exit status. */
export async function run(scenario) {
  const browser = await launch()
  try {
    await scenario(browser)
    if (problems.length) throw new Error(`browser reported problems:\n${problems.join('\n')}`)
    step('done')
  } catch (e) {
    console.error(e?.stack || String(e))
    process.exitCode = 1
  } finally {
    await browser.close()
  }
}

/** A valid PNG of width×height pixels of one colour, for paste and drop. */
export function makePNG(width, height, [r, g, b]) {
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => [r, g, b][i % 3])])
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(body))
    return Buffer.concat([len, body, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
