import { createAuthServer } from '@tokenflight/mock-server'
import { login } from '../contenders.ts'
import type { AxiosAdapter } from 'axios'
import type {
  Client,
  Contender,
  ContenderId,
  TokenBody,
} from '../contenders.ts'
import { Transport } from '../transport.ts'
import {
  deferred,
  median,
  progress,
  quantile,
  rotate,
  seededRandom,
  settle,
  shuffle,
  waitFor,
} from '../util.ts'
import {
  BASE_URL,
  burst,
  fetchTodos,
  memoryRig,
  served,
  settleAll,
} from './setup.ts'

const noopAdapter: AxiosAdapter = async (config) => ({
  data: '[]',
  status: 200,
  statusText: 'OK',
  headers: {},
  config,
  request: {},
})

const fakeTokens: TokenBody = {
  access_token: 'header.payload.signature',
  refresh_token: 'refresh',
  token_type: 'bearer',
  expires_in: 900,
}

export type HappyRow = {
  contender: ContenderId
  runs: number
  /** Requests per contender per run. */
  requests: number
  /** Median requests per second over runs (wall clock). */
  rps: number
  minRps: number
  maxRps: number
  /** Median over runs of (this contender's rps / bare axios' rps in the same run). */
  ratio: number
  /** Interquartile range of the per-run ratios. */
  p25Ratio: number
  p75Ratio: number
}

/**
 * Case 4: requests per second with a valid token through the in-memory
 * adapter. One server, one client per contender. A run sends `requests` per
 * contender in waves of `concurrency`; before every wave the contenders are
 * shuffled (seeded), so that neither a noisy neighbour nor the garbage
 * collector's rhythm (a scavenge every few waves) lines up with one of them.
 * Each contender's time is the sum of its own waves; ratios are paired with
 * bare axios in the same run. One warm-up run is dropped.
 */
export async function happyPathCase(
  all: readonly Contender[],
  requests: number,
  concurrency: number,
  runs: number,
  serverless = false,
): Promise<HappyRow[]> {
  const clients = new Map<ContenderId, Client>()
  if (serverless) {
    // No server at all: what is left is each client's own cost per request.
    const wire = { baseURL: BASE_URL, adapter: noopAdapter }
    for (const contender of all)
      clients.set(contender.id, await contender.create(wire, fakeTokens))
  } else {
    const transport = new Transport(createAuthServer())
    const wire = { baseURL: BASE_URL, adapter: transport.adapter }
    for (const contender of all)
      clients.set(contender.id, await contender.create(wire, await login(wire)))
  }

  const random = seededRandom(0x7f4a7c15)
  const rps = new Map<ContenderId, number[]>(all.map((c) => [c.id, []]))
  const ratios = new Map<ContenderId, number[]>(all.map((c) => [c.id, []]))
  const waves = Math.ceil(requests / concurrency)
  for (let run = -1; run < runs; run++) {
    const elapsed = new Map<ContenderId, number>(all.map((c) => [c.id, 0]))
    for (let wave = 0; wave < waves; wave++) {
      for (const contender of shuffle(all, random)) {
        const client = clients.get(contender.id)!
        const start = performance.now()
        const outcomes = await burst(client, concurrency)
        elapsed.set(
          contender.id,
          elapsed.get(contender.id)! + performance.now() - start,
        )
        if (served(outcomes) !== concurrency)
          throw new Error(`bench: ${contender.id} failed on the happy path`)
      }
    }
    if (run < 0) continue
    const sent = waves * concurrency
    const bare = elapsed.get('bare')!
    for (const contender of all) {
      rps.get(contender.id)!.push(sent / (elapsed.get(contender.id)! / 1000))
      ratios.get(contender.id)!.push(bare / elapsed.get(contender.id)!)
    }
    progress.log(
      `${serverless ? 'no-op adapter' : 'happy'} run ${run + 1}: ${all
        .map((c) => `${c.id} ${ratios.get(c.id)!.at(-1)!.toFixed(3)}×`)
        .join(', ')}`,
    )
    await settle(1)
  }
  for (const client of clients.values()) client.detach()
  return all.map((c) => {
    const r = rps.get(c.id)!
    const q = ratios.get(c.id)!
    return {
      contender: c.id,
      runs,
      requests: waves * concurrency,
      rps: median(r),
      minRps: Math.min(...r),
      maxRps: Math.max(...r),
      ratio: median(q),
      p25Ratio: quantile(q, 0.25),
      p75Ratio: quantile(q, 0.75),
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
      progress.log(
        `drain ${contender.id}: ${sample.drain.at(-1)!.toFixed(0)} ms`,
      )
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
