// browserStorage when the browser does not play along, in real Chromium tabs: IndexedDB
// missing, blocked or refusing a write, a record another version of the app left, a channel
// message from another version. Each time: a typed `storageError`, a session that keeps
// working from memory, no uncaught error, no token lost or written anywhere else.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  bundleTab,
  launchProfile,
  openTab,
  REPETITIONS,
  servePage,
  startApi,
} from './harness'
import type { Api, TabOptions } from './harness'

let page: Awaited<ReturnType<typeof servePage>>

beforeAll(async () => {
  page = await servePage(await bundleTab())
}, 60_000)

afterAll(() => page?.close())

/** Raw IndexedDB from a test page, as another version of the app would use it. */
const writeRaw = ({ name, record }: { name: string; record: unknown }) =>
  new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => request.result.createObjectStore('tokens')
    request.onsuccess = () => {
      const tx = request.result.transaction('tokens', 'readwrite')
      tx.objectStore('tokens').put(record, 'current')
      tx.oncomplete = () => {
        request.result.close()
        resolve()
      }
      tx.onabort = () => reject(tx.error)
    }
    request.onerror = () => reject(request.error)
  })

for (let run = 1; run <= REPETITIONS; run++)
  describe(`browserStorage degraded, in Chromium (run ${run}/${REPETITIONS})`, () => {
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

    const options = (): TabOptions => ({
      baseUrl: api!.url,
      name: `degraded${run}-${++names}`,
    })
    const storageErrors = async (tab: { events(): Promise<unknown[]> }) =>
      ((await tab.events()) as Array<{ kind: string }>).filter(
        (e) => e.kind === 'storageError',
      )

    it('IndexedDB missing: storageError on get and set, a working in-memory session, nothing in localStorage', async () => {
      api = await startApi()
      const tab = await openTab(profile.context, page.url, options(), () => {
        Object.defineProperty(window, 'indexedDB', { value: undefined })
      })
      expect(await tab.status()).toBe('anonymous')
      await tab.login()
      expect(await tab.status()).toBe('authenticated')
      api.server.expireAccessTokens()
      expect(await tab.fire(5)).toEqual({ served: 5, failures: [] })
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        reuseDetections: 0,
      })
      const errors = await storageErrors(tab)
      expect(errors).toContainEqual(
        expect.objectContaining({
          operation: 'get',
          error: expect.stringMatching(
            /^StorageError: .*<- StorageError: Browser storage: IndexedDB is not available/,
          ),
        }),
      )
      expect(errors).toContainEqual(
        expect.objectContaining({ operation: 'set' }),
      )
      expect(
        await tab.page.evaluate(
          () => localStorage.length + sessionStorage.length,
        ),
      ).toBe(0)
    })

    it('IndexedDB blocked (a delete waits on an old connection): storageError after the open timeout, a working session', async () => {
      api = await startApi()
      const o = options()
      // An old version of the app holds a connection and ignores versionchange; a newer one
      // deletes the database: the delete, and every open after it, waits.
      const holder = await profile.context.newPage()
      await holder.goto(page.url)
      await holder.evaluate(
        (name) =>
          new Promise<void>((resolve) => {
            const request = indexedDB.open(name, 1)
            request.onupgradeneeded = () =>
              request.result.createObjectStore('tokens')
            request.onsuccess = () => {
              Object.assign(window, { held: request.result })
              resolve()
            }
          }),
        o.name,
      )
      await holder.evaluate((name) => {
        indexedDB.deleteDatabase(name)
      }, o.name)
      const tab = await openTab(profile.context, page.url, o)
      expect(await tab.status()).toBe('anonymous')
      expect(await storageErrors(tab)).toEqual([
        expect.objectContaining({
          operation: 'get',
          error: expect.stringContaining('IndexedDB is blocked'),
        }),
      ])
      await tab.login()
      expect(await tab.fire(3)).toEqual({ served: 3, failures: [] })
      expect(await tab.status()).toBe('authenticated')
    })

    it('a corrupt record: storageError, anonymous; a login replaces it and the next tab starts signed in', async () => {
      api = await startApi()
      const o = options()
      const raw = await profile.context.newPage()
      await raw.goto(page.url)
      await raw.evaluate(writeRaw, {
        name: o.name,
        record: { version: 'seven', tokens: { access: 1 } },
      })
      const first = await openTab(profile.context, page.url, o)
      expect(await first.status()).toBe('anonymous')
      expect(await storageErrors(first)).toEqual([
        expect.objectContaining({
          operation: 'get',
          error: expect.stringContaining('unreadable'),
        }),
      ])
      await first.login()
      const second = await openTab(profile.context, page.url, o)
      expect(await second.status()).toBe('authenticated')
      expect(await second.accessToken()).toBe(await first.accessToken())
      expect(await storageErrors(second)).toEqual([])
    })

    it('IndexedDB refuses writes (quota): storageError, and the tab keeps refreshing with its own newer tokens, never the older stored ones', async () => {
      api = await startApi()
      const tab = await openTab(profile.context, page.url, options(), () => {
        const put = IDBObjectStore.prototype.put
        IDBObjectStore.prototype.put = function (
          this: IDBObjectStore,
          ...args: Parameters<IDBObjectStore['put']>
        ) {
          if ((window as { refuseWrites?: boolean }).refuseWrites)
            throw new DOMException('quota exceeded', 'QuotaExceededError')
          return put.apply(this, args)
        }
      })
      await tab.login()
      await tab.page.evaluate(() =>
        Object.assign(window, { refuseWrites: true }),
      )
      for (let round = 1; round <= 2; round++) {
        api.server.expireAccessTokens()
        expect(await tab.fire(5)).toEqual({ served: 5, failures: [] })
        expect(api.server.stats).toMatchObject({
          refreshes: round,
          failedRefreshes: 0,
          reuseDetections: 0,
        })
      }
      const errors = await storageErrors(tab)
      expect(errors.length).toBeGreaterThanOrEqual(2)
      expect(errors).toContainEqual(
        expect.objectContaining({
          operation: 'set',
          error: expect.stringContaining('QuotaExceededError'),
        }),
      )
    })

    it('channel messages from another version of the app: no crash, nothing adopted, the tabs still follow each other', async () => {
      api = await startApi()
      const o = options()
      const a = await openTab(profile.context, page.url, o)
      const b = await openTab(profile.context, page.url, o)
      await a.login()
      await b.waitForStatus('authenticated')
      const generation = await b.generation()
      const foreign = await profile.context.newPage()
      await foreign.goto(page.url)
      await foreign.evaluate((name) => {
        const channel = new BroadcastChannel(name)
        for (const message of [
          { type: 'tokens-changed', accessToken: 'from-elsewhere' },
          'refresh!',
          null,
          { version: 'x' },
          { version: 1e9 },
          [1, 2, 3],
        ])
          channel.postMessage(message)
        channel.close()
      }, o.name)
      // A change of ours after the foreign ones: once it arrives, they have been handled.
      api.server.expireAccessTokens()
      expect((await a.fire(2)).served).toBe(2)
      await b.page.waitForFunction(
        (g) => window.tab.generation() > g,
        generation,
        {
          polling: 10,
        },
      )
      expect(await b.accessToken()).toBe(await a.accessToken())
      expect(await b.accessToken()).not.toBe('from-elsewhere')
      expect(await storageErrors(b)).toEqual([])
      expect((await b.fire(2)).served).toBe(2)
      expect(api.server.stats).toMatchObject({
        refreshes: 1,
        reuseDetections: 0,
      })
    })
  })
