import type { Contender, ContenderId } from '../contenders.ts'
import { TAG_HEADER } from '../transport.ts'
import { deferred, rotate, settle, waitFor } from '../util.ts'
import {
  fetchTodos,
  memoryRig,
  refreshCalls,
  served,
  settleAll,
} from './setup.ts'

export type RaceRow = {
  contender: ContenderId
  requests: number
  runs: number
  /** Worst run. */
  maxRefreshCalls: number
  minServed: number
  reuseDetections: number
  /** Case 3 only: requests issued during the refresh that reached the server with the old token. */
  maxOldToken?: number
}

function track(rows: Map<ContenderId, RaceRow>, row: RaceRow) {
  const prev = rows.get(row.contender)
  if (!prev) return rows.set(row.contender, row)
  prev.maxRefreshCalls = Math.max(prev.maxRefreshCalls, row.maxRefreshCalls)
  prev.minServed = Math.min(prev.minServed, row.minServed)
  prev.reuseDetections = Math.max(prev.reuseDetections, row.reuseDetections)
  if (row.maxOldToken !== undefined)
    prev.maxOldToken = Math.max(prev.maxOldToken ?? 0, row.maxOldToken)
  return rows
}

/**
 * Case 2: a batch is sent with a stale token; the first 401 comes back at
 * once, the other 401s are held until the refresh it triggers has completed
 * (the retried first request was served), then all arrive late.
 */
export async function late401Case(
  all: readonly Contender[],
  batch: number,
  runs: number,
): Promise<RaceRow[]> {
  const rows = new Map<ContenderId, RaceRow>()
  for (let run = 0; run < runs; run++) {
    for (const contender of rotate(all, run)) {
      const { server, transport, client } = await memoryRig(contender)
      server.expireAccessTokens()
      const refreshed = deferred()
      let first = true
      transport.holdResponses((path, status) => {
        if (path !== '/todos' || status !== 401) return false
        if (!first) return true
        first = false
        return false
      }, refreshed.promise)
      const pending = Array.from({ length: batch }, () => fetchTodos(client))
      // Every request of the batch has been answered 401 (some are held back)...
      await waitFor(() => server.stats.unauthorized >= batch, 'the batch')
      // ...and the refresh is over: the first request was retried and served.
      await waitFor(
        () => server.stats.served >= 1,
        'the first retry',
        5_000,
      ).catch(() => {})
      await settle()
      refreshed.resolve()
      const outcomes = await settleAll(pending)
      track(rows, {
        contender: contender.id,
        requests: batch,
        runs,
        maxRefreshCalls: refreshCalls(server),
        minServed: served(outcomes),
        reuseDetections: server.stats.reuseDetections,
      })
      client.detach()
    }
  }
  return all.map((c) => rows.get(c.id)!)
}

/**
 * Case 3: one request triggers a refresh that is held at the server; while it
 * is held, `batch` more requests are issued. Counts those that reached the
 * server carrying the access token that was current before the refresh.
 */
export async function duringRefreshCase(
  all: readonly Contender[],
  batch: number,
  runs: number,
): Promise<RaceRow[]> {
  const rows = new Map<ContenderId, RaceRow>()
  for (let run = 0; run < runs; run++) {
    for (const contender of rotate(all, run)) {
      const { server, transport, client, tokens } = await memoryRig(contender)
      const oldAuthorization = `Bearer ${tokens.access_token}`
      server.expireAccessTokens()
      const gate = deferred()
      // Every refresh call made before the release waits, not just the first.
      server.inject({
        endpoint: 'refresh',
        kind: 'gate',
        until: gate.promise,
        times: batch + 1,
      })
      transport.record = true
      const trigger = fetchTodos(client, { [TAG_HEADER]: 'trigger' })
      await waitFor(() => server.stats.faults >= 1, 'the refresh at the gate')
      const during = Array.from({ length: batch }, () =>
        fetchTodos(client, { [TAG_HEADER]: 'during' }),
      )
      // Whatever does not wait for the refresh reaches the server now.
      await settle(20)
      gate.resolve()
      const outcomes = await settleAll([trigger, ...during])
      // A retry carries a newer token, so each entry is one request's first attempt.
      const oldToken = transport.seen.filter(
        (seen) =>
          seen.tag === 'during' && seen.authorization === oldAuthorization,
      ).length
      track(rows, {
        contender: contender.id,
        requests: batch,
        runs,
        maxRefreshCalls: refreshCalls(server),
        minServed: served(outcomes),
        reuseDetections: server.stats.reuseDetections,
        maxOldToken: oldToken,
      })
      client.detach()
    }
  }
  return all.map((c) => rows.get(c.id)!)
}
