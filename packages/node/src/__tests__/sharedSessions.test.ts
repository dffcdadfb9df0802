// fileStorage across real processes: 8 workers (child_process.fork) share one token file
// against the mock auth server's node:http server with strict rotation (reuse interval 0).
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startFleet, type Fleet, type FleetOptions } from './fleet/fleet'
import {
  PROCESSES,
  expiryCycles,
  killLockHolder,
  logoutInOne,
  proactiveCycles,
} from './fleet/scenarios'

const storageModule = fileURLToPath(
  new URL('./fleet/fileFleetStorage.ts', import.meta.url),
)
const REFRESH_TIMEOUT_MS = 5_000
const STALE_MS = 2_000

let dir: string
let fleet: Fleet | undefined
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenflight-fleet-file-'))
})
afterEach(async () => {
  await fleet?.close()
  fleet = undefined
  await rm(dir, { recursive: true, force: true })
})

const start = async (options: Partial<FleetOptions> = {}) =>
  (fleet = await startFleet({
    size: PROCESSES,
    storage: {
      module: storageModule,
      options: { path: join(dir, 'tokens.json'), staleMs: STALE_MS },
    },
    refreshTimeoutMs: REFRESH_TIMEOUT_MS,
    ...options,
  }))

describe(`fileStorage shared by ${PROCESSES} processes`, () => {
  it('3 expiry cycles × 10 concurrent requests each: 3 refreshes, 0 reuse, 240/240 served', async () => {
    await expiryCycles(await start())
    // No temp file is left, and the lock is gone (a process whose own refresh was
    // superseded by the tokens it adopted may still be giving it back).
    await expect
      .poll(() => readdir(dir), { timeout: 2_000, interval: 20 })
      .toEqual(['tokens.json'])
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

  it(`SIGKILL of the lock holder mid-refresh: the others are served within refreshTimeoutMs + staleMs (${REFRESH_TIMEOUT_MS} + ${STALE_MS} ms), 0 reuse, the next cycle is not held up`, async () => {
    await killLockHolder(await start(), {
      refreshTimeoutMs: REFRESH_TIMEOUT_MS,
      staleMs: STALE_MS,
      leftovers: async () =>
        (await readdir(dir)).filter((name) => name !== 'tokens.json'),
    })
  })

  it('logout in one process: the others sign out within a second, nobody refreshes with the dead token', async () => {
    await logoutInOne(await start())
  })
})
