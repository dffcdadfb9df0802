// redisStorage across real processes: 8 workers (child_process.fork), each with its own
// node-redis client, share one key against the mock auth server's node:http server with
// strict rotation (reuse interval 0), and a real redis-server that the tests stop and start.
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  startFleet,
  tally,
  type Fleet,
  type FleetOptions,
} from '../../../node/src/__tests__/fleet/fleet'
import {
  PROCESSES,
  REQUESTS,
  expiryCycle,
  expiryCycles,
  killLockHolder,
  logoutInOne,
  problems,
  proactiveCycles,
} from '../../../node/src/__tests__/fleet/scenarios'
import { startRedisServer, type RedisServer } from './redisServer'

const storageModule = fileURLToPath(
  new URL('./fleet/redisFleetStorage.ts', import.meta.url),
)
const REFRESH_TIMEOUT_MS = 5_000
const LOCK_TTL_MS = 2_000

let redis: RedisServer
let fleet: Fleet | undefined
let n = 0
beforeAll(async () => {
  redis = await startRedisServer()
}, 30_000)
afterAll(async () => {
  await redis?.close()
})
afterEach(async () => {
  await fleet?.close()
  fleet = undefined
  await redis.start()
})

const start = async (
  options: Partial<FleetOptions> = {},
  storage: Record<string, unknown> = {},
) =>
  (fleet = await startFleet({
    size: PROCESSES,
    storage: {
      module: storageModule,
      options: {
        url: redis.url,
        key: `fleet:${++n}`,
        lockTtlMs: LOCK_TTL_MS,
        ...storage,
      },
    },
    refreshTimeoutMs: REFRESH_TIMEOUT_MS,
    ...options,
  }))

describe(`redisStorage shared by ${PROCESSES} processes`, () => {
  it('3 expiry cycles × 10 concurrent requests each: 3 refreshes, 0 reuse, 240/240 served', async () => {
    await expiryCycles(await start())
  })

  it('proactive refresh, every process inside the leeway at once: 1 refresh per cycle', async () => {
    await proactiveCycles(
      await start({
        server: { accessTokenTtlSec: 60 },
        refreshLeewayMs: 30_000,
      }),
      40_000,
    )
  })

  it(`SIGKILL of the lock holder mid-refresh: the others are served within refreshTimeoutMs + lockTtlMs (${REFRESH_TIMEOUT_MS} + ${LOCK_TTL_MS} ms), 0 reuse, the next cycle is not held up`, async () => {
    const fleet = await start()
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    try {
      await killLockHolder(fleet, {
        refreshTimeoutMs: REFRESH_TIMEOUT_MS,
        staleMs: LOCK_TTL_MS,
        leftovers: async () => client.keys(`fleet:${n}:lock*`),
      })
    } finally {
      client.destroy()
    }
  })

  it('logout in one process: the others sign out within a second, nobody refreshes with the dead token', async () => {
    await logoutInOne(await start())
  })

  it('Redis stopped for 2 s mid-run and restarted (empty): typed errors meanwhile, recovery after, 0 reuse', async () => {
    const fleet = await start(
      { refreshTimeoutMs: 3_000, retry: { attempts: 1, baseDelayMs: 100 } },
      { commandTimeoutMs: 500 },
    )
    const first = await expiryCycle(fleet)
    expect(first).toMatchObject({ served: PROCESSES * REQUESTS, refreshes: 1 })

    await redis.stop()
    const down = performance.now()
    fleet.server.expireAccessTokens()
    const during = tally(await fleet.burst(REQUESTS))
    // Nothing hangs: each request failed within the refresh's bounds, with a typed cause.
    expect(performance.now() - down).toBeLessThan(2 * 3_000)
    expect(during.served).toBe(0)
    expect(during.errors).toHaveLength(PROCESSES * REQUESTS)
    for (const error of new Set(during.errors))
      expect(error).toMatch(
        /^RefreshError<StorageError<RedisStorageError:unavailable/,
      )
    // No refresh reached the auth server without the lock.
    expect(fleet.server.stats.refreshes).toBe(1)
    const outage = 2_000 - (performance.now() - down)
    if (outage > 0) await new Promise((r) => setTimeout(r, outage))
    await redis.start()

    // Back: every process is served again once its client has reconnected…
    await expect
      .poll(async () => tally(await fleet.burst(1)).served, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(PROCESSES)
    // …by one refresh (Redis came back empty: the first holder wrote the tokens again).
    expect(fleet.server.stats.refreshes).toBe(2)
    const after = await expiryCycle(fleet)
    expect(after).toMatchObject({
      served: PROCESSES * REQUESTS,
      refreshes: 1,
      errors: [],
    })
    expect(fleet.server.stats).toMatchObject({
      failedRefreshes: 0,
      reuseDetections: 0,
    })
    expect(problems(fleet)).toEqual([])
  })
})
