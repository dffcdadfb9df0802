// `pnpm demo` in two tabs of one Chromium profile: what a person sees when they open the demo
// a second time. The Vite dev server runs as `pnpm demo` runs it (web/vite.config.ts), on
// 127.0.0.1 and a free port; the mock API's service worker keeps one server state for both
// tabs, and the tabs share the session through browserStorage (IndexedDB, Web Locks,
// BroadcastChannel).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { createServer } from 'vite'
import type { ViteDevServer } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const configFile = join(demoDir, 'web', 'vite.config.ts')
const artifacts = join(demoDir, '..', '.e2e-artifacts')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let server: ViteDevServer | undefined
let context: BrowserContext | undefined
let profileDir: string | undefined
let url = ''
const pageErrors: string[] = []

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  server = await createServer({
    configFile,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  })
  await server.listen()
  url = server.resolvedUrls?.local[0] ?? ''
  if (!url) throw new Error('the dev server did not report its URL')
  profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-demo-tabs-'))
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 960 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  context.on('weberror', (e) => pageErrors.push(e.error().message))
}, 120_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail')
    for (const [i, page] of (context?.pages() ?? []).entries())
      await page
        .screenshot({
          path: join(artifacts, `two-tabs-failure-${i + 1}.png`),
          fullPage: true,
        })
        .catch(() => {})
})

afterAll(async () => {
  await context?.close()
  await server?.close()
  if (profileDir) rmSync(profileDir, { recursive: true, force: true })
})

async function open(): Promise<Page> {
  const page = await context!.newPage()
  // The first load also pre-bundles the dependencies.
  page.setDefaultTimeout(30_000)
  await page.goto(url)
  return page
}

const text = (page: Page, testId: string) =>
  page.getByTestId(testId).innerText()
const waitForText = (page: Page, testId: string, expected: string) =>
  page
    .getByTestId(testId)
    .filter({ hasText: new RegExp(`^${expected}$`) })
    .waitFor()

describe('pnpm demo in two tabs', () => {
  it('shares one sign-in, one refresh (which tab refreshed, which adopted), a reload and a sign-out', async () => {
    const first = await open()
    await first.getByTestId('login-form').waitFor()
    await first.getByTestId('login-username').fill('demo')
    await first.getByTestId('login-password').fill('demo-password')
    await first.getByTestId('login-submit').click()
    await first.getByTestId('todo-list').waitFor()
    expect(await text(first, 'mode-badge')).toBe('Mock API in a service worker')

    // The second tab starts signed in: the tokens are in IndexedDB, the server is the same.
    const second = await open()
    await second.getByTestId('todo-list').waitFor()
    await waitForText(second, 'session-status', 'Signed in')

    // The server expires the token; the first tab's next request refreshes once…
    await first.getByTestId('expire-token').click()
    await first.getByTestId('new-todo-input').fill('Refreshed in tab 1')
    await first.getByTestId('add-todo').click()
    await first
      .getByTestId('todo-title')
      .filter({ hasText: 'Refreshed in tab 1' })
      .waitFor()
    await waitForText(first, 'refresh-count', '1')
    await waitForText(first, 'adopted-count', '0')
    // …and the second tab adopts that token without a call of its own.
    await waitForText(second, 'adopted-count', '1')
    await waitForText(second, 'refresh-count', '0')
    await second
      .locator('[data-testid="event"][data-kind="adopted"]')
      .first()
      .waitFor()
    await second.getByTestId('new-todo-input').fill('Served in tab 2')
    await second.getByTestId('add-todo').click()
    await second
      .getByTestId('todo-title')
      .filter({ hasText: 'Served in tab 2' })
      .waitFor()
    await waitForText(second, 'server-refreshes', '1')
    await waitForText(first, 'server-refreshes', '1')
    expect(await text(second, 'refresh-count')).toBe('0')
    await first.mouse.move(0, 0)
    await first
      .getByTestId('dashboard')
      .screenshot({ path: join(artifacts, 'two-tabs-refreshed.png') })
    await second
      .getByTestId('dashboard')
      .screenshot({ path: join(artifacts, 'two-tabs-adopted.png') })

    // A reload keeps the session.
    await second.reload()
    await second.getByTestId('todo-list').waitFor()
    await waitForText(second, 'session-status', 'Signed in')

    // Signing out in one tab signs out the other.
    await first.getByTestId('logout').click()
    await first.getByTestId('login-form').waitFor()
    await second.getByTestId('login-form').waitFor({ timeout: 5_000 })
    expect(pageErrors).toEqual([])
  })
})
