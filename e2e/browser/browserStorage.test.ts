// browserStorage's own contract in real Chromium tabs, without a session: what the engine
// relies on (one record, compare-and-set, an exclusive lock that a closed tab releases,
// notices that carry no token) and what it does without Web Locks.
import type { TokenSet } from '@tokenflight/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bundleTab, launchProfile, REPETITIONS, servePage } from './harness'
import type { BrowserContext, Page } from 'playwright-core'

const t1: TokenSet = { accessToken: 'access-one', refreshToken: 'refresh-one' }
const t2: TokenSet = { accessToken: 'access-two', refreshToken: 'refresh-two' }
const t3: TokenSet = { accessToken: 'access-three' }

let page: Awaited<ReturnType<typeof servePage>>
let profile: Awaited<ReturnType<typeof launchProfile>>
let context: BrowserContext
let names = 0
const fresh = () => `storage-${++names}`

const open = async (url = page.url) => {
  const p = await context.newPage()
  await p.goto(url)
  await p.waitForFunction(() => 'core' in window, null, { polling: 10 })
  return p
}
const get = (p: Page, name: string) =>
  p.evaluate((n) => window.core.get(n), name)
const set = (
  p: Page,
  name: string,
  tokens: TokenSet | null,
  expected?: TokenSet | null,
) =>
  p.evaluate(([n, t, e]) => window.core.set(n, t, e), [
    name,
    tokens,
    expected,
  ] as const)

beforeAll(async () => {
  page = await servePage(await bundleTab())
}, 60_000)

afterAll(() => page?.close())

for (let run = 1; run <= REPETITIONS; run++)
  describe(`browserStorage in Chromium tabs (run ${run}/${REPETITIONS})`, () => {
    beforeAll(async () => {
      profile = await launchProfile()
      context = profile.context
    }, 60_000)

    afterEach(async () => {
      for (const p of context.pages()) await p.close()
      expect(profile.pageErrors).toEqual([])
    })

    afterAll(() => profile?.close())

    it('one record for every tab; a new tab reads what another wrote', async () => {
      const name = fresh()
      const [a, b] = [await open(), await open()]
      expect(await get(a, name)).toEqual({ ok: true, value: null })
      expect(await set(a, name, t1)).toMatchObject({ ok: true })
      expect(await get(b, name)).toEqual({ ok: true, value: t1 })
      const c = await open()
      expect(await get(c, name)).toEqual({ ok: true, value: t1 })
      expect(await set(c, name, null)).toMatchObject({ ok: true })
      expect(await get(a, name)).toEqual({ ok: true, value: null })
    })

    it('compare-and-set: a write that expected older tokens changes nothing', async () => {
      const name = fresh()
      const [a, b] = [await open(), await open()]
      await set(a, name, t1)
      // Both tabs set out from t1; b writes first.
      expect(await set(b, name, t2, t1)).toMatchObject({ ok: true })
      expect(await set(a, name, t3, t1)).toMatchObject({
        ok: false,
        name: 'StorageConflictError',
      })
      expect(await set(a, name, null, t1)).toMatchObject({
        ok: false,
        name: 'StorageConflictError',
      })
      expect(await get(a, name)).toEqual({ ok: true, value: t2 })
      // expected null: only over an empty record.
      expect(await set(a, name, t3, null)).toMatchObject({ ok: false })
      await set(a, name, null)
      expect(await set(b, name, t3, null)).toMatchObject({ ok: true })
      expect(await get(a, name)).toEqual({ ok: true, value: t3 })
    })

    it('the lock is exclusive across tabs, its wait aborts, and a closed tab releases it', async () => {
      const name = fresh()
      const [a, b] = [await open(), await open()]
      expect(await a.evaluate((n) => window.core.hasLock(n), name)).toBe(true)
      await a.evaluate((n) => window.core.hold(n), name)
      expect(
        await b.evaluate((n) => window.core.tryLock(n, 200), name),
      ).toMatchObject({ ok: false, name: 'TimeoutError' })
      await a.evaluate((n) => window.core.release(n), name)
      expect(
        await b.evaluate((n) => window.core.tryLock(n, 5_000), name),
      ).toEqual({ ok: true, value: 'ran' })

      // A tab that dies holding the lock: the next one gets it at once.
      await a.evaluate((n) => window.core.hold(n), name)
      const waiting = b.evaluate((n) => window.core.tryLock(n, 5_000), name)
      await a.close()
      expect(await waiting).toEqual({ ok: true, value: 'ran' })
    })

    it('notices reach the other tabs and carry a version, never a token', async () => {
      const name = fresh()
      const [a, b, c] = [await open(), await open(), await open()]
      await b.evaluate((n) => window.core.watch(n), name)
      await c.evaluate((n) => window.core.listen(n), name)
      await set(a, name, t1)
      await set(a, name, t2, t1)
      await set(a, name, null)
      await b.waitForFunction((n) => window.core.notices(n) === 3, name, {
        polling: 10,
      })
      await c.waitForFunction(() => window.core.messages().length === 3, null, {
        polling: 10,
      })
      const messages = await c.evaluate(() => window.core.messages())
      expect(messages).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }])
      expect(JSON.stringify(messages)).not.toMatch(/access|refresh/)
      // A tab's own writes are no notice to itself.
      await set(b, name, t3)
      await c.waitForFunction(() => window.core.messages().length === 4, null, {
        polling: 10,
      })
      expect(await b.evaluate((n) => window.core.notices(n), name)).toBe(3)
    })

    it('a corrupt record reads as a typed error and the next write replaces it', async () => {
      const name = fresh()
      const a = await open()
      await set(a, name, t1)
      // Another version of the app (or a bug) left a record we cannot read.
      await a.evaluate(
        (n) =>
          new Promise<void>((resolve, reject) => {
            const request = indexedDB.open(n)
            request.onsuccess = () => {
              const tx = request.result.transaction('tokens', 'readwrite')
              tx.objectStore('tokens').put(
                { version: 'x', tokens: 42 },
                'current',
              )
              tx.oncomplete = () => {
                request.result.close()
                resolve()
              }
              tx.onabort = () => reject(tx.error)
            }
          }),
        name,
      )
      expect(await get(a, name)).toMatchObject({
        ok: false,
        name: 'StorageError',
        error: expect.stringContaining('unreadable'),
      })
      // It holds no tokens to protect: even a compare-and-set write replaces it.
      expect(await set(a, name, t2, t1)).toMatchObject({ ok: true })
      expect(await get(a, name)).toEqual({ ok: true, value: t2 })
    })

    it('without a secure context there is no Web Lock, and no lock', async () => {
      const name = fresh()
      const insecure = await open(page.insecureUrl)
      expect(await insecure.evaluate(() => isSecureContext)).toBe(false)
      expect(await insecure.evaluate((n) => window.core.hasLock(n), name)).toBe(
        false,
      )
      // IndexedDB and the channel still work there.
      expect(await set(insecure, name, t1)).toMatchObject({ ok: true })
      expect(await get(insecure, name)).toEqual({ ok: true, value: t1 })
    })
  })
