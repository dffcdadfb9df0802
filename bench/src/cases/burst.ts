import type { Contender, ContenderId } from '../contenders.ts'
import {
  deferred,
  heapUsedAfterGc,
  median,
  progress,
  rotate,
  waitFor,
} from '../util.ts'
import {
  burst,
  fetchTodos,
  memoryRig,
  refreshCalls,
  served,
  settleAll,
} from './setup.ts'

export type BurstRow = {
  contender: ContenderId
  n: number
  runs: number
  /** Worst run: most refresh calls, fewest served; medians for time. */
  maxRefreshCalls: number
  minServed: number
  reuseDetections: number
  wallMs: number
}

/** Case 1: N concurrent requests with a stale token, in memory. */
export async function burstCase(
  all: readonly Contender[],
  sizes: readonly number[],
  runsFor: (n: number) => number,
): Promise<BurstRow[]> {
  const rows: BurstRow[] = []
  for (const n of sizes) {
    const runs = runsFor(n)
    const samples = new Map<ContenderId, BurstRow & { walls: number[] }>()
    for (let run = 0; run < runs; run++) {
      for (const contender of rotate(all, run)) {
        const { server, client } = await memoryRig(contender)
        // Bare axios keeps a valid token: it is the reference wall time.
        if (contender.refreshes) server.expireAccessTokens()
        const start = performance.now()
        const outcomes = await burst(client, n)
        const wall = performance.now() - start
        const row = samples.get(contender.id) ?? {
          contender: contender.id,
          n,
          runs,
          maxRefreshCalls: 0,
          minServed: Infinity,
          reuseDetections: 0,
          wallMs: 0,
          walls: [],
        }
        row.maxRefreshCalls = Math.max(
          row.maxRefreshCalls,
          refreshCalls(server),
        )
        row.minServed = Math.min(row.minServed, served(outcomes))
        row.reuseDetections = Math.max(
          row.reuseDetections,
          server.stats.reuseDetections,
        )
        row.walls.push(wall)
        samples.set(contender.id, row)
        progress.log(`burst N=${n} ${contender.id}: ${wall.toFixed(0)} ms`)
        client.detach()
      }
    }
    for (const contender of all) {
      const { walls, ...row } = samples.get(contender.id)!
      rows.push({ ...row, wallMs: median(walls) })
    }
  }
  return rows
}

export type HeapRow = {
  contender: ContenderId
  n: number
  runs: number
  /** Median over runs of (heap while parked − heap before) / requests still waiting. */
  bytesPerWaiting: number
  /** Fewest requests still waiting when the heap was measured. */
  minWaiting: number
  minServed: number
}

/**
 * Case 1, heap: N requests parked on a gated refresh (bare axios: on a gated
 * resource), heap measured after full GCs before and while they wait.
 */
export async function heapCase(
  all: readonly Contender[],
  sizes: readonly number[],
  runs: number,
): Promise<HeapRow[]> {
  const rows: HeapRow[] = []
  for (const n of sizes) {
    const samples = new Map<
      ContenderId,
      { perWaiting: number[]; minWaiting: number; minServed: number }
    >()
    for (let run = 0; run < runs; run++) {
      for (const contender of rotate(all, run)) {
        const { server, transport, client } = await memoryRig(contender)
        const gate = deferred()
        if (contender.refreshes) {
          server.expireAccessTokens()
          // Enough gates for a contender that refreshes once per request.
          server.inject({
            endpoint: 'refresh',
            kind: 'gate',
            until: gate.promise,
            times: n,
          })
        } else {
          server.inject({
            endpoint: 'todos',
            kind: 'gate',
            until: gate.promise,
            times: n,
          })
        }
        let settled = 0
        const before = await heapUsedAfterGc()
        const pending = Array.from({ length: n }, () =>
          fetchTodos(client).then((outcome) => {
            settled++
            return outcome
          }),
        )
        if (contender.refreshes)
          await waitFor(
            () => transport.unauthorizedDelivered >= n,
            `${n} 401s`,
          ).catch(() => {})
        else
          await waitFor(
            () => server.stats.faults >= n,
            `${n} gated requests`,
          ).catch(() => {})
        const after = await heapUsedAfterGc()
        const waiting = n - settled
        gate.resolve()
        const ok = served(await settleAll(pending))
        const sample = samples.get(contender.id) ?? {
          perWaiting: [],
          minWaiting: Infinity,
          minServed: Infinity,
        }
        if (waiting > 0) sample.perWaiting.push((after - before) / waiting)
        sample.minWaiting = Math.min(sample.minWaiting, waiting)
        sample.minServed = Math.min(sample.minServed, ok)
        samples.set(contender.id, sample)
        progress.log(
          `heap N=${n} ${contender.id}: ${((after - before) / Math.max(waiting, 1)).toFixed(0)} B/waiting`,
        )
        client.detach()
      }
    }
    for (const contender of all) {
      const s = samples.get(contender.id)!
      rows.push({
        contender: contender.id,
        n,
        runs,
        bytesPerWaiting: median(s.perWaiting),
        minWaiting: s.minWaiting,
        minServed: s.minServed,
      })
    }
  }
  return rows
}
