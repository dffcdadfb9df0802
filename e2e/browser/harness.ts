// Tabs of one real Chromium profile against the mock server's node:http server. The test app
// (page/tab.ts) is bundled from the workspace sources with esbuild and served from 127.0.0.1,
// a secure context, so Web Locks exist; `insecureHost` is a name Chromium maps to 127.0.0.1
// that is not a secure context, for the fallback without locks.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer, AuthServerOptions } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import type { Fired, TabEvent, TabOptions } from './page/tab'

export type { Fired, TabEvent, TabOptions }

export const insecureHost = 'insecure.test'
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * The test app, built once per file from `src` (the `@tokenflight/source` condition); `entry`:
 * another page script of `page/`.
 */
export async function bundleTab(entry = 'page/tab.ts'): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tokenflight/source'],
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** A request as a test server saw it: the token headers among the rest. */
export type Received = {
  method: string
  path: string
  origin: string | undefined
  headers: IncomingHttpHeaders
}

/**
 * Serves the test app on 127.0.0.1 (port 0): `/` is an empty page that loads `/tab.js`;
 * `/based?href=<url>` the same page with `<base href="<url>">` in its head; `/echo…` answers
 * 200. `seen` has every request but the script's.
 */
export async function servePage(script: string) {
  const seen: Received[] = []
  let origin = ''
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin)
    if (url.pathname === '/tab.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' })
      return res.end(script)
    }
    seen.push(received(req))
    if (url.pathname.startsWith('/echo')) {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      return res.end('{}')
    }
    const href = url.pathname === '/based' && url.searchParams.get('href')
    res.writeHead(200, { 'Content-Type': 'text/html' })
    res.end(
      '<!doctype html>' +
        (href
          ? // Absolute: the <base href> must not move the app's own script.
            `<base href="${encodeURI(href)}"><script type="module" src="${origin}/tab.js"></script>`
          : '<script type="module" src="/tab.js"></script>'),
    )
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/`,
    insecureUrl: `http://${insecureHost}:${port}/`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

const received = (req: IncomingMessage): Received => ({
  method: req.method ?? '',
  path: req.url ?? '/',
  origin: req.headers.origin,
  headers: req.headers,
})

/**
 * Another origin (127.0.0.1, port 0) that records every request, preflights included, and
 * lets any page read its answers (CORS: the requesting origin, `null` too, and every header it
 * asks for): whatever a browser would send it, it gets. `/redirect/<status>?to=<url>`
 * answers that redirect, `/401` a 401, anything else 200.
 */
