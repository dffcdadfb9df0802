// startAuthWorker in real Chromium: two pages of one browser profile are two tabs of one
// origin, each running the mock server in its own MSW worker client, sharing one state.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Answer } from './browser/page.ts'
import type { TokenBody } from './helpers.ts'

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let http: Server
let origin: string
let context: BrowserContext
let profileDir: string
let tabs: Page[] = []

/** The page bundle, MSW's worker script and an HTML shell, served on 127.0.0.1. */
async function servePage(): Promise<void> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('browser/page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tokenflight/source'],
    logLevel: 'silent',
  })
  const files: Record<string, [string, string]> = {
    '/': [
      'text/html',
      '<!doctype html><title>loading</title><script type="module" src="/page.js"></script>',
    ],
    '/page.js': ['text/javascript', bundle.outputFiles[0]!.text],
    '/mockServiceWorker.js': [
      'text/javascript',
      readFileSync(
        createRequire(import.meta.url).resolve('msw/mockServiceWorker.js'),
        'utf8',
      ),
    ],
  }
  http = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname]
    if (file === undefined) return void res.writeHead(404).end()
    res.writeHead(200, { 'Content-Type': file[0] }).end(file[1])
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
}

async function openTab(query = ''): Promise<Page> {
  const page = await context.newPage()
  tabs.push(page)
  page.setDefaultTimeout(15_000)
  await page.goto(`${origin}/${query}`)
  await page.waitForFunction(() => document.title === 'ready')
  return page
}

const call = (
  page: Page,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> =>
  page.evaluate(([p, i]) => window.tab.call(p, i), [path, init] as const)

async function login(page: Page): Promise<TokenBody> {
  const answer = await call(page, '/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'username=demo&password=demo-password',
  })
  expect(answer.status).toBe(200)
  return JSON.parse(answer.body) as TokenBody
}

const refresh = (page: Page, token: string) =>
  call(page, '/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: token }),
  })

const me = (page: Page, token: string) =>
  call(page, '/me', { headers: { Authorization: `Bearer ${token}` } })

const stats = (page: Page) => page.evaluate(() => window.tab.server.stats)
// Each poll is a round trip through IndexedDB under a Web Lock in another tab: on a busy
// 2-core machine that can take longer than expect.poll's default second.
const settle = { timeout: 15_000 }

describe(
  'startAuthWorker: one server state for every tab',
  { timeout: 60_000 },
  () => {
    beforeAll(async () => {
      await servePage()
      profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-mock-tabs-'))
      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: chromiumPath,
        headless: true,
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
    }, 60_000)

    afterEach(async () => {
      const open = tabs.filter((tab) => !tab.isClosed())
      // The state outlives every tab (IndexedDB): start the next test from nothing.
      if (open[0]) await call(open[0], '/__admin/reset', { method: 'POST' })
      for (const tab of open) await tab.close()
      tabs = []
    })

    afterAll(async () => {
      await context?.close()
      await new Promise((resolve) => http?.close(resolve))
      rmSync(profileDir, { recursive: true, force: true })
    })

    it("tab 2 refreshes with tab 1's token; rotation, reuse detection and stats are shared", async () => {
      const [one, two] = [await openTab(), await openTab()]
      expect(await one.evaluate(() => window.tab.shared)).toBe(true)
      const first = await login(one)
      // Same HS256 key and access records: tab 2 accepts tab 1's access token.
      expect((await me(two, first.access_token)).status).toBe(200)
      const rotated = await refresh(two, first.refresh_token)
      expect(rotated.status).toBe(200)
      const second = JSON.parse(rotated.body) as TokenBody
      // Tab 1 replays the token tab 2 rotated: reuse detected, the family revoked.
      const replay = await refresh(one, first.refresh_token)
      expect(replay.status).toBe(400)
      expect(JSON.parse(replay.body)).toMatchObject({ error: 'invalid_grant' })
      expect((await me(two, second.access_token)).status).toBe(401)
      const expected = { logins: 1, refreshes: 1, reuseDetections: 1 }
      // Each tab's `server.stats` follows the other's requests.
      await expect.poll(() => stats(one), settle).toMatchObject(expected)
      await expect.poll(() => stats(two), settle).toMatchObject(expected)
    })

    it('20 refreshes with one token from two tabs at once: exactly one succeeds', async () => {
      const [one, two] = [await openTab(), await openTab()]
      const { refresh_token: token } = await login(one)
      const burst = (page: Page) =>
        page.evaluate(
          (t) =>
            Promise.all(
              Array.from({ length: 10 }, () =>
                window.tab.call('/refresh', {
                  method: 'POST',
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ refresh_token: t }),
                }),
              ),
            ),
          token,
        )
      const answers = (await Promise.all([burst(one), burst(two)])).flat()
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
      expect(answers.filter((a) => a.status === 400)).toHaveLength(19)
      expect(await stats(two)).toMatchObject({
        refreshes: 1,
        failedRefreshes: 19,
        reuseDetections: 1,
      })
    })

    it('the state survives the closing of the tab that made it', async () => {
      const one = await openTab()
      const tokens = await login(one)
      await one.close()
      const later = await openTab()
      expect((await me(later, tokens.access_token)).status).toBe(200)
      expect((await refresh(later, tokens.refresh_token)).status).toBe(200)
      expect(await stats(later)).toMatchObject({ logins: 1, refreshes: 1 })
    })

    it("a gate injected in tab 1 holds tab 2's request until tab 1 opens it", async () => {
      const [one, two] = [await openTab(), await openTab()]
      const tokens = await login(one)
      await one.evaluate(() => window.tab.injectGate('refresh'))
      const held = refresh(two, tokens.refresh_token)
      await expect.poll(() => stats(two).then((s) => s.faults), settle).toBe(1)
      expect((await stats(two)).refreshes).toBe(0)
      await one.evaluate(() => window.tab.openGate())
      expect((await held).status).toBe(200)
    })

    it('reset() in one tab releases a request held in another', async () => {
      const [one, two] = [await openTab(), await openTab()]
      await one.evaluate(() =>
        window.tab.server.inject({ endpoint: 'me', kind: 'hang' }),
      )
      const held = two.evaluate(() =>
        window.tab.call('/me').then(
          (a) => a.status,
          () => 'network error',
        ),
      )
      await expect.poll(() => stats(two).then((s) => s.faults), settle).toBe(1)
      await one.evaluate(() => window.tab.server.reset())
      expect(await held).toBe('network error')
    })

    it('sharedState: false keeps one state per tab (what a worker did before)', async () => {
      const [one, two] = [
        await openTab('?shared=no'),
        await openTab('?shared=no'),
      ]
      expect(await one.evaluate(() => window.tab.shared)).toBe(false)
      const tokens = await login(one)
      expect((await refresh(two, tokens.refresh_token)).status).toBe(400)
    })
  },
)
