// The browser and the CLI read each other: in a session the CLI created and shared a text and
// a file into, the browser shows the text and downloads the file byte-identical (--sha256);
// then it shares a file of its own, whose bytes it writes to --out for the test to compare
// with what the CLI receives.
//
//   node e2e/interop.mjs --url URL --session SID --passphrase P --file NAME --sha256 HEX --out PATH
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { options, run, newPage, join, waitLive, step, downloadedSHA256 } from './lib.mjs'

const opts = options()

run(async (browser) => {
  const page = await newPage(browser)
  await join(page, opts.url, { session: opts.session, name: 'Browser', passphrase: opts.passphrase })
  await waitLive(page)

  await page.locator('[data-testid="item"][data-kind="text"]').getByTestId('item-text').filter({ hasText: 'hello from the CLI' }).waitFor()
  const card = page.locator('[data-testid="item"][data-complete="true"]', { has: page.getByTestId('item-name').filter({ hasText: opts.file }) })
  const got = await downloadedSHA256(page, () => card.getByTestId('item-download').click())
  if (got.sha256 !== opts.sha256 || got.name !== opts.file) throw new Error(`${opts.file}: downloaded ${got.name} ${got.sha256}, want ${opts.sha256}`)
  step('cli-to-browser', { sha256: got.sha256 })

  const data = randomBytes((5 << 20) + 123)
  await writeFile(opts.out, data)
  await page.getByTestId('file-input').setInputFiles({ name: 'from-browser.bin', mimeType: 'application/octet-stream', buffer: data })
  await page.locator('[data-testid="item"][data-complete="true"]', { has: page.getByTestId('item-name').filter({ hasText: 'from-browser.bin' }) }).waitFor({ timeout: 60_000 })
  step('browser-to-cli', { bytes: data.length })
})
