import { createAuthServer } from '@tokenflight/mock-server'
import type { AuthServer } from '@tokenflight/mock-server'
import { login } from '../contenders.ts'
import type { Client, Contender, TokenBody } from '../contenders.ts'
import { Transport } from '../transport.ts'

export const BASE_URL = 'http://api.test'

/** A fresh server, the contender's client logged in through the in-memory adapter. */
export type MemoryRig = {
  server: AuthServer
  transport: Transport
  client: Client
  tokens: TokenBody
}

export async function memoryRig(contender: Contender): Promise<MemoryRig> {
  const server = createAuthServer()
  const transport = new Transport(server)
  const wire = { baseURL: BASE_URL, adapter: transport.adapter }
  const tokens = await login(wire)
  const client = await contender.create(wire, tokens)
  return { server, transport, client, tokens }
}

/** Refresh calls that reached the server, granted or not. */
export function refreshCalls(server: AuthServer): number {
  const { refreshes, failedRefreshes } = server.stats
  return refreshes + failedRefreshes
}

/** `hung`: still pending when the case gave up on it (see `settleAll`). */
export type Outcome = { ok: boolean; at: number; hung?: true }

/** A request that never settles must not hang the whole bench: after `timeoutMs` it counts as failed. */
export const REQUEST_DEADLINE_MS = 60_000

export async function settleAll(
  pending: ReadonlyArray<Promise<Outcome>>,
  timeoutMs = REQUEST_DEADLINE_MS,
): Promise<Outcome[]> {
  const outcomes: Array<Outcome | undefined> = new Array(pending.length)
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.all(pending.map((p, i) => p.then((o) => (outcomes[i] = o)))),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ])
  clearTimeout(timer)
  return Array.from(
    outcomes,
    (o) => o ?? { ok: false, at: Number.NaN, hung: true as const },
  )
}

/** GET /todos; never rejects, so one failure cannot hide the others. */
export function fetchTodos(
  client: Client,
  headers?: Record<string, string>,
): Promise<Outcome> {
  return client.http.get('/todos', headers ? { headers } : {}).then(
    () => ({ ok: true, at: performance.now() }),
    () => ({ ok: false, at: performance.now() }),
  )
}

export function burst(client: Client, n: number): Promise<Outcome[]> {
  return settleAll(Array.from({ length: n }, () => fetchTodos(client)))
}

export const served = (outcomes: readonly Outcome[]) =>
  outcomes.filter((o) => o.ok).length

export const hung = (outcomes: readonly Outcome[]) =>
  outcomes.filter((o) => o.hung).length
