// Issue 15: a bounded fault soak. 20,000 requests through real axios against the mock
// server's handlers, with random faults on /refresh and on the resource: every request
// settles, none is lost, every error is typed, the heap stays bounded.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import axios, { isAxiosError } from 'axios'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSession,
  isTokenflightError,
  oauth2Client,
} from '@tokenflight/core'
import type { Fault } from '@tokenflight/mock-server'
import {
  DEFAULT_USER,
  authHandlers,
  createAuthServer,
} from '@tokenflight/mock-server'
import { attachSession } from '../attachSession'
import { API, isBrowser } from './harness'

// The heap is compared after a full collection, so that garbage is not counted.
setFlagsFromString('--expose-gc')
const heap = () => {
  ;(runInNewContext('gc') as () => void)()
  return process.memoryUsage().heapUsed
}

const TOTAL = 20_000
const BATCH = 250

describe.skipIf(isBrowser)('fault soak', () => {
  const auth = createAuthServer()
  const msw = setupServer(...authHandlers(auth, { baseUrl: API }))
  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
  afterAll(() => msw.close())

  it(`${TOTAL} requests with random faults: all settled, 0 lost, 0 untyped errors, heap bounded`, async () => {
    // A fixed seed: the same faults on every run.
    let seed = 15
    const random = () =>
      ((seed = (seed * 48_271) % 2_147_483_647) - 1) / 2_147_483_646
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!
    const faults: Array<Record<string, unknown>> = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 500 },
      { kind: 'network-error' },
      { kind: 'malformed' },
      { kind: 'hang' },
      { kind: 'drop-after-rotate' },
    ]
    const session = createSession({
      ...oauth2Client({ baseUrl: API }),
      refreshTimeoutMs: 250,
      retry: { attempts: 1, baseDelayMs: 1 },
    })
    await session.login(DEFAULT_USER)
    const api = axios.create({ baseURL: API })
    attachSession(api, session)

    const outcomes = { ok: 0, http: 0, tokenflight: 0, untyped: 0 }
    let settled = 0
    // Heap after a full collection at each quarter: bounded means it stops growing.
    const heaps: number[] = []
    const started = performance.now()
    for (let sent = 0; sent < TOTAL; sent += BATCH) {
      if (
        session.getSnapshot().status === 'expired' ||
        !session.getSnapshot().tokens
      )
        await session.login(DEFAULT_USER)
      if (random() < 0.5) auth.expireAccessTokens()
      if (random() < 0.5)
        auth.inject({ endpoint: 'refresh', ...pick(faults) } as Fault)
      if (random() < 0.5)
        auth.inject({
          endpoint: 'me',
          times: 5,
          ...pick(faults.slice(0, 3)),
        } as Fault)
      const batch = Array.from({ length: BATCH }, () =>
        api.get('/me').then(
          () => void outcomes.ok++,
          (error: unknown) =>
            void (isAxiosError(error)
              ? outcomes.http++
              : isTokenflightError(error)
                ? outcomes.tokenflight++
                : outcomes.untyped++),
        ),
      )
      await Promise.all(batch)
      settled += batch.length
      if ((sent + BATCH) % (TOTAL / 4) === 0) heaps.push(heap())
    }
    const mb = heaps.map((h) => +(h / 1e6).toFixed(1))
    const seconds = (performance.now() - started) / 1000
    console.info(
      `soak: ${settled} requests in ${seconds.toFixed(1)} s`,
      outcomes,
      `refreshes ${auth.stats.refreshes}, heap MB by quarter ${mb.join(' ')}`,
    )
    expect(settled).toBe(TOTAL)
    expect(outcomes.ok + outcomes.http + outcomes.tokenflight).toBe(TOTAL)
    expect(outcomes.untyped).toBe(0)
    expect(outcomes.ok).toBeGreaterThan(TOTAL / 2)
    // The last half: about 10 MB here, of which about 7 MB with bare axios (no
    // tokenflight) against the same MSW handlers and mock server. A bound, not flatness:
    // a leak of 1.6 kB a request or more fails it.
    expect(heaps[3]! - heaps[1]!).toBeLessThan(16e6)
    // The time is printed, not asserted: timings belong to bench/, and a busy CI machine
    // must not fail a correct run (about 30–50 s here; bounded by the test's timeout).
  }, 180_000)
})
