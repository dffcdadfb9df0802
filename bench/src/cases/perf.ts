import { createAuthServer } from '@tokenflight/mock-server'
import { login } from '../contenders.ts'
import type { Client, Contender, ContenderId } from '../contenders.ts'
import { Transport } from '../transport.ts'
import { deferred, median, rotate, settle, waitFor } from '../util.ts'
import {
  BASE_URL,
  burst,
  fetchTodos,
  memoryRig,
  served,
  settleAll,
} from './setup.ts'

export type HappyRow = {
  contender: ContenderId
  runs: number
  requests: number
  /** Median requests per second. */
  rps: number
  minRps: number
  maxRps: number
  /** Median rps / bare axios' median rps. */
  ratio: number
}

/**
 * Case 4: requests per second with a valid token through the in-memory
 * adapter. One server, one client per contender, `concurrency` requests in
 * flight at a time; contenders alternate, one warm-up pass is discarded.
 */
export async function happyPathCase(
  all: readonly Contender[],
  requests: number,
  concurrency: number,
  runs: number,
): Promise<HappyRow[]> {
  const server = createAuthServer()
  const transport = new Transport(server)
  const wire = { baseURL: BASE_URL, adapter: transport.adapter }
  const clients = new Map<ContenderId, Client>()
  for (const contender of all)
    clients.set(contender.id, await contender.create(wire, await login(wire)))

  const samples = new Map<ContenderId, number[]>(all.map((c) => [c.id, []]))
  for (let run = -1; run < runs; run++) {
    for (const contender of rotate(all, run + 1)) {
      const client = clients.get(contender.id)!
      let ok = 0
      const start = performance.now()
      for (let sent = 0; sent < requests; sent += concurrency) {
        const wave = await burst(client, Math.min(concurrency, requests - sent))
        ok += served(wave)
      }
      const seconds = (performance.now() - start) / 1000
      if (ok !== requests)
        throw new Error(
          `bench: ${contender.id} served ${ok}/${requests} on the happy path`,
        )
      if (run >= 0) samples.get(contender.id)!.push(requests / seconds)
      await settle(1)
    }
  }
  for (const client of clients.values()) client.detach()
  const bare = median(samples.get('bare') ?? [])
  return all.map((c) => {
    const rps = samples.get(c.id)!
    return {
      contender: c.id,
      runs,
      requests,
      rps: median(rps),
      minRps: Math.min(...rps),
      maxRps: Math.max(...rps),
      ratio: median(rps) / bare,
    }
  })
}

export type DrainRow = {
  contender: ContenderId
  n: number
  runs: number
  /** Bare axios: wall time of n valid requests. Others: refresh answer → last retried success. */
  drainMs: number
  /** Time the server took to answer the refresh once released. */
  refreshLatencyMs: number
  minServed: number
}

/**
 * Case 5: n requests get 401 and park on a held refresh; once released, the
 * time from the refresh answer to the last retried success. Reference: bare
 * axios sending n valid requests at once.
 */
export async function drainCase(
  all: readonly Contender[],
  n: number,
  runs: number,
): Promise<DrainRow[]> {
  const samples = new Map<
    ContenderId,
    { drain: number[]; latency: number[]; minServed: number }
  >(all.map((c) => [c.id, { drain: [], latency: [], minServed: Infinity }]))
  for (let run = 0; run < runs; run++) {
    for (const contender of rotate(all, run)) {
      const { server, transport, client } = await memoryRig(contender)
      const sample = samples.get(contender.id)!
      if (!contender.refreshes) {
        await settle()
        const start = performance.now()
        const outcomes = await burst(client, n)
        sample.drain.push(performance.now() - start)
        sample.minServed = Math.min(sample.minServed, served(outcomes))
        client.detach()
        continue
      }
      server.expireAccessTokens()
      const gate = deferred()
      server.inject({
        endpoint: 'refresh',
        kind: 'gate',
        until: gate.promise,
        times: n,
      })
      const pending = Array.from({ length: n }, () => fetchTodos(client))
      await waitFor(
        () => transport.unauthorizedDelivered >= n,
        `${n} 401s`,
      ).catch(() => {})
      await settle()
      const released = performance.now()
      gate.resolve()
      const outcomes = await settleAll(pending)
      const answered = transport.refreshResponses[0]!
      const arrived = transport.refreshArrivals[0]!
      const successes = outcomes.filter((o) => o.ok).map((o) => o.at)
      sample.drain.push(
        successes.length ? Math.max(...successes) - answered : Number.NaN,
      )
      sample.latency.push(answered - Math.max(arrived, released))
      sample.minServed = Math.min(sample.minServed, served(outcomes))
      client.detach()
    }
  }
  return all.map((c) => {
    const s = samples.get(c.id)!
    return {
      contender: c.id,
      n,
      runs,
      drainMs: median(s.drain),
      refreshLatencyMs: median(s.latency),
      minServed: s.minServed,
    }
  })
}
