// One refresh per expiry across every open tab, in real Chromium: tabs of one profile on
// browserStorage against the mock server's node:http server with rotation and reuse interval
// 0, where a refresh token sent twice revokes the whole family. Races are held open with the
// server's `gate` fault and released once every tab is waiting: no sleeps. The whole suite
// runs five times over, each time in a fresh profile: a flaky race is a bug.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  bundleTab,
  count,
  gate,
  launchProfile,
  openTab,
  REPETITIONS,
  servePage,
  startApi,
} from './harness'
import type { Api, Tab, TabOptions } from './harness'

let script: string
let page: Awaited<ReturnType<typeof servePage>>

beforeAll(async () => {
  script = await bundleTab()
  page = await servePage(script)
}, 60_000)

afterAll(() => page?.close())

for (let run = 1; run <= REPETITIONS; run++)
  describe(`shared sessions in Chromium tabs (run ${run}/${REPETITIONS})`, () => {
    let profile: Awaited<ReturnType<typeof launchProfile>>
    let api: Api | undefined
    let names = 0

    beforeAll(async () => {
      profile = await launchProfile()
    }, 60_000)

    afterEach(async () => {
      for (const p of profile.context.pages()) await p.close()
      await api?.close()
      api = undefined
      expect(profile.pageErrors).toEqual([])
    })

    afterAll(() => profile?.close())

    /**
     * `k` tabs of the app on a fresh storage name, against `api`; once all are open the
     * first one signs in and the others follow, so that they all hold the same tokens from
     * the same instant.
     */
    const tabs = async (
      k: number,
      options: Partial<TabOptions> = {},
      url = page.url,
    ): Promise<Tab[]> => {
      const name = `run${run}-${++names}`
      const base = { baseUrl: api!.url, name, ...options }
      const all: Tab[] = []
      for (let i = 0; i < k; i++)
        all.push(await openTab(profile.context, url, base))
      await all[0]!.login()
      for (const t of all) await t.waitForStatus('authenticated')
      return all
    }

    const servedIn = (results: Array<{ served: number }>) =>
      results.reduce((sum, r) => sum + r.served, 0)

    it('3 tabs, expired token, 10 requests each at once: 1 refresh, 0 reuse, 30/30, then a follow-up each', async () => {
      api = await startApi()
      const all = await tabs(3)
      api.server.expireAccessTokens()
      const held = gate()
      api.server.inject({
        endpoint: 'refresh',
        kind: 'gate',
        until: held.promise,
        times: 3,
      })
      const fired = all.map((t) => t.fire(10))
      // Every tab got its 401s and is refreshing before the first refresh answers.
      await api.until((seen) => count(seen, '/todos', 401) === 30)
      for (const t of all) await t.waitForStatus('refreshing')
      held.open()
      const results = await Promise.all(fired)
      expect(results.map((r) => r.failures)).toEqual([[], [], []])
      expect(servedIn(results)).toBe(30)
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        failedRefreshes: 0,
        reuseDetections: 0,
      })
      for (const t of all) expect(await t.status()).toBe('authenticated')
      const followUp = await Promise.all(all.map((t) => t.fire(1)))
      expect(servedIn(followUp)).toBe(3)
      expect(api.server.stats.refreshes).toBe(1)
    })

    it('staggered: a tab still holding the old tokens fires after another refreshed: no replay, 20/20', async () => {
      api = await startApi()
      // The second tab does not watch: it learns nothing until it takes the lock.
      const [first] = await tabs(1)
      const second = await openTab(profile.context, page.url, {
        baseUrl: api.url,
        name: `run${run}-${names}`,
        watch: false,
      })
      const old = await second.accessToken()
      expect(old).toBe(await first!.accessToken())
      api.server.expireAccessTokens()
      expect((await first!.fire(10)).served).toBe(10)
      expect(api.server.stats.refreshes).toBe(1)
      expect(await second.accessToken()).toBe(old)
      const late = await second.fire(10)
      expect(late).toEqual({ served: 10, failures: [] })
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        failedRefreshes: 0,
        reuseDetections: 0,
      })
      expect(await second.accessToken()).toBe(await first!.accessToken())
    })

    it('logout in one tab: the others anonymous within 1 s and no old token sent; login in one: the others signed in within 1 s', async () => {
      api = await startApi()
      const [a, b, c] = await tabs(3)
      const old = `Bearer ${await a!.accessToken()}`
      const loggedOutAt = Date.now()
      await a!.logout()
      for (const t of [b!, c!]) {
        await t.waitForStatus('anonymous', 1_000)
        expect(
          (await t.statusAt('anonymous', loggedOutAt))! - loggedOutAt,
        ).toBeLessThan(1_000)
      }
      const before = api.seen.length
      // What the app would do next: requests without a session.
      await Promise.all([b!.fire(3), c!.fire(3)])
      const after = api.seen.slice(before)
      expect(after.length).toBeGreaterThan(0)
      expect(after.filter((s) => s.authorization === old)).toEqual([])

      const loggedInAt = Date.now()
      await b!.login()
      for (const t of [a!, c!]) {
        await t.waitForStatus('authenticated', 1_000)
        expect(
          (await t.statusAt('authenticated', loggedInAt))! - loggedInAt,
        ).toBeLessThan(1_000)
      }
      const results = await Promise.all([a!.fire(2), c!.fire(2)])
      expect(servedIn(results)).toBe(4)
      expect(api.server.stats.logins).toBe(2)
    })

    it('a tab closed while it holds the lock mid-refresh: the others served within refreshTimeoutMs + 1 s, 0 reuse', async () => {
      const refreshTimeoutMs = 3_000
      api = await startApi()
      const [holder, ...others] = await tabs(3, { refreshTimeoutMs })
      api.server.expireAccessTokens()
      // The holder's refresh reaches the server and is held there, never answered.
      const never = gate()
      api.server.inject({
        endpoint: 'refresh',
        kind: 'gate',
        until: never.promise,
      })
      void holder!.fire(1).catch(() => {})
      await api.until((seen) => count(seen, '/refresh') === 1)
      const fired = others.map((t) => t.fire(10))
      await api.until((seen) => count(seen, '/todos', 401) === 21)
      for (const t of others) await t.waitForStatus('refreshing')
      const closedAt = Date.now()
      await holder!.page.close()
      const results = await Promise.all(fired)
      const took = Date.now() - closedAt
      expect(results.map((r) => r.failures)).toEqual([[], []])
      expect(servedIn(results)).toBe(20)
      expect(took).toBeLessThan(refreshTimeoutMs + 1_000)
      never.open()
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        reuseDetections: 0,
        revokedFamilies: 0,
      })
      // The closed tab's refresh died with its connection: the server never ran it.
      expect(
        api.server.audit.some((e) => /gate on refresh: /.test(e.outcome)),
      ).toBe(true)
    })

    it('5 tabs, access tokens of 5 s, proactive refresh, 3 cycles: 3 refreshes, 0 reuse, all served', async () => {
      // The leeway is at most half a token's lifetime: 2 s of a 5 s token applies whole.
      api = await startApi({ accessTokenTtlSec: 5 })
      const refreshLeewayMs = 2_000
      const all = await tabs(5, { refreshLeewayMs })
      for (let cycle = 1; cycle <= 3; cycle++) {
        // Every tab holds the same tokens, due for an early refresh at the same instant.
        await all[0]!.page.waitForFunction(
          (leeway) =>
            (window.tab.expiresAt() ?? Infinity) - Date.now() < leeway,
          refreshLeewayMs,
          { polling: 10, timeout: 5_000 },
        )
        // Only the first refresh call is held: a second one would show in the count.
        const held = gate()
        api.server.inject({
          endpoint: 'refresh',
          kind: 'gate',
          until: held.promise,
        })
        const fired = all.map((t) => t.fire(2))
        for (const t of all) await t.waitForStatus('refreshing')
        held.open()
        const results = await Promise.all(fired)
        expect(results.flatMap((r) => r.failures)).toEqual([])
        expect(servedIn(results)).toBe(10)
        expect(api.server.stats).toMatchObject({
          refreshes: cycle,
          reuseDetections: 0,
          unauthorized: 0,
        })
      }
    })

    it('without Web Locks (not a secure context): a tab that refreshes after another adopts its tokens, logout and login follow', async () => {
      api = await startApi()
      const [a, b] = await tabs(2, {}, page.insecureUrl)
      expect(a!.hasLock).toBe(false)
      expect(a!.secure).toBe(false)
      api.server.expireAccessTokens()
      expect((await a!.fire(5)).served).toBe(5)
      expect((await b!.fire(5)).served).toBe(5)
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        reuseDetections: 0,
      })
      await a!.logout()
      await b!.waitForStatus('anonymous', 1_000)
      await b!.login()
      await a!.waitForStatus('authenticated', 1_000)
    })
  })
