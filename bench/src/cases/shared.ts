// Case 6 — one refresh token shared by P real processes (child_process.fork), each running
// createSession + oauth2Client + @tokenflight/axios against the mock server's node:http
// server (strict rotation, reuse interval 0), with fileStorage, redisStorage (a real
// redis-server on 127.0.0.1, persistence off), or the default memory storage: each process
// its own copy of the same tokens, which is today's behaviour without a shared storage.
//
// The fleet harness and the Redis helper are the multi-process tests' own
// (packages/node/src/__tests__/fleet, packages/redis/src/__tests__/redisServer.ts).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  startFleet,
  tally,
  type FleetStorage,
} from '../../../packages/node/src/__tests__/fleet/fleet.ts'
import { startRedisServer } from '../../../packages/redis/src/__tests__/redisServer.ts'
import { median, progress } from '../util.ts'

export type SharedStorageKind = 'memory' | 'file' | 'redis'

export type SharedRow = {
  storage: SharedStorageKind
  processes: number
  cycles: number
  /** Refresh calls that reached the server (granted + refused), per cycle. */
  refreshCalls: number[]
  reuseDetections: number
  served: number
  requests: number
  /**
   * The process that made the network call, per cycle: lock wait + lock hold − its network
   * refresh, i.e. acquire + re-read + compare-and-set write.
   */
  refresherAddedMs: number[]
  /**
   * Every other process, per cycle: from the start of the refresh's write to the moment it had the new
   * tokens (through the lock or through watch, whichever came first): the hand-off.
   */
  handOffMs: number[]
  /** Storage reads during the happy-path bursts (valid token): the request path reads none. */
  happyReads: number
  happyRequests: number
  /** Median wall time of a happy-path burst in one process. */
  happyBurstMs: number
}

const fileModule = fileURLToPath(
  new URL(
    '../../../packages/node/src/__tests__/fleet/fileFleetStorage.ts',
    import.meta.url,
  ),
)
const redisModule = fileURLToPath(
  new URL(
    '../../../packages/redis/src/__tests__/fleet/redisFleetStorage.ts',
    import.meta.url,
  ),
)

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ]!
}

export async function sharedCase(plan: {
  processes: number[]
  cycles: number
  requests: number
  happyBursts: number
}): Promise<SharedRow[]> {
  const rows: SharedRow[] = []
  const redis = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'tokenflight-bench-shared-'))
  let run = 0
  try {
    for (const processes of plan.processes)
      for (const storage of ['memory', 'file', 'redis'] as const) {
        run++
        const storageOption: FleetStorage | undefined =
          storage === 'file'
            ? {
                module: fileModule,
                options: { path: join(dir, `tokens-${run}.json`) },
              }
            : storage === 'redis'
              ? {
                  module: redisModule,
                  options: { url: redis.url, key: `bench:${run}` },
                }
              : undefined
        const starting = performance.now()
        const fleet = await startFleet({
          size: processes,
          ...(storageOption && { storage: storageOption }),
          refreshTimeoutMs: 10_000,
          readyTimeoutMs: 120_000,
        })
        const startMs = performance.now() - starting
        try {
          // Happy path first, with the valid token everyone starts with.
          let happyReads = 0
          let happyRequests = 0
          const happyMs: number[] = []
          // A warm-up burst, not counted: it also absorbs the one read each process makes
          // when its watch goes live at start-up (not a read per request).
          await fleet.burst(plan.requests)
          for (let i = 0; i < plan.happyBursts; i++) {
            const results = await fleet.burst(plan.requests)
            happyReads += tally(results).gets
            happyRequests += results.length * plan.requests
            happyMs.push(...results.map((r) => r.ms))
          }
          const refreshCalls: number[] = []
          const refresherAddedMs: number[] = []
          const handOffMs: number[] = []
          let served = 0
          for (let cycle = 0; cycle < plan.cycles; cycle++) {
            const stats = fleet.server.stats
            const before = stats.refreshes + stats.failedRefreshes
            const marks = fleet.workers.map((w) => [
              w.locks.length,
              w.events.length,
            ])
            fleet.server.expireAccessTokens()
            served += tally(await fleet.burst(plan.requests)).served
            const after = fleet.server.stats
            refreshCalls.push(after.refreshes + after.failedRefreshes - before)
            const refresher = fleet.workers
              .flatMap((w, i) => w.locks.slice(marks[i]![0]))
              .find((t) => t.refreshed)
            if (!refresher) continue
            refresherAddedMs.push(
              refresher.waitMs + refresher.holdMs - refresher.networkMs,
            )
            for (const [i, w] of fleet.workers.entries()) {
              const adopted = w.events
                .slice(marks[i]![1])
                .find((e) => e.event === 'adopted')
              if (adopted?.time)
                handOffMs.push(adopted.time - refresher.writtenAt)
            }
          }
          const row: SharedRow = {
            storage,
            processes,
            cycles: plan.cycles,
            refreshCalls,
            reuseDetections: fleet.server.stats.reuseDetections,
            served,
            requests: plan.cycles * processes * plan.requests,
            refresherAddedMs,
            handOffMs,
            happyReads,
            happyRequests,
            happyBurstMs: median(happyMs),
          }
          rows.push(row)
          progress.log(
            `${storage} P=${processes} (started in ${(startMs / 1000).toFixed(1)} s): refresh calls ${refreshCalls.join('/')}, reuse ${row.reuseDetections}, served ${served}/${row.requests}`,
          )
        } finally {
          await fleet.close()
        }
      }
  } finally {
    await redis.close()
    await rm(dir, { recursive: true, force: true })
  }
  return rows
}
