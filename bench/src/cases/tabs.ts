// Case 6: K tabs of one Chromium profile, an expired access token, 10 requests from each tab
// at the same moment, against the mock server's node:http server (rotation, reuse interval 0).
// tokenflight on browserStorage side by side with the seed-003 client (axios-auth-refresh,
// tokens in localStorage read on every request). Counts per run; for tokenflight, what the
// cross-tab lock adds to the refresh that goes out, and how long the other tabs take to be
// handed the tokens once the refresher lets go of the lock.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAuthServer } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import type { Client, LockTiming } from '../tabs/page.ts'
import { progress, quantile } from '../util.ts'

export type TabsRow = {
  client: Client
  k: number
  runs: number
  /** Worst run. */
  maxRefreshCalls: number
  reuseDetections: number
  minServed: number
  requests: number
  /** What the lock adds to the refresh that goes out (ms): lock held − the /refresh call. */
  lockAddedP50?: number
  lockAddedMax?: number
  /** From the refresher's release to each other tab's turn with the lock (ms). */
  handOffP50?: number
  handOffMax?: number
}

const PER_TAB = 10

async function servePage() {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../tabs/page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tokenflight/source'],
    write: false,
    logLevel: 'silent',
  })
  const script = result.outputFiles[0]!.text
  const http = createServer((req, res) => {
    const js = req.url === '/page.js'
    res.writeHead(200, {
      'Content-Type': js ? 'text/javascript' : 'text/html',
    })
    res.end(
      js
        ? script
        : '<!doctype html><script type="module" src="/page.js"></script>',
    )
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

async function oneRun(
  context: BrowserContext,
  pageUrl: string,
  client: Client,
  k: number,
  name: string,
) {
  const server = createAuthServer({ reuseIntervalSec: 0 })
  const api = await startAuthServer(server)
  const pages: Page[] = []
  try {
    for (let i = 0; i < k; i++) {
      const page = await context.newPage()
      await page.goto(pageUrl)
      await page.waitForFunction(() => 'bench' in window, null, {
        polling: 10,
      })
      await page.evaluate(([c, u, n]) => window.bench.start(c, u, n), [
        client,
        api.url,
        name,
      ] as const)
      pages.push(page)
    }
    await pages[0]!.evaluate(() => window.bench.login())
    for (const page of pages)
      await page.waitForFunction(() => window.bench.signedIn(), null, {
        polling: 10,
      })
    server.expireAccessTokens()
    const served = await Promise.all(
      pages.map((p) => p.evaluate((n) => window.bench.fire(n), PER_TAB)),
    )
    const timings = (
      await Promise.all(
        pages.map((p) => p.evaluate(() => window.bench.locks())),
      )
    ).flat()
    const stats = server.stats
    return {
      refreshCalls: stats.refreshes + stats.failedRefreshes,
      reuseDetections: stats.reuseDetections,
      served: served.reduce((a, b) => a + b, 0),
      timings,
    }
  } finally {
    for (const page of pages) await page.close()
    await api.close()
  }
}

/** What the lock added to each refresh that went out, and each hand-off to a waiting tab. */
function lockFigures(timings: LockTiming[]) {
  const added: number[] = []
  const handOffs: number[] = []
  const refreshers = timings.filter((t) => t.call)
  for (const r of refreshers) {
    added.push(r.released - r.asked - (r.call!.end - r.call!.start))
    for (const t of timings)
      if (!t.call && t.asked < r.released && t.granted >= r.released)
        handOffs.push(t.granted - r.released)
  }
  return { added, handOffs }
}

export async function tabsCase(
  ks: readonly number[],
  runs: number,
): Promise<TabsRow[]> {
  const page = await servePage()
  const profileDir = mkdtempSync(join(tmpdir(), 'tokenflight-bench-tabs-'))
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
  const rows: TabsRow[] = []
  let names = 0
  try {
    for (const k of ks)
      for (const client of [
        'tokenflight',
        'seed-003',
        'seed-003-no-dedupe',
      ] as const) {
        const results = []
        for (let run = 0; run < runs; run++)
          results.push(
            await oneRun(context, page.url, client, k, `bench-${++names}`),
          )
        const { added, handOffs } = lockFigures(
          results.flatMap((r) => r.timings),
        )
        const row: TabsRow = {
          client,
          k,
          runs,
          maxRefreshCalls: Math.max(...results.map((r) => r.refreshCalls)),
          reuseDetections: Math.max(...results.map((r) => r.reuseDetections)),
          minServed: Math.min(...results.map((r) => r.served)),
          requests: k * PER_TAB,
          ...(added.length && {
            lockAddedP50: quantile(added, 0.5),
            lockAddedMax: Math.max(...added),
          }),
          ...(handOffs.length && {
            handOffP50: quantile(handOffs, 0.5),
            handOffMax: Math.max(...handOffs),
          }),
        }
        rows.push(row)
        progress.log(
          `K=${k} ${client}: ${row.maxRefreshCalls} refresh calls, ${row.reuseDetections} reuse, ${row.minServed}/${row.requests} served`,
        )
      }
  } finally {
    await context.close()
    rmSync(profileDir, { recursive: true, force: true })
    await page.close()
  }
  return rows
}

const CLIENT_LABEL: Record<Client, string> = {
  tokenflight: 'tokenflight (browserStorage)',
  'seed-003': 'seed-003: axios-auth-refresh + localStorage',
  'seed-003-no-dedupe': 'seed-003, deduplicateRefresh: false',
}

export const tabsHeaders = [
  'K tabs',
  'Client',
  'Refresh calls',
  'Reuse detections',
  'Served',
  'Lock adds to the refresh (p50 / max)',
  'Hand-off to the other tabs (p50 / max)',
]

export function tabsTableRows(rows: readonly TabsRow[]): string[][] {
  const ms = (v: number | undefined) =>
    v === undefined ? '–' : `${v.toFixed(1)} ms`
  return rows.map((r) => [
    String(r.k),
    CLIENT_LABEL[r.client],
    String(r.maxRefreshCalls),
    String(r.reuseDetections),
    `${r.minServed}/${r.requests}`,
    r.lockAddedP50 === undefined
      ? '–'
      : `${ms(r.lockAddedP50)} / ${ms(r.lockAddedMax)}`,
    r.handOffP50 === undefined
      ? '–'
      : `${ms(r.handOffP50)} / ${ms(r.handOffMax)}`,
  ])
}
