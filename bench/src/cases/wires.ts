import { setupServer } from 'msw/node'
import { authHandlers, createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer } from '@tokenflight/mock-server'
import { startAuthServer } from '@tokenflight/mock-server/node'
import { login } from '../contenders.ts'
import type { Contender, ContenderId, Wire } from '../contenders.ts'
import { median, rotate } from '../util.ts'
import { BASE_URL, burst, refreshCalls, served } from './setup.ts'

export type WireKind = 'msw' | 'http'

export type WireRow = {
  wire: WireKind
  contender: ContenderId
  n: number
  runs: number
  maxRefreshCalls: number
  minServed: number
  reuseDetections: number
  wallMs: number
}

async function burstOver(
  contender: Contender,
  server: AuthServer,
  wire: Wire,
  n: number,
) {
  const client = await contender.create(wire, await login(wire))
  if (contender.refreshes) server.expireAccessTokens()
  const start = performance.now()
  const outcomes = await burst(client, n)
  const wallMs = performance.now() - start
  client.detach()
  return {
    wallMs,
    served: served(outcomes),
    refreshCalls: refreshCalls(server),
    reuse: server.stats.reuseDetections,
  }
}

/**
 * Case 1 again, over axios' own Node adapter: through MSW's `setupServer`
 * with the mock server's handlers, and over real loopback sockets to its
 * `node:http` server. Same contenders, same counters.
 */
export async function wireCase(
  all: readonly Contender[],
  n: number,
  runs: number,
): Promise<WireRow[]> {
  const rows: WireRow[] = []
  const collect = async (
    kind: WireKind,
    open: (
      server: AuthServer,
    ) => Promise<{ wire: Wire; close: () => Promise<void> }>,
  ) => {
    const samples = new Map<ContenderId, WireRow & { walls: number[] }>()
    for (let run = 0; run < runs; run++) {
      for (const contender of rotate(all, run)) {
        const server = createAuthServer()
        const { wire, close } = await open(server)
        try {
          const r = await burstOver(contender, server, wire, n)
          const row = samples.get(contender.id) ?? {
            wire: kind,
            contender: contender.id,
            n,
            runs,
            maxRefreshCalls: 0,
            minServed: Infinity,
            reuseDetections: 0,
            wallMs: 0,
            walls: [],
          }
          row.maxRefreshCalls = Math.max(row.maxRefreshCalls, r.refreshCalls)
          row.minServed = Math.min(row.minServed, r.served)
          row.reuseDetections = Math.max(row.reuseDetections, r.reuse)
          row.walls.push(r.wallMs)
          samples.set(contender.id, row)
        } finally {
          await close()
        }
      }
    }
    for (const contender of all) {
      const { walls, ...row } = samples.get(contender.id)!
      rows.push({ ...row, wallMs: median(walls) })
    }
  }

  const msw = setupServer()
  msw.listen({ onUnhandledRequest: 'error' })
  try {
    await collect('msw', async (server) => {
      msw.resetHandlers(...authHandlers(server, { baseUrl: BASE_URL }))
      return { wire: { baseURL: BASE_URL }, close: async () => {} }
    })
  } finally {
    msw.close()
  }

  await collect('http', async (server) => {
    const running = await startAuthServer(server, {
      port: 0,
      host: '127.0.0.1',
    })
    return { wire: { baseURL: running.url }, close: () => running.close() }
  })
  return rows
}
