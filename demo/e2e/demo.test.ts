// The web demo in a real browser: Debian's Chromium driven by playwright-core against the
// built demo served by `vite preview`, with the mock API in the demo's service worker.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { preview } from 'vite'
import type { PreviewServer } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(demoDir, '..')
const configFile = join(demoDir, 'web', 'vite.config.ts')
const distIndex = join(demoDir, 'web', 'dist', 'index.html')
const artifacts = join(repoRoot, '.e2e-artifacts')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// `TOKENFLIGHT_UPDATE_SCREENSHOT=1 pnpm vitest run --project demo` refreshes demo/screenshot.png.
const updateScreenshot = process.env.TOKENFLIGHT_UPDATE_SCREENSHOT === '1'

/** CI builds the demo before vitest; locally the test builds it when dist/ is missing. */
function ensureBuilt() {
  if (existsSync(distIndex)) return
  const vitePackage = createRequire(import.meta.url).resolve(
    'vite/package.json',
  )
  const { NODE_ENV: _ignored, ...env } = process.env
  const result = spawnSync(
    process.execPath,
    [
      join(dirname(vitePackage), 'bin', 'vite.js'),
      'build',
      '--config',
      configFile,
    ],
    { cwd: demoDir, env, encoding: 'utf8' },
  )
  if (result.status !== 0) {
    throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`)
  }
}

describe('web demo in Chromium', () => {
  let server: PreviewServer
  let context: BrowserContext
  let page: Page
  let profileDir: string
  let baseUrl: string
  const pageErrors: string[] = []

  beforeAll(async () => {
    ensureBuilt()
    mkdirSync(artifacts, { recursive: true })
    server = await preview({
      configFile,
      logLevel: 'silent',
      preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
    })
    const url = server.resolvedUrls?.local[0]
    if (!url) throw new Error('vite preview did not report its URL')
    baseUrl = url
    profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-e2e-'))
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 960 },
      deviceScaleFactor: 2,
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
    page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (error) => pageErrors.push(error.message))
  }, 120_000)

  afterEach(async (ctx) => {
    // A failing run leaves the page as it was for a look in .e2e-artifacts/.
    if (ctx.task.result?.state === 'fail') await shot('failure').catch(() => {})
  })

  afterAll(async () => {
    await context?.close()
    await server?.close()
    if (profileDir) rmSync(profileDir, { recursive: true, force: true })
  })

  const shot = (name: string) =>
    page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

  const text = (testId: string) => page.getByTestId(testId).innerText()

  /** Waits until the element's whole text matches, e.g. the refresh counter reaching '1'. */
  const waitForText = (testId: string, expected: string | RegExp) =>
    page
      .getByTestId(testId)
      .filter({
        hasText:
          typeof expected === 'string' ? new RegExp(`^${expected}$`) : expected,
      })
      .waitFor()

  async function addTodo(title: string) {
    await page.getByTestId('new-todo-input').fill(title)
    await page.getByTestId('add-todo').click()
  }

  it('signs in, refreshes once per burst of 401s, and ends a revoked session cleanly', async () => {
    // A long token lifetime: the only refreshes are the ones this test provokes.
    await page.goto(`${baseUrl}?ttl=120`)

    // Sign in with the credentials the page shows.
    await page.getByTestId('login-form').waitFor()
    expect(await text('demo-credentials')).toContain('demo-password')
    await shot('01-login')
    await page.getByTestId('login-username').fill('demo')
    await page.getByTestId('login-password').fill('demo-password')
    await page.getByTestId('login-submit').click()

    // The seeded to-dos load through the axios instance with attachSession.
    await page.getByTestId('todo-list').waitFor()
    await waitForText('current-user', 'demo')
    const titles = page.getByTestId('todo-title')
    expect(await titles.allInnerTexts()).toEqual([
      'Let the access token expire',
      'Watch tokenflight refresh it once',
    ])
    await waitForText('session-status', 'Signed in')
    expect(await text('refresh-count')).toBe('0')

    await addTodo('Buy oat milk')
    await titles.filter({ hasText: 'Buy oat milk' }).waitFor()
    expect(await text('refresh-count')).toBe('0')
    await shot('02-signed-in')

    // The server expires the access token; the next request gets a 401, refreshes once, retries.
    await page.getByTestId('expire-token').click()
    await page
      .getByTestId('token-note')
      .filter({ hasText: 'The server expired this token' })
      .waitFor()
    await addTodo('Water the plants')
    await titles.filter({ hasText: 'Water the plants' }).waitFor()
    await waitForText('refresh-count', '1')
    expect(await titles.count()).toBe(4)
    await page
      .locator('[data-testid="event"][data-kind="refreshed"]')
      .first()
      .waitFor()
    await waitForText('server-refreshes', '1')
    await shot('03-after-expiry')

    // 25 requests at once with an expired token: 25 × 401, one refresh, 25 served.
    await page.getByTestId('fire-burst').click()
    await page.getByTestId('burst-result').waitFor()
    expect(await text('burst-summary')).toBe('25 served, 1 refresh')
    await waitForText('refresh-count', '2')
    await waitForText('server-refreshes', '2')
    expect(
      await page
        .locator('[data-testid="event"][data-kind="refreshed"]')
        .count(),
    ).toBe(2)
    await shot('04-burst')
    await page.mouse.move(0, 0)
    const panel = page.getByTestId('session-panel')
    await panel.screenshot({ path: join(artifacts, 'session-panel.png') })
    if (updateScreenshot) {
      await panel.screenshot({ path: join(demoDir, 'screenshot.png') })
    }

    // Revoked elsewhere: the next request's refresh is rejected and the app returns to sign-in.
    await page.getByTestId('revoke-session').click()
    await page
      .locator('[data-testid="event"][data-kind="action"]')
      .filter({ hasText: 'Session revoked on the server' })
      .waitFor()
    await addTodo('One more thing')
    await page.getByTestId('login-form').waitFor()
    expect(await text('session-ended')).toBe(
      'Your session ended elsewhere — please sign in again.',
    )
    await shot('05-session-ended')

    expect(pageErrors).toEqual([])
  })
})
