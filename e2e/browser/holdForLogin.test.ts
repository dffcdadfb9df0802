// holdForLogin across the tabs of one Chromium profile (browserStorage): the session dies on
// the server while every tab has requests out; they are all held, one sign-in in any tab
// serves them all, and the dead refresh token is sent once. Races held open with the server's
// `gate` fault, released once every tab waits: no sleeps.
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
import type { Api, Tab } from './harness'

let page: Awaited<ReturnType<typeof servePage>>

beforeAll(async () => {
  page = await servePage(await bundleTab())
}, 60_000)

afterAll(() => page?.close())

const heldUntil = (t: Tab) => t.page.evaluate(() => window.tab.heldUntil())

for (let run = 1; run <= REPETITIONS; run++)
  describe(`holdForLogin in Chromium tabs (run ${run}/${REPETITIONS})`, () => {
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

    const tabs = async (k: number, holdForLoginMs: number) => {
      const options = {
        baseUrl: api!.url,
        name: `hold${run}-${++names}`,
        holdForLoginMs,
      }
      const all: Tab[] = []
      for (let i = 0; i < k; i++)
        all.push(await openTab(profile.context, page.url, options))
      await all[0]!.login()
      for (const t of all) await t.waitForStatus('authenticated')
      return all
    }

    /** Revokes every session on the server and fires 5 requests per tab; resolves once all wait. */
    const killWhileBusy = async (all: Tab[]) => {
      api!.server.revokeSessions()
      api!.server.expireAccessTokens()
      const refresh = gate()
      api!.server.inject({
        endpoint: 'refresh',
        kind: 'gate',
        until: refresh.promise,
      })
      const fired = all.map((t) => t.fire(5))
      await api!.until((seen) => count(seen, '/todos', 401) === 5 * all.length)
      for (const t of all) await t.waitForStatus('refreshing')
      refresh.open()
      for (const t of all)
        await t.page.waitForFunction(() => window.tab.heldUntil() !== null)
      return fired
    }

    it('3 tabs, 15 requests out when the session dies: all held, one sign-in in another tab serves 15/15; /refresh called once', async () => {
      api = await startApi()
      const all = await tabs(3, 30_000)
      const fired = await killWhileBusy(all)
      for (const t of all) {
        expect(await t.status()).toBe('expired')
        expect(await heldUntil(t)).toBeGreaterThan(Date.now())
      }
      await all[1]!.login()
      const results = await Promise.all(fired)
      expect(results.map((r) => r.failures)).toEqual([[], [], []])
      expect(results.reduce((n, r) => n + r.served, 0)).toBe(15)
      expect(count(api.seen, '/refresh')).toBe(1)
      expect(api.server.stats).toMatchObject({ logins: 2, reuseDetections: 0 })
      for (const t of all) {
        expect(await t.status()).toBe('authenticated')
        expect(await heldUntil(t)).toBeNull()
      }
    })

    it('the deadline fails every held request in every tab with the RefreshError', async () => {
      api = await startApi()
      const all = await tabs(2, 1_500)
      const results = await Promise.all(await killWhileBusy(all))
      for (const r of results) {
        expect(r.served).toBe(0)
        expect(r.failures).toHaveLength(5)
        for (const f of r.failures) expect(f).toMatch(/^RefreshError/)
      }
      for (const t of all) expect(await heldUntil(t)).toBeNull()
    })
  })