export async function startRecorder() {
  const seen: Received[] = []
  const http = createServer((req, res) => {
    seen.push(received(req))
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE',
      'Access-Control-Allow-Headers':
        req.headers['access-control-request-headers'] ?? '',
      // No preflight cache: each test sees its own.
      'Access-Control-Max-Age': '0',
      Vary: 'Origin',
    }
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end()
    const url = new URL(req.url ?? '/', 'http://recorder')
    const status = /^\/redirect\/(\d+)$/.exec(url.pathname)?.[1]
    // The body is read before the answer, so that a redirected POST can be sent again.
    req.resume().on('end', () => {
      if (status)
        return res
          .writeHead(Number(status), {
            ...cors,
            Location: url.searchParams.get('to') ?? '/',
          })
          .end()
      res.writeHead(url.pathname === '/401' ? 401 : 200, {
        ...cors,
        'Content-Type': 'application/json',
      })
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

export type Recorder = Awaited<ReturnType<typeof startRecorder>>

/** A fresh Chromium profile (temp dir): every page opened in it is a tab sharing storage, locks and channels. */
export async function launchProfile() {
  const profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-tabs-'))
  const context = await chromium.launchPersistentContext(profileDir, {
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
      `--host-resolver-rules=MAP ${insecureHost} 127.0.0.1`,
    ],
  })
  const pageErrors: string[] = []
  context.on('weberror', (e) => pageErrors.push(e.error().message))
  return {
    context,
    pageErrors,
    async close() {
      await context.close()
      rmSync(profileDir, { recursive: true, force: true })
    },
  }
}

/** What the server saw: every request (on arrival) and every answer, in order. */
export type Seen = {
  path: string
  authorization: string | null
  status?: number
}

/**
 * A mock auth server on node:http (127.0.0.1, port 0) with rotation and reuse interval 0,
 * whose traffic the test can wait on: `until(predicate)` resolves when what the server saw
 * satisfies it, checked at every arrival and answer (no polling, no sleeps).
 */
export async function startApi(options: AuthServerOptions = {}) {
  const server = createAuthServer({ reuseIntervalSec: 0, ...options })
  const seen: Seen[] = []
  const waiters = new Set<() => void>()
  const check = () => waiters.forEach((w) => w())
  const observed = {
    handle: async (request: Request, opts?: { pathname?: string }) => {
      const entry: Seen = {
        path: new URL(request.url).pathname,
        authorization: request.headers.get('authorization'),
      }
      seen.push(entry)
      check()
      const response = await server.handle(request, opts)
      entry.status = response.type === 'error' ? 0 : response.status
      check()
      return response
    },
  } as AuthServer
  const running = await startAuthServer(observed, {
    corsOrigins: [/^http:\/\/(127\.0\.0\.1|insecure\.test):\d+$/],
  })
  const until = (predicate: (seen: Seen[]) => boolean, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        reject(new Error(`the server never saw what the test waits for`))
      }, timeoutMs)
      const waiter = () => {
        if (!predicate(seen)) return
        clearTimeout(timer)
        waiters.delete(waiter)
        resolve()
      }
      waiters.add(waiter)
      waiter()
    })
  return { server, url: running.url, seen, until, close: running.close }
}

export type Api = Awaited<ReturnType<typeof startApi>>

export const count = (seen: Seen[], path: string, status?: number) =>
  seen.filter(
    (s) => s.path === path && (status === undefined || s.status === status),
  ).length

/** A promise the test opens when it chooses. */
export function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** How many times the browser suite runs over, each time in a fresh profile. */
export const REPETITIONS = 5

/**
 * One tab of the test app in `context`, started with `options`. `init` runs in the page
 * before any of its scripts (to take IndexedDB away, say).
 */
export async function openTab(
  context: BrowserContext,
  url: string,
  options: TabOptions,
  init?: () => void,
) {
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  if (init) await page.addInitScript(init)
  await page.goto(url)
  await page.waitForFunction(() => 'tab' in window, null, { polling: 10 })
  const started = await page.evaluate((o) => window.tab.start(o), options)
  await page.evaluate(() => window.tab.ready())
  return { page, ...started, ...tabApi(page) }
}

export type Tab = Awaited<ReturnType<typeof openTab>>

function tabApi(page: Page) {
  return {
    status: () => page.evaluate(() => window.tab.status()),
    generation: () => page.evaluate(() => window.tab.generation()),
    accessToken: () => page.evaluate(() => window.tab.accessToken()),
    events: () => page.evaluate(() => window.tab.events()),
    login: () => page.evaluate(() => window.tab.login()),
    logout: () => page.evaluate(() => window.tab.logout()),
    fire: (n: number) => page.evaluate((k) => window.tab.fire(k), n),
    /** Waits (in the page, on every animation frame) until the session's status is `status`. */
    waitForStatus: (status: string, timeout = 5_000) =>
      page.waitForFunction((s) => window.tab.status() === s, status, {
        timeout,
        // Not requestAnimationFrame: a background tab may not paint.
        polling: 10,
      }),
    /** When the status first became `status` after `since` (epoch ms, the tab's own record). */
    statusAt: async (status: string, since: number) =>
      (await page.evaluate(() => window.tab.events())).find(
        (e) => e.kind === 'status' && e.status === status && e.at >= since,
      )?.at,
  }
}
