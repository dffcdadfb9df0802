// The web demo in a real browser: Debian's Chromium driven by playwright-core against the
// built demo served by `vite preview` on 127.0.0.1. First with the mock API in the demo's
// service worker (the default), then against a real mock server (VITE_TOKENFLIGHT_API).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import type { RunningAuthServer } from '@tokenflight/mock-server/node'
import { chromium } from 'playwright-core'
import type { Page } from 'playwright-core'
import { preview } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(demoDir, '..')
const configFile = join(demoDir, 'web', 'vite.config.ts')
const distDir = join(demoDir, 'web', 'dist')
const artifacts = join(repoRoot, '.e2e-artifacts')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// `TOKENFLIGHT_UPDATE_SCREENSHOT=1 pnpm vitest run --project demo` refreshes demo/screenshot.png.
const updateScreenshot = process.env.TOKENFLIGHT_UPDATE_SCREENSHOT === '1'

/** `vite build` in a child process (vitest's NODE_ENV=test must not leak into the bundle). */
function build(outDir: string, env: Record<string, string> = {}) {
  const vitePackage = createRequire(import.meta.url).resolve(
    'vite/package.json',
  )
  const { NODE_ENV: _ignored, ...inherited } = process.env
  const result = spawnSync(
    process.execPath,
    [
      join(dirname(vitePackage), 'bin', 'vite.js'),
      'build',
      '--config',
      configFile,
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: demoDir, env: { ...inherited, ...env }, encoding: 'utf8' },
  )
  if (result.status !== 0) {
    throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`)
  }
}

/** A built demo served by `vite preview` on 127.0.0.1 and a fresh Chromium profile to browse it. */
async function openDemo(outDir: string) {
  const server = await preview({
    configFile,
    logLevel: 'silent',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  })
  const url = server.resolvedUrls?.local[0]
  if (!url) throw new Error('vite preview did not report its URL')
  const profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-e2e-'))
  const context = await chromium.launchPersistentContext(profileDir, {
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
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(15_000)
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  return { server, url, profileDir, context, page, pageErrors }
}

type Opened = Awaited<ReturnType<typeof openDemo>>

async function closeDemo(opened: Opened | undefined) {
  if (!opened) return
  await opened.context.close()
  await opened.server.close()
  rmSync(opened.profileDir, { recursive: true, force: true })
}

/** Helpers bound to one page; screenshots are named `<prefix>-<step>.png` in .e2e-artifacts/. */
function driver(page: Page, prefix: string) {
  const exactly = (text: string) =>
    new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  const waitForText = (testId: string, expected: string | RegExp) =>
    page
      .getByTestId(testId)
      .filter({
        hasText: typeof expected === 'string' ? exactly(expected) : expected,
      })
      .waitFor()
  return {
    shot: (step: string) =>
      page.screenshot({
        path: join(artifacts, `${prefix}-${step}.png`),
        fullPage: true,
      }),
    text: (testId: string) => page.getByTestId(testId).innerText(),
    /** Waits until the element's whole text matches, e.g. the refresh counter reaching '1'. */
    waitForText,
    async addTodo(title: string) {
      await page.getByTestId('new-todo-input').fill(title)
      await page.getByTestId('add-todo').click()
    },
    events: (kind: string) =>
      page.locator(`[data-testid="event"][data-kind="${kind}"]`),
  }
}

/**
 * The whole story, as a person would click through it. `atBurst` runs once the burst is
 * shown (screenshots, server-side checks).
 */
async function demoFlow(
  page: Page,
  url: string,
  prefix: string,
  atBurst: () => Promise<void>,
) {
  const { shot, text, waitForText, addTodo, events } = driver(page, prefix)
  await page.goto(url)

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
  await events('refreshed').first().waitFor()
  await waitForText('server-refreshes', '1')
  await shot('03-after-expiry')

  // 25 requests at once with an expired token: 25 × 401, one refresh, 25 served.
  await page.getByTestId('fire-burst').click()
  await page.getByTestId('burst-result').waitFor()
  expect(await text('burst-summary')).toBe('25 served, 1 refresh')
  await waitForText('refresh-count', '2')
  await waitForText('server-refreshes', '2')
  expect(await events('refreshed').count()).toBe(2)
  // The timeline draws the burst from the app's real requests: 25 first tries (all 401),
  // 25 held, one refresh, 25 retries.
  const lane = (name: string) =>
    page.getByTestId(`lane-${name}`).getAttribute('data-count')
  expect(await lane('first')).toBe('25')
  expect(
    await page.locator('[data-testid="lane-first"] .span-401').count(),
  ).toBe(25)
  expect(await lane('held')).toBe('25')
  expect(await lane('refresh')).toBe('1')
  await page
    .getByTestId('lane-retry')
    .and(page.locator('[data-count="25"]'))
    .waitFor()
  await shot('04-burst')
  await atBurst()

  // Revoked elsewhere: the next request's refresh is rejected and the app returns to sign-in.
  await page.getByTestId('revoke-session').click()
  await events('action')
    .filter({ hasText: 'Session revoked on the server' })
    .waitFor()
  await addTodo('One more thing')
  await page.getByTestId('login-form').waitFor()
  expect(await text('session-ended')).toBe(
    'Your session ended elsewhere — please sign in again.',
  )
  expect(await text('session-ended-detail')).toContain('invalid_grant')
  await shot('05-session-ended')
}

beforeAll(() => {
  mkdirSync(artifacts, { recursive: true })
})

describe('web demo in Chromium, mock API in a service worker', () => {
  let opened: Opened | undefined

  beforeAll(async () => {
    // CI builds the demo before vitest; a local run builds it when dist/ is missing.
    if (!existsSync(join(distDir, 'index.html'))) build(distDir)
    opened = await openDemo(distDir)
  }, 120_000)

  afterEach(async (ctx) => {
    // A failing run leaves the page as it was for a look in .e2e-artifacts/.
    if (ctx.task.result?.state === 'fail') {
      await opened?.page
        .screenshot({
          path: join(artifacts, 'worker-failure.png'),
          fullPage: true,
        })
        .catch(() => {})
    }
  })

  afterAll(() => closeDemo(opened))

  it('signs in, refreshes once per burst of 401s, and ends a revoked session cleanly', async () => {
    const { page, url, pageErrors } = opened!
    // 120 s tokens: the only refreshes are the ones this test provokes.
    await demoFlow(page, `${url}?ttl=120`, 'worker', async () => {
      expect(await page.getByTestId('mode-badge').innerText()).toBe(
        'Mock API in a service worker',
      )
      await page.mouse.move(0, 0)
      // The README's picture: the whole dashboard after the burst.
      const dashboard = page.getByTestId('dashboard')
      await dashboard.screenshot({ path: join(artifacts, 'dashboard.png') })
      if (updateScreenshot)
        await dashboard.screenshot({ path: join(demoDir, 'screenshot.png') })
    })
    expect(pageErrors).toEqual([])
  })
})

describe('web demo in Chromium, real mock server (VITE_TOKENFLIGHT_API)', () => {
  let authServer: AuthServer
  let running: RunningAuthServer | undefined
  let outDir: string | undefined
  let opened: Opened | undefined

  beforeAll(async () => {
    authServer = createAuthServer({ accessTokenTtlSec: 120 })
    running = await startAuthServer(authServer, { port: 0 })
    // The API's URL is baked in at build time, like any VITE_ variable.
    outDir = mkdtempSync(join(tmpdir(), 'tokenflight-demo-dist-'))
    build(outDir, { VITE_TOKENFLIGHT_API: running.url })
    opened = await openDemo(outDir)
  }, 120_000)

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      await opened?.page
        .screenshot({
          path: join(artifacts, 'server-failure.png'),
          fullPage: true,
        })
        .catch(() => {})
    }
  })

  afterAll(async () => {
    await closeDemo(opened)
    await running?.close()
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  it('runs the same story against the server, whose own counters agree', async () => {
    const { page, url, pageErrors } = opened!
    await demoFlow(page, url, 'server', async () => {
      expect(await page.getByTestId('mode-badge').innerText()).toBe(
        `API ${running!.url}`,
      )
      expect(authServer.stats).toMatchObject({
        logins: 1,
        refreshes: 2,
        failedRefreshes: 0,
        reuseDetections: 0,
      })
    })
    // The revoked session's one refresh attempt was refused, nothing more.
    expect(authServer.stats).toMatchObject({
      refreshes: 2,
      failedRefreshes: 1,
      revokedFamilies: 1,
    })
    expect(pageErrors).toEqual([])
  })
})
